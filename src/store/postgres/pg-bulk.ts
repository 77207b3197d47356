/**
 * Many new runs in one statement (`createRuns`): the runs, their steps and their edges travel
 * as three JSON arrays and are inserted set-based, each run's steps only if the run itself was
 * inserted (its idempotency key was free). For runs without gates (max active runs, a serial
 * trigger): those count their definition's active runs one at a time instead.
 */
import type { checkNewSteps } from '../contract/new-steps.js';
import type { NewRun } from '../contract/types.js';
import type { RunRow } from './pg-rows.js';
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
    RETURNING *
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
  SELECT * FROM inserted`;

export interface PlainRuns {
  /** The runs inserted, by id (a run whose idempotency key was taken is missing). */
  rows: Map<string, RunRow>;
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
    const priority = run.priority ?? 0;
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
      priority,
      created_at: at,
      partition_key: run.partition ?? null,
      n: runs.length,
    });
    for (const { step, deps, waitingOn } of checked) {
      const override = step.override !== undefined;
      // Waiting only on overrides means waiting on nothing: queued at once.
      const status = override ? 'succeeded' : waitingOn === 0 ? 'queued' : 'pending';
      if (status === 'queued') queued.add(run.id);
      if (!override) unfinished.add(run.id);
      steps.push({
        run_id: run.id,
        key: step.key,
        node: step.node,
        kind: step.kind ?? 'node',
        status,
        output: override ? step.override : null,
        waiting_on: override ? 0 : waitingOn,
        available_at: at,
        priority: step.priority ?? priority,
        origin: override ? 'override' : 'run',
        queued_at: status === 'queued' ? at : null,
        finished_at: override ? at : null,
        labels: !override && step.labels?.length ? step.labels.join(',') : null,
        n: steps.length,
      });
      for (const dep of deps) edges.push({ run_id: run.id, f: dep, t: step.key });
    }
  }
  const result = await db.query<RunRow>(INSERT, [
    JSON.stringify(runs),
    JSON.stringify(steps),
    JSON.stringify(edges),
  ]);
  return { rows: new Map(result.rows.map((r) => [r.id, r])), queued, unfinished };
}
