/**
 * Many new runs in one statement (`createRuns`): the runs, their steps and their edges travel
 * as three JSON arrays and are inserted set-based, each run's steps only if the run itself was
 * inserted (its idempotency key was free). For runs without gates (max active runs, a serial
 * trigger): those count their definition's active runs one at a time instead.
 */
import type { checkNewSteps } from '../contract/new-steps.js';
import type { NewRun, RunRecord } from '../contract/types.js';
import type { Db } from './pg-statements.js';

const INSERT = `WITH r AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
      id text, kind text, definition text, input text, outputs jsonb, trigger text,
      parent_run_id text, idempotency_key text, tags jsonb, priority int, created_at bigint,
      partition_key text, n int)
  ), inserted AS (
    INSERT INTO runs (id, kind, definition, status, input, outputs, trigger, parent_run_id,
      idempotency_key, tags, priority, created_at, updated_at, partition_key)
    SELECT id, kind, definition, 'queued', input,
      ARRAY(SELECT jsonb_array_elements_text(outputs)), trigger, parent_run_id, idempotency_key,
      ARRAY(SELECT jsonb_array_elements_text(tags)), priority, created_at, created_at,
      partition_key
    FROM r ORDER BY n
    ON CONFLICT (definition, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id
  ), steps AS (
    INSERT INTO steps (run_id, key, node, kind, status, output, waiting_on, available_at,
      priority, origin, queued_at, finished_at, labels)
    SELECT s.run_id, s.key, s.node, s.kind, s.status, s.output, s.waiting_on, s.available_at,
      s.priority, s.origin, s.queued_at, s.finished_at, string_to_array(s.labels, ',')
    FROM jsonb_to_recordset($2::jsonb) AS s(run_id text, key text, node text, kind text,
      status text, output text, waiting_on int, available_at bigint, priority int, origin text,
      queued_at bigint, finished_at bigint, labels text, n int)
    WHERE s.run_id IN (SELECT id FROM inserted)
    ORDER BY s.n
  ), edges AS (
    INSERT INTO step_edges (run_id, from_key, to_key)
    SELECT e.run_id, e.f, e.t FROM jsonb_to_recordset($3::jsonb) AS e(run_id text, f text, t text)
    WHERE e.run_id IN (SELECT id FROM inserted)
  )
  SELECT id FROM inserted`;

/** A new step as the `steps` table holds it (labels comma-joined: unnest takes no nested arrays). */
export interface NewStepRow {
  key: string;
  node: string;
  kind: string;
  status: 'succeeded' | 'queued' | 'pending';
  output: string | null;
  waiting_on: number;
  priority: number;
  origin: 'override' | 'run';
  queued_at: number | null;
  finished_at: number | null;
  labels: string | null;
}

/**
 * The rows of a new run's steps, in step order, its edges, and whether it has a step to do: an
 * override is inserted `succeeded`; a step waiting only on overrides waits on nothing and is
 * `queued` at once; the others are `pending`. Shared by `createRun` and `createRuns`.
 */
export function stepRows(
  run: NewRun,
  checked: ReturnType<typeof checkNewSteps>,
): { rows: NewStepRow[]; edges: { from: string; to: string }[]; unfinished: boolean } {
  const at = run.createdAt;
  const rows: NewStepRow[] = [];
  const edges: { from: string; to: string }[] = [];
  let unfinished = false;
  for (const { step, deps, waitingOn } of checked) {
    const override = step.override !== undefined;
    const status = override ? 'succeeded' : waitingOn === 0 ? 'queued' : 'pending';
    rows.push({
      key: step.key,
      node: step.node,
      kind: step.kind ?? 'node',
      status,
      output: override ? step.override! : null,
      waiting_on: override ? 0 : waitingOn,
      priority: step.priority ?? run.priority ?? 0,
      origin: override ? 'override' : 'run',
      queued_at: status === 'queued' ? at : null,
      finished_at: override ? at : null,
      labels: !override && step.labels?.length ? step.labels.join(',') : null,
    });
    if (!override) unfinished = true;
    for (const dep of deps) edges.push({ from: dep, to: step.key });
  }
  return { rows, edges, unfinished };
}

export interface PlainRuns {
  /** The ids of the runs inserted (a run whose idempotency key was taken is missing). */
  inserted: Set<string>;
  /** Runs with a step queued (work for the workers). */
  queued: Set<string>;
  /** Runs with a step to do (the others are done as they are created). */
  unfinished: Set<string>;
}

export async function insertPlainRuns(
  db: Db,
  items: readonly { run: NewRun; checked: ReturnType<typeof checkNewSteps> }[],
): Promise<PlainRuns> {
  const runs: unknown[] = [];
  const steps: unknown[] = [];
  const edges: unknown[] = [];
  const queued = new Set<string>();
  const unfinished = new Set<string>();
  for (const { run, checked } of items) {
    const at = run.createdAt;
    runs.push({
      id: run.id,
      kind: run.kind,
      definition: run.definition,
      input: run.input,
      outputs: run.outputs,
      trigger: run.trigger,
      parent_run_id: run.parentRunId ?? null,
      idempotency_key: run.idempotencyKey ?? null,
      tags: run.tags ?? [],
      priority: run.priority ?? 0,
      created_at: at,
      partition_key: run.partition ?? null,
      n: runs.length,
    });
    const planned = stepRows(run, checked);
    if (planned.unfinished) unfinished.add(run.id);
    for (const row of planned.rows) {
      if (row.status === 'queued') queued.add(run.id);
      steps.push({ run_id: run.id, ...row, available_at: at, n: steps.length });
    }
    for (const { from, to } of planned.edges) edges.push({ run_id: run.id, f: from, t: to });
  }
  const result = await db.query<{ id: string }>(INSERT, [
    JSON.stringify(runs),
    JSON.stringify(steps),
    JSON.stringify(edges),
  ]);
  return { inserted: new Set(result.rows.map((r) => r.id)), queued, unfinished };
}

/**
 * A run {@link insertPlainRuns} inserted, as the row now reads: what the caller gave, queued,
 * not started. Built here rather than read back, which would cost every column of every run.
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
