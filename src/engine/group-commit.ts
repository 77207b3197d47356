/**
 * Group commit of step results. Results that arrive in the same turn of the event loop (fan-out
 * items, parallel branches) are recorded in ONE transaction; a lone result (a chain) is
 * recorded at once, with no added latency. The last completion of a batch claims the work the
 * batch made ready, up to the slots the batch frees.
 *
 * At most {@link MAX_IN_FLIGHT} batches are being committed at once: results that arrive
 * meanwhile wait for one to finish and go together in the next, so the slower the store, the
 * larger its batches (a network round trip costs what a row costs many times over).
 *
 * {@link JournalCommit} does the same for workflow journal writes, across runs.
 */
import type { Store } from '../store/contract/store.js';
import type { CompleteStep, RecordEntry, TransitionResult } from '../store/contract/types.js';

const MAX_IN_FLIGHT = 2;

/** One call's results, recorded in order and in one transaction. */
interface Pending {
  inputs: readonly Omit<CompleteStep, 'claimNext'>[];
  resolve: (results: TransitionResult[]) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  readonly #store: Store;
  readonly #running: () => number;
  readonly #claimBudget: (batchSize: number) => { limit: number; leaseMs: number } | null;
  #queue: Pending[] = [];
  #scheduled = false;
  #inFlight = 0;

  /**
   * @param running how many steps this worker runs now (1 or less: the result is alone)
   * @param claimBudget given how many held steps a batch finishes, what it may claim of the
   *   work it makes ready (or null)
   */
  constructor(
    store: Store,
    running: () => number,
    claimBudget: (batchSize: number) => { limit: number; leaseMs: number } | null,
  ) {
    this.#store = store;
    this.#running = running;
    this.#claimBudget = claimBudget;
  }

  submit(input: Omit<CompleteStep, 'claimNext'>): Promise<TransitionResult> {
    return this.submitAll([input]).then((results) => results[0]!);
  }

  /** Records several results, in order, in the same transaction. */
  submitAll(inputs: readonly Omit<CompleteStep, 'claimNext'>[]): Promise<TransitionResult[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    const wasEmpty = this.#queue.length === 0;
    const results = new Promise<TransitionResult[]>((resolve, reject) =>
      this.#queue.push({ inputs, resolve, reject }),
    );
    if (this.#inFlight >= MAX_IN_FLIGHT) {
      // A commit that finishes flushes what queued meanwhile.
    } else if (wasEmpty && this.#running() <= 1) {
      void this.#flush();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        void this.#flush();
      });
    }
    return results;
  }

  async #flush(): Promise<void> {
    if (this.#inFlight >= MAX_IN_FLIGHT) return;
    const batch = this.#queue.splice(0);
    if (batch.length === 0) return;
    this.#inFlight++;
    const inputs: CompleteStep[] = batch.length === 1 ? [...batch[0]!.inputs] : [];
    if (batch.length > 1) for (const b of batch) inputs.push(...b.inputs);
    // Only steps this worker held free a slot; steps run ahead never took one.
    let held = 0;
    for (const i of inputs) if (!i.claim) held++;
    const claimNext = this.#claimBudget(held);
    if (claimNext) inputs[inputs.length - 1] = { ...inputs[inputs.length - 1]!, claimNext };
    try {
      const results =
        inputs.length === 1
          ? [await this.#store.completeStep(inputs[0]!)]
          : await this.#store.completeSteps(inputs);
      let from = 0;
      for (const b of batch) {
        const to = from + b.inputs.length;
        b.resolve(batch.length === 1 ? results : results.slice(from, to));
        from = to;
      }
    } catch (error) {
      for (const b of batch) b.reject(error);
    } finally {
      this.#inFlight--;
      if (this.#queue.length > 0 && !this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          void this.#flush();
        });
      }
    }
  }
}

interface PendingEntries {
  inputs: readonly RecordEntry[];
  resolve: (result: { applied: boolean }) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit of workflow journal writes across runs. A write that finds fewer than
 * {@link MAX_IN_FLIGHT} being committed goes at once (a run alone waits for nothing more);
 * writes of other runs that arrive meanwhile wait for one to finish and go together in the
 * next, one commit for all of them (`recordEntryGroups`). Each run still waits for its own
 * entries to commit before its next step: what the journal guarantees does not change, but ten
 * workflows stepping at once share commits instead of queueing for the disk one by one.
 */
export class JournalCommit {
  readonly #store: Store;
  #queue: PendingEntries[] = [];
  #inFlight = 0;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Records one run's entries (as `recordEntries`), with other runs' that come meanwhile. */
  submit(inputs: readonly RecordEntry[]): Promise<{ applied: boolean }> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ inputs, resolve, reject });
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#inFlight < MAX_IN_FLIGHT && this.#queue.length > 0) {
      const batch = this.#queue.splice(0);
      this.#inFlight++;
      void this.#commit(batch).finally(() => {
        this.#inFlight--;
        this.#flush();
      });
    }
  }

  async #commit(batch: readonly PendingEntries[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const results = await this.#store.recordEntryGroups(batch.map((b) => b.inputs));
        results.forEach((r, i) => batch[i]!.resolve(r));
        return;
      } catch {
        // One run's entries may be what failed: each run on its own, so the others still commit.
      }
    }
    for (const b of batch) {
      try {
        b.resolve(
          b.inputs.length === 1
            ? await this.#store.recordEntry(b.inputs[0]!)
            : await this.#store.recordEntries(b.inputs),
        );
      } catch (error) {
        b.reject(error);
      }
    }
  }
}
