/**
 * Checks a batch of journal entries before either store records it (`recordEntries`): every
 * entry belongs to the same run and holder, and none uses the workflow's own step key. A
 * failed check is a bug in the caller, so it throws before anything is written.
 */
import { WeftError } from '../../core/errors.js';
import { WORKFLOW_STEP_KEY, type RecordEntry } from './types.js';

/** The batch's first entry (whose run and holder all share), or undefined for none. */
export function checkEntries(inputs: readonly RecordEntry[]): RecordEntry | undefined {
  const first = inputs[0];
  for (const input of inputs) {
    if (input.entry.key === WORKFLOW_STEP_KEY) {
      throw new WeftError(
        'invalid_entry',
        `a journal entry of run ${input.runId} may not use the key ${WORKFLOW_STEP_KEY}: it is the workflow's own step`,
      );
    }
    if (
      input.runId !== first!.runId ||
      input.workerId !== first!.workerId ||
      input.runAttempt !== first!.runAttempt
    ) {
      throw new WeftError(
        'invalid_entry',
        `recordEntries: every entry must be of one run and holder (run ${first!.runId}, worker ${first!.workerId}, attempt ${first!.runAttempt}); got run ${input.runId}, worker ${input.workerId}, attempt ${input.runAttempt}`,
      );
    }
  }
  return first;
}

/**
 * The last of each group, in the order of those last ones: what applying `items` one by one
 * by key leaves (one statement may not write the same row twice).
 */
export function lastOfEach<T>(items: readonly T[], key: (item: T) => string): T[] {
  const last = new Map<string, T>();
  for (const item of items) {
    const k = key(item);
    last.delete(k);
    last.set(k, item);
  }
  return [...last.values()];
}
