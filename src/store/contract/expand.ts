/**
 * What a map step's expansion hands its worker (`ExpandStep.claim`), the same on every store:
 * how many of the items it takes, and those items as claimed steps.
 */
import type { ClaimedStep, ExpandStep, RunKind } from './types.js';

/**
 * How many items the expanding worker takes: up to its claim's limit, none without a claim or
 * when the items require a label the worker lacks.
 */
export function itemsTaken(input: ExpandStep, labels: readonly string[] | null): number {
  const claim = input.claim;
  if (!claim || claim.limit <= 0) return 0;
  if (labels && !labels.every((l) => claim.labels?.includes(l) ?? false)) return 0;
  return Math.min(claim.limit, input.items.length);
}

/** The first `taken` items of an expansion, as steps claimed for its worker (attempt 1). */
export function claimedItems(
  input: ExpandStep,
  node: string,
  run: { kind: RunKind; definition: string },
  leaseExpiresAt: number,
  taken: number,
): ClaimedStep[] {
  return input.items.slice(0, taken).map((key, index) => ({
    runId: input.runId,
    key,
    node,
    parentKey: input.key,
    index,
    attempt: 1,
    kind: run.kind,
    definition: run.definition,
    leaseExpiresAt,
  }));
}
