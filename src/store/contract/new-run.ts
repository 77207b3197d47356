/** The record of a new run, shared by the stores. */
import type { NewRun, RunRecord } from './types.js';

/**
 * A run just inserted, as its row now reads: what the caller gave, queued, not started (not
 * held, not finished at once, nothing claimed with it). Built rather than read back, which
 * would cost every column of every run.
 */
export function insertedRun(run: NewRun): RunRecord {
  return {
    id: run.id,
    kind: run.kind,
    definition: run.definition,
    status: 'queued',
    input: run.input,
    outputs: run.outputs,
    trigger: run.trigger,
    parentRunId: run.parentRunId ?? null,
    idempotencyKey: run.idempotencyKey ?? null,
    tags: run.tags ?? [],
    priority: run.priority ?? 0,
    error: null,
    createdAt: run.createdAt,
    startedAt: null,
    finishedAt: null,
    updatedAt: run.createdAt,
    waitingFor: null,
    partition: run.partition ?? null,
    held: false,
  };
}
