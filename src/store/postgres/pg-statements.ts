/**
 * Every SQL statement of the Postgres store, one small named function per job; the store and
 * its transitions compose them inside their transactions. Each is parameterized and batched
 * (`unnest`, `ANY`) where a transition would otherwise loop. Fixed statements are named
 * (prepared once per connection).
 *
 * Locks. Every transition of a run first locks the run's row ({@link lockRun}, `FOR UPDATE`,
 * blocking): transitions of one run then run one at a time, as SQLite's single writer runs
 * them, so "is anything left in this run?" and the count-downs of dependents and map steps
 * never see a half-done concurrent transition of the same run. Runs of different runs never
 * wait on each other. Claims take queued steps `FOR UPDATE SKIP LOCKED` (see
 * {@link claimQueued}).
 *
 * Compact runs (migration 0009). A run of one plain step (a task enqueued) keeps that step in
 * its own row: it is enqueued, claimed and finished by writing one row each time, not two.
 * Claims, lease renewals and the batched completion of runs' last steps read and write it
 * there; the readers of steps ({@link steps}, {@link step}, {@link outputs}) show it as a step
 * row. Every other transition locks the run first, and {@link lockRun} moves a compact run's
 * step to a row of `steps` before anything else reads it ({@link materialize}): failures,
 * retries, cancellations, leases taken back and concurrency slots take the general path.
 */
import type pg from 'pg';
import type { RunStatus } from '../../core/states.js';
import { runSourcesOf, stepSourcesOf } from '../../core/states.js';
import {
  WORKFLOW_STEP_KEY,
  type AttemptStatus,
  type CompleteStep,
  type NewLog,
  type StepKind,
} from '../contract/types.js';
import type {
  AttemptRow,
  ClaimRow,
  EventRow,
  LogRow,
  RunRow,
  StepRow,
  WorkerRow,
  DefinitionRow,
  ScheduleRow,
} from './pg-rows.js';

/** What the statements run on: a pool client inside the caller's transaction (or the pool). */
export type Db = Pick<pg.ClientBase, 'query'>;

/**
 * The `available_at` of a step no time makes claimable: a workflow run parked until something
 * wakes it, and every journal entry. The claim indexes of migration 0001 leave it out, and
 * their predicate repeats this number.
 */
export const NEVER = Number.MAX_SAFE_INTEGER;
/** A claimable step: must read like the predicate of the `steps_claim` indexes. */
const CLAIMABLE = `available_at < ${NEVER}`;
/** The channel of work notifications; the payload is the schema the work was queued in. */
export const WORK_CHANNEL = 'weft_work';
/** Run updates to a final status also clear what a parked run waited for. */
const NOT_WAITING = 'waiting_for = NULL, wait_event = NULL, wait_key = NULL';
/** What a finishing statement returns ({@link FinishedRow}). */
const FINISHED = 'parent_run_id, definition, max_active, serial';
const RUN_STEP = `'${WORKFLOW_STEP_KEY}'`;
/** A journal entry written again takes its new state; it never overwrites a node or `$run`. */
const ENTRY_UPSERT = `ON CONFLICT (run_id, key) DO UPDATE SET node = excluded.node, kind = excluded.kind,
       seq = excluded.seq, status = excluded.status, output = excluded.output, error = excluded.error,
       attempt = excluded.attempt, started_at = excluded.started_at, finished_at = excluded.finished_at
     WHERE steps.kind NOT IN ('node', 'run')`;
/** An attempt row written again (a retry of an ambiguous commit, a later state) takes its new state. */
const ATTEMPT_UPSERT = `ON CONFLICT (run_id, step_key, attempt) DO UPDATE SET status = excluded.status,
       worker_id = excluded.worker_id, started_at = excluded.started_at,
       finished_at = excluded.finished_at, error = excluded.error`;

const list = (xs: readonly string[]): string => xs.map((s) => `'${s}'`).join(', ');
/** Unfinished steps: reads like the `steps_unfinished` index predicate. */
const UNFINISHED = `status IN ('pending', 'queued', 'running')`;
const SKIPPABLE = `status IN (${list(stepSourcesOf('skipped'))})`;
const CANCELLABLE = `status IN (${list(stepSourcesOf('cancelled'))})`;
const CLAIMABLE_FROM = `status IN (${list(stepSourcesOf('running'))})`;
const runMayBecome = (to: RunStatus): string => `status IN (${list(runSourcesOf(to))})`;
/**
 * A run finishing sets its compact step's output (`output`, for a compact run) and ends its
 * lease (a run that is not compact has neither).
 */
const COMPACT_DONE = (output: string): string =>
  `step_output = CASE WHEN step_key IS NOT NULL THEN ${output} END, lease_owner = NULL,
       lease_expires_at = NULL`;
/** The caller still holds the step: running, same attempt, same lease owner (fencing). */
const HELD = `run_id = $1 AND key = $2 AND status = 'running' AND attempt = $3 AND lease_owner = $4`;

/**
 * `condition` on a step that a batch statement finds by key from its input rows (an unnest,
 * whose key column is `key`), written as a join clause with them, not a restriction on `steps`. A
 * restriction on a step's status or lease owner is estimated from statistics taken at some past
 * moment, usually one when almost no step was running or pending (steps are so only briefly);
 * expecting a single such row, the planner then compares every input row with every row of
 * `steps`. Joined to the inputs, the condition is checked on the rows found by key.
 */
const onFound = (key: string, condition: string): string =>
  `CASE WHEN ${key} IS NULL THEN false ELSE ${condition} END`;

export interface ReadyRow {
  key: string;
  waiting_on: number;
  priority: number;
  labels: string[] | null;
}
export interface HeldRow {
  started_at: number | null;
  parent_key: string | null;
  kind: StepKind;
}
/** A run that just finished, for waking its parent. */
export interface FinishedRow {
  parent_run_id: string | null;
  definition: string;
  /** Gates: a finished gated run may let held runs of its definition in. */
  max_active: number | null;
  serial: boolean;
}
export interface RunningRow {
  key: string;
  attempt: number;
  lease_owner: string | null;
  started_at: number | null;
}
export type ExpiredRow = RunningRow & { run_id: string; lease_expires_at: number | null };

const SPECIAL = /[\\"]/;
const ESCAPE = /[\\"]/g;

/**
 * A list as the text of a Postgres array (`{"a","b\\"c",7,NULL}`). It is how a list travels as
 * one element of an array parameter (cast per row), and how statements send their list
 * parameters: quicker than the driver's own conversion, which escapes every string twice over.
 */
export function arrayText(values: readonly (string | number | null)[]): string {
  let text = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) text += ',';
    const value = values[i]!;
    if (value === null) text += 'NULL';
    else if (typeof value === 'number') text += value;
    else text += `"${SPECIAL.test(value) ? value.replace(ESCAPE, '\\$&') : value}"`;
  }
  return `${text}}`;
}

/** Whether {@link arrayText} writes `value` as Postgres reads it (else the driver converts it). */
function plainList(value: unknown): value is (string | number | null)[] {
  if (!Array.isArray(value)) return false;
  for (const v of value as unknown[]) {
    if (v !== null && typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) {
      return false;
    }
  }
  return true;
}

/** Statement parameters, with lists of strings and numbers written as array text. */
function params(values: unknown[]): unknown[] {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (plainList(v)) values[i] = arrayText(v);
  }
  return values;
}

let names = 0;
/** A named (prepared once per connection) statement returning its rows. */
export function stmt<P extends unknown[], R extends pg.QueryResultRow = never>(text: string) {
  const name = `weft_${++names}`;
  return async (db: Db, ...values: P): Promise<R[]> =>
    (await db.query<R>({ name, text, values: params(values) })).rows;
}
/** A named statement returning its first row, if any. */
export function stmt1<P extends unknown[], R extends pg.QueryResultRow>(text: string) {
  const all = stmt<P, R>(text);
  return async (db: Db, ...values: P): Promise<R | undefined> => (await all(db, ...values))[0];
}
/** A named statement returning how many rows it changed. */
export function exec<P extends unknown[]>(text: string) {
  const name = `weft_${++names}`;
  return async (db: Db, ...values: P): Promise<number> =>
    (await db.query<pg.QueryResultRow>({ name, text, values: params(values) })).rowCount ?? 0;
}

// Runs -------------------------------------------------------------------------------------

/**
 * Locks a run's row for the rest of the transaction and reads its status (undefined: no such
 * run). FOR UPDATE, blocking (not NOWAIT or SKIP LOCKED): a transition of a run must wait for
 * the one before it, never skip it or fail. Every transition takes it first, and only one run
 * row per transition before any step row, so transitions of different runs never deadlock.
 */
const lockRunRow = stmt1<
  [string],
  { status: RunStatus; kind: RunRow['kind']; definition: string; compact: boolean }
>(
  'SELECT status, kind, definition, step_key IS NOT NULL AS compact FROM runs WHERE id = $1 FOR UPDATE',
);
/**
 * Locks a run's row (see above) and, if the run is compact (its one step held in its own row,
 * migration 0009), moves that step to a row of `steps` first: every transition after a lock
 * reads and writes steps where the general path keeps them.
 */
export async function lockRun(
  db: Db,
  id: string,
): Promise<{ status: RunStatus; kind: RunRow['kind']; definition: string } | undefined> {
  const row = await lockRunRow(db, id);
  if (row?.compact) await materialize(db, [id]);
  return row;
}
/** {@link lockRun} for several runs (ids sorted: a fixed lock order); returns how many it locked. */
export async function lockRuns(db: Db, ids: string[]): Promise<number> {
  const rows = await lockRunRows(db, ids);
  const compact = rows.filter((r) => r.compact).map((r) => r.id);
  if (compact.length > 0) await materialize(db, compact);
  return rows.length;
}
const lockRunRows = stmt<[string[]], { id: string; compact: boolean }>(
  `SELECT id, step_key IS NOT NULL AS compact FROM runs WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
);

/**
 * A compact run's step as a row of `steps` (the columns of {@link STEP_COLUMNS}), from the run
 * row aliased `r`: its status is the run's (queued, running or succeeded), it was queued when
 * the run was created, started when the run did, finished when it did.
 */
const COMPACT_STEP = `r.id AS run_id, r.step_key AS key, r.step_node AS node, NULL::text AS parent_key,
  NULL::int AS idx, r.status AS status, r.step_attempt AS attempt, r.step_output AS output,
  NULL::jsonb AS error, 0 AS waiting_on, r.created_at AS available_at, r.priority,
  r.lease_owner, r.lease_expires_at, 'run' AS origin, 'node' AS kind, NULL::int AS seq,
  r.created_at AS queued_at, CASE WHEN r.status <> 'queued' THEN r.started_at END AS started_at,
  CASE WHEN r.status = 'succeeded' THEN r.finished_at END AS finished_at`;
/** The columns of a step row as {@link StepRow} reads them. */
const STEP_COLUMNS = `run_id, key, node, parent_key, idx, status, attempt, output, error, waiting_on,
  available_at, priority, lease_owner, lease_expires_at, origin, kind, seq, queued_at, started_at,
  finished_at`;

/**
 * Moves the steps of compact runs (ids; the others are skipped) to rows of `steps`, and clears
 * them from the runs: the runs are locked (blocking, in id order) if the caller has not already.
 * Returns the ids moved.
 */
export const materialize = stmt<[string[]], { run_id: string }>(
  `WITH old AS (
     SELECT r.id, r.step_key, r.step_node, r.status, r.step_attempt, r.step_output, r.priority,
       r.lease_owner, r.lease_expires_at, r.created_at, r.started_at, r.finished_at
     FROM runs r WHERE r.id = ANY($1::text[]) AND r.step_key IS NOT NULL ORDER BY r.id FOR UPDATE
   ), cleared AS (
     UPDATE runs r SET step_key = NULL, step_node = NULL, step_attempt = NULL, step_output = NULL,
       lease_owner = NULL, lease_expires_at = NULL
     FROM old WHERE r.id = old.id
   )
   INSERT INTO steps (run_id, key, node, kind, status, attempt, output, waiting_on, available_at,
     priority, origin, queued_at, lease_owner, lease_expires_at, started_at, finished_at)
   SELECT o.id, o.step_key, o.step_node, 'node', o.status, o.step_attempt, o.step_output, 0,
     o.created_at, o.priority, 'run', o.created_at, o.lease_owner, o.lease_expires_at,
     CASE WHEN o.status <> 'queued' THEN o.started_at END,
     CASE WHEN o.status = 'succeeded' THEN o.finished_at END
   FROM old o
   RETURNING run_id`,
);
export const run = stmt1<[string], RunRow>('SELECT * FROM runs WHERE id = $1');
export const runsFinished = stmt<[string[]], RunRow>(
  `SELECT * FROM runs WHERE id = ANY($1::text[]) AND status IN ('succeeded', 'failed', 'cancelled')`,
);
export const runStatus = stmt1<[string], { status: RunStatus }>(
  'SELECT status FROM runs WHERE id = $1',
);
export const runInfo = stmt1<[string], Pick<RunRow, 'status' | 'kind' | 'definition'>>(
  'SELECT status, kind, definition FROM runs WHERE id = $1',
);
export const runByIdempotency = stmt1<[string, string], RunRow>(
  'SELECT * FROM runs WHERE definition = $1 AND idempotency_key = $2',
);
/** A waiting (parked) workflow run resumes when its `$run` step is claimed. */
export const startRun = exec<[number, string]>(
  `UPDATE runs SET status = 'running', started_at = COALESCE(started_at, $1), updated_at = $1, ${NOT_WAITING}
   WHERE id = $2 AND ${runMayBecome('running')}`,
);
/** {@link startRun} for the runs of a claim, in id order (a fixed lock order). */
export const startRuns = exec<[number, string[]]>(
  `UPDATE runs SET status = 'running', started_at = COALESCE(started_at, $1), updated_at = $1, ${NOT_WAITING}
   WHERE id IN (SELECT id FROM runs WHERE id = ANY($2::text[]) AND ${runMayBecome('running')} ORDER BY id FOR UPDATE)`,
);
/** A workflow run finishes: the run as it now is. */
export const succeedRun = stmt1<[number, string], RunRow & FinishedRow>(
  `UPDATE runs SET status = 'succeeded', error = NULL, started_at = COALESCE(started_at, $1), finished_at = $1, updated_at = $1, ${NOT_WAITING}
   WHERE id = $2 AND ${runMayBecome('succeeded')}
   RETURNING *`,
);
export const failRun = stmt1<[number, string | null, string], RunRow & FinishedRow>(
  `UPDATE runs SET status = 'failed', started_at = COALESCE(started_at, $1), finished_at = $1, updated_at = $1, error = $2::jsonb, ${NOT_WAITING}
   WHERE id = $3 AND ${runMayBecome('failed')}
   RETURNING *`,
);
export const cancelRun = stmt1<[number, string | null, string], FinishedRow>(
  `UPDATE runs SET status = 'cancelled', held = false, finished_at = $1, updated_at = $1, error = $2::jsonb, ${NOT_WAITING}
   WHERE id = $3 AND ${runMayBecome('cancelled')} RETURNING ${FINISHED}`,
);
export const childRuns = stmt<[string], RunRow>(
  'SELECT * FROM runs WHERE parent_run_id = $1 ORDER BY id',
);
export const childIds = stmt<[string], { id: string }>(
  'SELECT id FROM runs WHERE parent_run_id = $1 ORDER BY id',
);

// Steps ------------------------------------------------------------------------------------

// Reads of a run's steps read its compact step too (one of the two halves is empty).
export const step = stmt1<[string, string], StepRow>(
  `SELECT ${STEP_COLUMNS} FROM steps WHERE run_id = $1 AND key = $2
   UNION ALL
   SELECT ${COMPACT_STEP} FROM runs r WHERE r.id = $1 AND r.step_key = $2`,
);
export const steps = stmt<[string], StepRow>(
  `SELECT * FROM (SELECT ${STEP_COLUMNS}, ord FROM steps WHERE run_id = $1
     UNION ALL
     SELECT ${COMPACT_STEP}, 0 AS ord FROM runs r WHERE r.id = $1 AND r.step_key IS NOT NULL) s
   ORDER BY ord`,
);

/**
 * A new run and its steps, in one statement: the run ($1-$15) unless its idempotency key is
 * taken (by a run committed or being inserted concurrently: ON CONFLICT waits for that one;
 * then no row), and only if it was inserted, its steps ($16-$27, one array per column in step
 * order). Labels travel comma-joined (a label has no comma): unnest cannot take an array of
 * arrays.
 */
export const insertRunAndSteps = stmt1<
  [
    string,
    string,
    string,
    string,
    string[],
    string,
    string | null,
    string | null,
    string[],
    number,
    number,
    string | null,
    boolean,
    number | null,
    boolean,
    string[],
    string[],
    string[],
    string[],
    (string | null)[],
    number[],
    number,
    number[],
    string[],
    (number | null)[],
    (number | null)[],
    (string | null)[],
    string | null,
    number | null,
  ],
  RunRow
>(
  // A step inserted `running` is claimed by its creator ($28, leased until $29) as it is
  // created, and so is the run: its attempt 1 starts now.
  `WITH run AS (
     INSERT INTO runs (id, kind, definition, status, input, outputs, trigger, parent_run_id, idempotency_key, tags, priority, created_at, updated_at, partition_key, held, max_active, serial, started_at)
     VALUES ($1, $2, $3, CASE WHEN 'running' = ANY($19::text[]) THEN 'running' ELSE 'queued' END,
       $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $14, $15,
       CASE WHEN 'running' = ANY($19::text[]) THEN $11::bigint END)
     ON CONFLICT (definition, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
     RETURNING *
   ), steps AS (
     INSERT INTO steps (run_id, key, node, kind, status, output, waiting_on, available_at, priority, origin, queued_at, finished_at, labels,
       attempt, lease_owner, lease_expires_at, started_at)
     SELECT run.id, s.key, s.node, s.kind, s.status, s.output, s.waiting_on, $22, s.priority, s.origin, s.queued_at, s.finished_at,
       string_to_array(s.labels, ','),
       CASE WHEN s.status = 'running' THEN 1 ELSE 0 END,
       CASE WHEN s.status = 'running' THEN $28 END,
       CASE WHEN s.status = 'running' THEN $29::bigint END,
       CASE WHEN s.status = 'running' THEN $11::bigint END
     FROM run, unnest($16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::int[], $23::int[], $24::text[], $25::bigint[], $26::bigint[], $27::text[])
       WITH ORDINALITY AS s(key, node, kind, status, output, waiting_on, priority, origin, queued_at, finished_at, labels, n)
     ORDER BY s.n
   )
   SELECT * FROM run`,
);

/**
 * A new compact run (migration 0009: its one step held in its own row), in one statement,
 * unless its idempotency key is taken (then no row). Claimed by its creator when `$14` (the
 * worker) is set: running, attempt 1, leased until `$15`.
 */
export const insertCompactRun = stmt1<
  [
    string, // $1 id
    string, // $2 kind
    string, // $3 definition
    string, // $4 input
    string[], // $5 outputs
    string, // $6 trigger
    string | null, // $7 idempotency key
    string[], // $8 tags
    number, // $9 priority
    number, // $10 created at
    string | null, // $11 partition
    string, // $12 step key
    string, // $13 step node
    string | null, // $14 claimed by
    number | null, // $15 lease end
  ],
  RunRow
>(
  `INSERT INTO runs (id, kind, definition, status, input, outputs, trigger, idempotency_key, tags,
     priority, created_at, updated_at, partition_key, started_at, step_key, step_node, step_attempt,
     lease_owner, lease_expires_at)
   VALUES ($1, $2, $3, CASE WHEN $14::text IS NULL THEN 'queued' ELSE 'running' END, $4, $5, $6,
     $7, $8, $9, $10, $10, $11, CASE WHEN $14::text IS NULL THEN NULL ELSE $10::bigint END, $12,
     $13, CASE WHEN $14::text IS NULL THEN 0 ELSE 1 END, $14, $15)
   ON CONFLICT (definition, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
   RETURNING *`,
);

export const insertEdges = exec<[string, string[], string[]]>(
  `INSERT INTO step_edges (run_id, from_key, to_key)
   SELECT $1, f, t FROM unnest($2::text[], $3::text[]) AS e(f, t)
   ON CONFLICT DO NOTHING`,
);
/** A map step's items, in order: the first `$8` running (attempt 1, leased to `$9` until `$10`). */
export const insertItems = exec<
  [
    string,
    string[],
    string,
    string,
    number,
    number,
    string[] | null,
    number,
    string | null,
    number | null,
  ]
>(
  `INSERT INTO steps (run_id, key, node, parent_key, idx, status, available_at, priority, queued_at,
     labels, attempt, lease_owner, lease_expires_at, started_at)
   SELECT $1, i.key, $3, $4, (i.n - 1)::int, CASE WHEN i.n <= $8 THEN 'running' ELSE 'queued' END,
     $5, $6, $5, $7::text[], CASE WHEN i.n <= $8 THEN 1 ELSE 0 END,
     CASE WHEN i.n <= $8 THEN $9 END, CASE WHEN i.n <= $8 THEN $10::bigint END,
     CASE WHEN i.n <= $8 THEN $5::bigint END
   FROM unnest($2::text[]) WITH ORDINALITY AS i(key, n) ORDER BY i.n`,
);
export const outputs = stmt<[string, string[]], { key: string; output: string | null }>(
  `SELECT key, output FROM steps WHERE run_id = $1 AND key = ANY($2::text[])
   UNION ALL
   SELECT step_key, step_output FROM runs WHERE id = $1 AND step_key = ANY($2::text[])`,
);
export const itemOutputs = stmt<[string, string], { output: string | null }>(
  'SELECT output FROM steps WHERE run_id = $1 AND parent_key = $2 ORDER BY idx',
);

/**
 * Claims up to `limit` claimable queued steps, best first, in ONE statement (no transaction
 * around it, so one round trip): the first CTE picks and locks them, the next takes them, the
 * last moves their runs to `running` (a queued run, or a parked workflow whose `$run` step
 * woke). Parameters, in order: worker, lease end, now, limit, then
 * [runId], [definitions], [worker labels] as the filters say.
 *
 * `FOR UPDATE OF s SKIP LOCKED`: workers claiming at once each take different steps instead of
 * queueing behind one another's row locks, and a step a transition of its run is moving right
 * now is left for the next claim. Only the step rows are locked (`OF s`): the run's row is
 * read, not locked, so claims never wait on a transition of the run. A skipped row is re-read
 * by the UPDATE's status check, so a step claimed meanwhile is never claimed twice.
 *
 * Compact runs (their one step in the run's row) are picked the same way from the runs, by
 * the `runs_claim` index; of the steps and compact runs picked, the best `limit` in claim order
 * (priority, then queue time) are claimed, so priorities hold across both. A compact run
 * picked but not among them stays queued, locked only until the claim commits.
 *
 * A claim commits without waiting for the disk (`synchronous_commit` off for its own
 * transaction, set once as it returns what it claimed): losing it to a crash of Postgres only
 * puts its steps back in the queue as they were, to be claimed again, which at-least-once
 * allows. Whatever is recorded later about a claimed step (a result, a retry) commits with
 * the default durability and so flushes the claim with it: Postgres writes its log in order.
 * The caller learns of its work a disk flush sooner.
 *
 * The rows picked are taken by their `ctid` and their runs by `= ANY(ARRAY(...))`: a plan made
 * for an unknown LIMIT (a prepared statement's generic plan) or for a table of a few thousand
 * rows would otherwise join by scanning the whole of `steps` and `runs`, on every claim. The
 * picked rows stay locked until the statement ends, so their `ctid` is theirs; a row moved
 * meanwhile fails the `ctid` check, is not claimed, and stays queued for the next claim.
 */
export function claimQueuedSql(filters: ClaimFilters): string {
  const where = [`s.status = 'queued'`, `s.${CLAIMABLE}`, 's.available_at <= $3'];
  // A compact run is claimable from its creation on (it never waits for a time).
  const compact = [`r.step_key IS NOT NULL`, `r.status = 'queued'`];
  // Parameters $1-$4 are fixed; the filters' follow in order.
  const next = (
    (n) => () =>
      `$${++n}`
  )(4);
  if (filters.runId) {
    const p = next();
    where.push(`s.run_id = ${p}`);
    compact.push(`r.id = ${p}`);
  }
  if (filters.definitions) {
    const p = next();
    where.push(`r.definition = ANY(${p}::text[])`);
    compact.push(`r.definition = ANY(${p}::text[])`);
  }
  // A step with labels goes only to a worker that has them all (a compact run has none).
  where.push(
    filters.labels ? `(s.labels IS NULL OR s.labels <@ ${next()}::text[])` : 's.labels IS NULL',
  );
  return `WITH picked AS (
      SELECT s.ctid AS tid, s.run_id, s.key, s.priority, s.queued_at, r.kind, r.definition, r.input
      FROM steps s JOIN runs r ON r.id = s.run_id
      WHERE ${where.join(' AND ')}
      ORDER BY s.priority DESC, s.queued_at, s.key
      LIMIT $4
      FOR UPDATE OF s SKIP LOCKED
    ), compact AS (
      SELECT r.ctid AS tid, r.id AS run_id, r.step_key AS key, r.priority, r.created_at AS queued_at
      FROM runs r
      WHERE ${compact.join(' AND ')}
      ORDER BY r.priority DESC, r.created_at, r.id
      LIMIT $4
      FOR UPDATE SKIP LOCKED
    ), chosen AS (
      SELECT tid, is_compact FROM (
        SELECT tid, false AS is_compact, priority, queued_at, key, run_id FROM picked
        UNION ALL
        SELECT tid, true, priority, queued_at, key, run_id FROM compact) c
      ORDER BY priority DESC, queued_at, key, run_id
      LIMIT $4
    ), claimed AS (
      UPDATE steps s SET status = 'running', attempt = s.attempt + 1, lease_owner = $1,
        lease_expires_at = $2, started_at = $3
      WHERE s.ctid = ANY(ARRAY(SELECT tid FROM chosen WHERE NOT is_compact)) AND s.${CLAIMABLE_FROM}
      RETURNING s.run_id, s.key, s.node, s.parent_key, s.idx, s.attempt, s.priority, s.queued_at
    ), started AS (
      UPDATE runs SET status = 'running', started_at = COALESCE(started_at, $3), updated_at = $3,
        ${NOT_WAITING}
      WHERE id = ANY(ARRAY(SELECT run_id FROM claimed)) AND ${runMayBecome('running')}
    ), claimed_compact AS (
      UPDATE runs r SET status = 'running', step_attempt = r.step_attempt + 1, lease_owner = $1,
        lease_expires_at = $2, started_at = COALESCE(r.started_at, $3), updated_at = $3
      WHERE r.ctid = ANY(ARRAY(SELECT tid FROM chosen WHERE is_compact))
        AND r.step_key IS NOT NULL AND r.status = 'queued'
      RETURNING r.id AS run_id, r.step_key AS key, r.step_node AS node, NULL::text AS parent_key,
        NULL::int AS idx, r.step_attempt AS attempt, r.priority, r.created_at AS queued_at,
        r.kind, r.definition, r.input
    )
    SELECT c.*, p.kind, p.definition, p.input,
      (SELECT set_config('synchronous_commit', 'off', true)) AS commit_unflushed
    FROM claimed c JOIN picked p USING (run_id, key)
    UNION ALL
    SELECT c.*, (SELECT set_config('synchronous_commit', 'off', true)) FROM claimed_compact c`;
}
export type ClaimedRow = ClaimRow & { priority: number; queued_at: number | null; input: string };

export interface ClaimFilters {
  runId: boolean;
  definitions: boolean;
  labels: boolean;
}
const claimStatements = new Map<string, { name: string; text: string }>();
/**
 * {@link claimQueuedSql} as a named (prepared) statement, one per combination of filters: a
 * claim is planned once per connection, not on every call.
 */
export function claimQueued(filters: ClaimFilters): { name: string; text: string } {
  const id = `${+filters.runId}${+filters.definitions}${+filters.labels}`;
  let statement = claimStatements.get(id);
  if (!statement) {
    statement = { name: `weft_claim_${id}`, text: claimQueuedSql(filters) };
    claimStatements.set(id, statement);
  }
  return statement;
}

export const renewLeases = stmt<
  [number, string, string[], string[]],
  { run_id: string; key: string }
>(
  `WITH step AS (
     UPDATE steps s SET lease_expires_at = $1
     FROM unnest($3::text[], $4::text[]) AS h(run_id, key)
     WHERE s.run_id = h.run_id AND s.key = h.key
       AND ${onFound('h.key', "s.status = 'running' AND s.lease_owner = $2")}
     RETURNING s.run_id, s.key
   ), compact AS (
     UPDATE runs r SET lease_expires_at = $1
     FROM unnest($3::text[], $4::text[]) AS h(run_id, key)
     WHERE r.id = h.run_id AND r.step_key = h.key
       AND ${onFound('h.key', "r.status = 'running' AND r.lease_owner = $2")}
     RETURNING r.id AS run_id, r.step_key AS key
   )
   SELECT run_id, key FROM step UNION ALL SELECT run_id, key FROM compact`,
);
export const succeed = stmt1<[string, string, number, string, string | null, number], HeldRow>(
  `UPDATE steps SET status = 'succeeded', output = $5, error = NULL, finished_at = $6, lease_owner = NULL, lease_expires_at = NULL
   WHERE ${HELD} RETURNING started_at, parent_key, kind`,
);
/**
 * A lone success in one round trip: {@link succeed}, the attempt's `succeeded` row, and
 * {@link countDownDependents} of the step (only if the caller still held it), whose rows come
 * back as `dependents`.
 */
export const succeedStep = stmt1<
  [string, string, number, string, string | null, number],
  HeldRow & { dependents: ReadyRow[] }
>(
  `WITH held AS (
     UPDATE steps SET status = 'succeeded', output = $5, error = NULL, finished_at = $6, lease_owner = NULL, lease_expires_at = NULL
     WHERE ${HELD} RETURNING started_at, parent_key, kind
   ), attempt AS (
     INSERT INTO attempts (run_id, step_key, attempt, status, worker_id, started_at, finished_at, error)
     SELECT $1, $2, $3, 'succeeded', $4, COALESCE(held.started_at, $6), $6, NULL FROM held
   ), dependents AS (
     UPDATE steps s SET waiting_on = s.waiting_on - 1
     FROM step_edges e
     WHERE e.run_id = $1 AND e.from_key = $2 AND s.run_id = e.run_id AND s.key = e.to_key
       AND s.status = 'pending' AND EXISTS (SELECT 1 FROM held)
     RETURNING s.key, s.waiting_on, s.priority, s.labels
   )
   SELECT held.started_at, held.parent_key, held.kind,
     (SELECT COALESCE(json_agg(json_build_object('key', d.key, 'waiting_on', d.waiting_on,
        'priority', d.priority, 'labels', d.labels)), '[]'::json) FROM dependents d) AS dependents
   FROM held`,
);
export const retry = stmt1<
  [string, string, number, string, number, number, string | null],
  HeldRow
>(
  `UPDATE steps SET status = 'queued', available_at = $5, queued_at = $6, error = $7::jsonb, lease_owner = NULL, lease_expires_at = NULL
   WHERE ${HELD} RETURNING started_at, parent_key, kind`,
);
export const fail = stmt1<[string, string, number, string, string | null, number], HeldRow>(
  `UPDATE steps SET status = 'failed', error = $5::jsonb, finished_at = $6, lease_owner = NULL, lease_expires_at = NULL
   WHERE ${HELD} RETURNING started_at, parent_key, kind`,
);
export const expand = stmt1<
  [string, string, number, string, number],
  { node: string; priority: number; labels: string[] | null }
>(
  `UPDATE steps SET waiting_on = $5, lease_owner = NULL, lease_expires_at = NULL
   WHERE ${HELD} RETURNING node, priority, labels`,
);
/**
 * Dependents of a finished step count down; those reaching zero stay pending until the caller
 * claims them (claimReady) or queues them (queueReady) in the same transaction.
 */
export const countDownDependents = stmt<[string, string], ReadyRow>(
  `UPDATE steps s SET waiting_on = s.waiting_on - 1
   FROM step_edges e
   WHERE e.run_id = $1 AND e.from_key = $2 AND s.run_id = e.run_id AND s.key = e.to_key
     AND s.status = 'pending'
   RETURNING s.key, s.waiting_on, s.priority, s.labels`,
);
/** A step run ahead by the worker, made ready earlier in the same batch: claimed by key. */
export const claimAhead = stmt1<
  [string, string, number, string, number, number],
  { attempt: number }
>(
  `UPDATE steps SET status = 'running', attempt = attempt + 1, lease_owner = $4, lease_expires_at = $5,
     started_at = $6
   WHERE run_id = $1 AND key = $2 AND status = 'queued' AND attempt = $3::int - 1
   RETURNING attempt`,
);
export const claimReady = stmt1<
  [string, string, string, number, number],
  Pick<ClaimRow, 'node' | 'parent_key' | 'idx' | 'attempt'>
>(
  `UPDATE steps SET status = 'running', attempt = attempt + 1, lease_owner = $3, lease_expires_at = $4,
     queued_at = $5, available_at = $5, started_at = $5
   WHERE run_id = $1 AND key = $2 AND status = 'pending' AND waiting_on <= 0
   RETURNING node, parent_key, idx, attempt`,
);
/** {@link claimReady} for several steps of a run in one statement (rows in no order). */
export const claimReadyMany = stmt<
  [string, string[], string, number, number],
  Pick<ClaimRow, 'key' | 'node' | 'parent_key' | 'idx' | 'attempt'>
>(
  `UPDATE steps SET status = 'running', attempt = attempt + 1, lease_owner = $3, lease_expires_at = $4,
     queued_at = $5, available_at = $5, started_at = $5
   WHERE run_id = $1 AND key = ANY($2::text[]) AND status = 'pending' AND waiting_on <= 0
   RETURNING key, node, parent_key, idx, attempt`,
);
/** Queues the ready dependents of the given finished steps. */
export const queueReady = exec<[string, string[], number]>(
  `UPDATE steps SET status = 'queued', queued_at = $3, available_at = $3
   WHERE run_id = $1 AND status = 'pending' AND waiting_on <= 0
     AND key IN (SELECT to_key FROM step_edges WHERE run_id = $1 AND from_key = ANY($2::text[]))`,
);
/** A map step waiting on its items is running with no lease owner. */
export const countDownMap = stmt1<
  [string, string, number],
  { status: string; parent_key: string | null }
>(
  `UPDATE steps SET waiting_on = waiting_on - 1,
     status = CASE WHEN waiting_on <= 1 THEN 'succeeded' ELSE status END,
     finished_at = CASE WHEN waiting_on <= 1 THEN $3 ELSE finished_at END
   WHERE run_id = $1 AND key = $2 AND status = 'running' AND lease_owner IS NULL
   RETURNING status, parent_key`,
);
export const failMap = stmt1<
  [string, string, string | null, number],
  { parent_key: string | null }
>(
  `UPDATE steps SET status = 'failed', error = $3::jsonb, finished_at = $4
   WHERE run_id = $1 AND key = $2 AND status = 'running' AND lease_owner IS NULL RETURNING parent_key`,
);
export const skipItems = exec<[string, string, number]>(
  `UPDATE steps SET status = 'skipped', finished_at = $3 WHERE run_id = $1 AND parent_key = $2 AND ${SKIPPABLE}`,
);
export const skipDependents = stmt<[string, string, number], { key: string }>(
  `UPDATE steps SET status = 'skipped', finished_at = $3
   WHERE run_id = $1 AND ${SKIPPABLE} AND key IN (SELECT to_key FROM step_edges WHERE run_id = $1 AND from_key = $2)
   RETURNING key`,
);
/**
 * Cancels every unfinished step of a run, returning each as it was. The CTE locks them first
 * (FOR UPDATE, blocking: a claim holding one of them commits first, and the step is then seen
 * running, so its attempt row is written).
 */
export const cancelSteps = stmt<[string, number], RunningRow & { status: string; ord: number }>(
  `WITH old AS (
     SELECT key, status, attempt, lease_owner, started_at, ord FROM steps
     WHERE run_id = $1 AND ${UNFINISHED} ORDER BY ord FOR UPDATE
   )
   UPDATE steps s SET status = 'cancelled', finished_at = $2, lease_owner = NULL, lease_expires_at = NULL
   FROM old WHERE s.run_id = $1 AND s.key = old.key AND s.${CANCELLABLE}
   RETURNING old.key, old.status, old.attempt, old.lease_owner, old.started_at, old.ord`,
);
/**
 * Finishes a run with nothing left to do, in one statement: `succeeded`, or `failed` with the
 * list of its failed steps (as `finishIfDone` words it). No row while a step is unfinished.
 */
export const finishIfDone = stmt1<[number, string], RunRow & FinishedRow>(
  // `pending` is a one-time probe: while the run has a step to do, the failed steps are never
  // scanned (this runs after every lone completion that made nothing ready).
  `WITH pending AS (
     SELECT 1 FROM steps u WHERE u.run_id = $2 AND u.${UNFINISHED} LIMIT 1
   ), failed AS (
     SELECT array_agg(key ORDER BY ord) AS keys FROM steps
     WHERE run_id = $2 AND status = 'failed' AND NOT EXISTS (SELECT 1 FROM pending)
   )
   UPDATE runs r SET
     status = CASE WHEN failed.keys IS NULL THEN 'succeeded' ELSE 'failed' END,
     error = CASE WHEN failed.keys IS NULL THEN NULL ELSE jsonb_build_object('name', 'RunFailed',
       'message', 'steps failed: ' || array_to_string(failed.keys, ', ')) END,
     started_at = COALESCE(r.started_at, $1), finished_at = $1, updated_at = $1, ${NOT_WAITING}
   FROM failed
   WHERE r.id = $2
     AND NOT EXISTS (SELECT 1 FROM pending)
     AND CASE WHEN failed.keys IS NULL THEN r.${runMayBecome('succeeded')} ELSE r.${runMayBecome('failed')} END
   RETURNING r.*`,
);
/**
 * Running steps whose lease expired (or, given owners, held by those workers), locked for the
 * reaper. SKIP LOCKED: a step locked right now is being moved by its worker's transition (or
 * another reaper); it is left alone rather than waited for, and the next sweep sees it again.
 */
export const expired = stmt<[number, string[] | null], ExpiredRow>(
  `SELECT run_id, key, attempt, lease_owner, lease_expires_at, started_at FROM steps
   WHERE status = 'running' AND lease_expires_at IS NOT NULL AND lease_owner IS NOT NULL
     AND (lease_expires_at < $1 OR lease_owner = ANY($2::text[]))
   ORDER BY run_id, key
   FOR UPDATE SKIP LOCKED`,
);
/**
 * Compact runs (migration 0009) whose lease expired (or, given owners, held by those workers),
 * locked as {@link expired} locks steps: the reaper moves their steps to `steps` first.
 */
export const expiredCompact = stmt<[number, string[] | null], { id: string }>(
  `SELECT id FROM runs
   WHERE step_key IS NOT NULL AND status = 'running' AND lease_expires_at IS NOT NULL
     AND lease_owner IS NOT NULL AND (lease_expires_at < $1 OR lease_owner = ANY($2::text[]))
   ORDER BY id
   FOR UPDATE SKIP LOCKED`,
);
export const requeue = exec<[string, string, number, string | null, number]>(
  `UPDATE steps SET status = 'queued', available_at = $5, queued_at = $5, lease_owner = NULL, lease_expires_at = NULL
   WHERE run_id = $1 AND key = $2 AND status = 'running' AND attempt = $3 AND lease_owner = $4`,
);
export const nextWake = stmt1<[number], { at: number | null }>(
  `SELECT MIN(available_at) AS at FROM steps WHERE status = 'queued' AND available_at > $1 AND ${CLAIMABLE}`,
);
export const nextWakeOf = stmt1<[number, string[]], { at: number | null }>(
  `SELECT MIN(s.available_at) AS at FROM steps s JOIN runs r ON r.id = s.run_id
   WHERE s.status = 'queued' AND s.available_at > $1 AND s.${CLAIMABLE} AND r.definition = ANY($2::text[])`,
);

// Workflows --------------------------------------------------------------------------------

/** The caller holds the run's `$run` step at this attempt (the fence of journal writes). */
/** The `$run` step goes back to the queue until its wake-up time (or NEVER). */
export const parkStep = exec<[string, string, number, string, number]>(
  `UPDATE steps SET status = 'queued', available_at = $5, queued_at = $5, lease_owner = NULL, lease_expires_at = NULL
   WHERE ${HELD}`,
);
export const parkRun = exec<[string, string, string | null, string | null, number]>(
  `UPDATE runs SET status = 'waiting', waiting_for = $2::jsonb, wait_event = $3, wait_key = $4, updated_at = $5
   WHERE id = $1 AND ${runMayBecome('waiting')}`,
);
/**
 * Makes a parked run's `$run` step claimable now (never later than it already was); a `$run`
 * step queued for a retry of a running run keeps its backoff. queued_at follows, so woken runs
 * are claimed in the order they were woken.
 */
export const wakeRun = exec<[string, number]>(
  `UPDATE steps SET queued_at = CASE WHEN available_at > $2 THEN $2 ELSE queued_at END, available_at = LEAST(available_at, $2)
   WHERE run_id = $1 AND key = ${RUN_STEP} AND status = 'queued'
     AND EXISTS (SELECT 1 FROM runs WHERE id = steps.run_id AND status = 'waiting')`,
);
/**
 * The parked waits sendEvent may satisfy: unkeyed waits of the type, and keyed ones for the
 * event's key; locked (FOR UPDATE, blocking) so that the wake-up below is the only transition
 * of those runs until commit, in id order so that two senders lock them in the same order.
 */
export const waitsOf = stmt<[string, string | null], { id: string; waiting_for: unknown }>(
  `SELECT id, waiting_for FROM runs
   WHERE wait_event = $1 AND (wait_key IS NULL OR wait_key = $2) AND status = 'waiting'
   ORDER BY id FOR UPDATE`,
);

/**
 * Serializes parkRun (of an event wait) and sendEvent of one event type: a transaction-scoped
 * advisory lock on the type's hash (collisions only serialize more). Blocking: see
 * `PostgresStore.parkRun` for the lost wake-up it prevents.
 */
export const lockEventType = stmt<[string], never>(
  `SELECT pg_advisory_xact_lock(${0x77656674}, hashtext($1))`,
);

// Events -----------------------------------------------------------------------------------

/** Inserts an event unless its idempotency key is taken; no row when taken. */
export const insertEvent = stmt1<
  [string, string, string | null, string, string | null, number],
  { id: string }
>(
  `INSERT INTO events (id, type, key, payload, idempotency_key, sent_at) VALUES ($1, $2, $3, $4, $5, $6)
   ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id`,
);
export const eventByIdempotency = stmt1<[string], EventRow>(
  'SELECT * FROM events WHERE idempotency_key = $1',
);
/** Events a keyed wait sees: its key, whenever sent, earliest first. */
export const keyedEvents = stmt<[string, string, string[], number, number], EventRow>(
  `SELECT * FROM events WHERE type = $1 AND key = $2 AND NOT (id = ANY($3::text[]))
   ORDER BY sent_at, id LIMIT $4 OFFSET $5`,
);
/** Events an unkeyed wait sees: any key, sent since, earliest first. */
export const eventsSince = stmt<[string, number, string[], number, number], EventRow>(
  `SELECT * FROM events WHERE type = $1 AND sent_at >= $2 AND NOT (id = ANY($3::text[]))
   ORDER BY sent_at, id LIMIT $4 OFFSET $5`,
);
export const events = stmt<[number | null], EventRow>(
  'SELECT * FROM events ORDER BY sent_at DESC, id DESC LIMIT $1',
);
export const eventsOfType = stmt<[string, number | null], EventRow>(
  'SELECT * FROM events WHERE type = $1 ORDER BY sent_at DESC, id DESC LIMIT $2',
);
export const allEventsSince = stmt<[number, number], EventRow>(
  'SELECT * FROM events WHERE sent_at >= $1 ORDER BY sent_at, id LIMIT $2',
);
export const failedRunsSince = stmt<[number, number], RunRow>(
  `SELECT * FROM runs WHERE status = 'failed' AND finished_at >= $1
   ORDER BY finished_at, id LIMIT $2`,
);
export const cursor = stmt1<[string], { at: string }>('SELECT at FROM cursors WHERE name = $1');
export const setCursor = exec<[string, number, number]>(
  `INSERT INTO cursors (name, at, updated_at) VALUES ($1, $2, $3)
   ON CONFLICT (name) DO UPDATE SET at = excluded.at, updated_at = excluded.updated_at`,
);

// Attempts, logs, workers ------------------------------------------------------------------

export const insertAttempt = exec<
  [string, string, number, AttemptStatus, string | null, number, number, string | null]
>(
  `INSERT INTO attempts (run_id, step_key, attempt, status, worker_id, started_at, finished_at, error)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
);
/** Attempt rows of cancelled or interrupted steps, in one statement. */
export const insertAttempts = exec<
  [string[], string[], number[], string, (string | null)[], number[], number, string | null]
>(
  `INSERT INTO attempts (run_id, step_key, attempt, status, worker_id, started_at, finished_at, error)
   SELECT a.run_id, a.key, a.attempt, $4, a.worker, a.started_at, $7, $8::jsonb
   FROM unnest($1::text[], $2::text[], $3::int[], $5::text[], $6::bigint[]) AS a(run_id, key, attempt, worker, started_at)`,
);
export const attempts = stmt<[string], AttemptRow>(
  'SELECT * FROM attempts WHERE run_id = $1 ORDER BY finished_at, step_key, attempt',
);

const insertLogRows = exec<
  [string[], (string | null)[], (number | null)[], number[], string[], string[]]
>(
  `INSERT INTO logs (run_id, step_key, attempt, at, level, message)
   SELECT l.run_id, l.step_key, l.attempt, l.at, l.level, l.message
   FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::text[], $6::text[])
     WITH ORDINALITY AS l(run_id, step_key, attempt, at, level, message, n)
   ORDER BY l.n`,
);
/** Log lines, in one statement; their seqs follow their order. */
export async function insertLogs(db: Db, lines: readonly NewLog[]): Promise<void> {
  if (lines.length === 0) return;
  await insertLogRows(db, ...logColumns(lines));
}
/** Step results as the column arrays the batch statements take: run, key, attempt, worker, output, now. */
export function resultColumns(
  inputs: readonly CompleteStep[],
): [string[], string[], number[], string[], (string | null)[], number[]] {
  return [
    inputs.map((i) => i.runId),
    inputs.map((i) => i.key),
    inputs.map((i) => i.attempt),
    inputs.map((i) => i.workerId),
    inputs.map((i) => i.output),
    inputs.map((i) => i.now),
  ];
}
/** Log lines as the column arrays the statements take: run, step, attempt, at, level, message. */
export function logColumns(
  lines: readonly NewLog[],
): [string[], (string | null)[], (number | null)[], number[], string[], string[]] {
  return [
    lines.map((l) => l.runId),
    lines.map((l) => l.stepKey),
    lines.map((l) => l.attempt),
    lines.map((l) => l.at),
    lines.map((l) => l.level),
    lines.map((l) => l.message),
  ];
}
export const logs = stmt<[string, number, number | null], LogRow>(
  'SELECT * FROM logs WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
);
export const stepLogs = stmt<[string, string, number, number | null], LogRow>(
  'SELECT * FROM logs WHERE run_id = $1 AND step_key = $2 AND seq > $3 ORDER BY seq LIMIT $4',
);
export const upsertWorker = exec<[string, string, number, number, number, string[], string[]]>(
  `INSERT INTO workers (id, host, pid, started_at, heartbeat_at, definitions, labels) VALUES ($1, $2, $3, $4, $5, $6, $7)
   ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, started_at = excluded.started_at,
     heartbeat_at = excluded.heartbeat_at, definitions = excluded.definitions, labels = excluded.labels`,
);
export const workers = stmt<[], WorkerRow>('SELECT * FROM workers ORDER BY started_at, id');
export const removeWorker = exec<[string]>('DELETE FROM workers WHERE id = $1');
export const runningByWorker = stmt<[], { worker: string; running: number }>(
  `SELECT worker, SUM(n)::int AS running FROM (
     SELECT lease_owner AS worker, COUNT(*) AS n FROM steps
     WHERE status = 'running' AND lease_owner IS NOT NULL GROUP BY lease_owner
     UNION ALL
     SELECT lease_owner, COUNT(*) FROM runs
     WHERE step_key IS NOT NULL AND status = 'running' AND lease_owner IS NOT NULL
     GROUP BY lease_owner) c
   GROUP BY worker`,
);

// Definitions -------------------------------------------------------------------------------

/** Advisory lock key spaces (the first of the two int4 keys): Weft's, apart from migrations'. */
export const LEAD_LOCK_SPACE = 0x77656674; // "weft"
const SLOT_LOCK_SPACE = 0x77656675;

export const upsertDefinitions = exec<
  [string[], string[], string[], (string | null)[], string[], string[], number[]]
>(
  `INSERT INTO definitions (name, kind, graph, input_schema, code_hash, labels, registered_at)
   SELECT d.name, d.kind, d.graph::jsonb, d.input_schema::jsonb, d.code_hash,
     COALESCE(string_to_array(NULLIF(d.labels, ''), ','), '{}'), d.registered_at
   FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
     AS d(name, kind, graph, input_schema, code_hash, labels, registered_at)
   ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, graph = excluded.graph,
     input_schema = excluded.input_schema, code_hash = excluded.code_hash,
     labels = excluded.labels, registered_at = excluded.registered_at`,
);
export const definitions = stmt<[], DefinitionRow>('SELECT * FROM definitions ORDER BY name');

// Schedules ---------------------------------------------------------------------------------

/**
 * Inserts schedules or updates those that exist, keeping their pause, cursor and creation time.
 * A row is rewritten only when something changed (workers register their schedules every time
 * they start), and updated_at moves only with the target or the spec (jsonb equality). Rows go
 * in the order given: callers sort them by name, so that two registrations of the same
 * schedules lock their rows in one order and never deadlock.
 */
export const upsertSchedules = exec<[string[], string[], string[], string[], number[]]>(
  `INSERT INTO schedules AS s (name, target, spec, source, paused, cursor, created_at, updated_at)
   SELECT n.name, n.target, n.spec::jsonb, n.source, false, NULL, n.now, n.now
   FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
     WITH ORDINALITY AS n(name, target, spec, source, now, ord)
   ORDER BY n.ord
   ON CONFLICT (name) DO UPDATE SET target = excluded.target, spec = excluded.spec,
     source = excluded.source,
     updated_at = CASE WHEN s.target = excluded.target AND s.spec = excluded.spec
       THEN s.updated_at ELSE excluded.updated_at END
   WHERE s.target <> excluded.target OR s.spec <> excluded.spec OR s.source <> excluded.source`,
);
export const schedules = stmt<[], ScheduleRow>('SELECT * FROM schedules ORDER BY name');
export const schedule = stmt1<[string], ScheduleRow>('SELECT * FROM schedules WHERE name = $1');
/** Pausing a paused schedule (or resuming a running one) changes nothing, not even updated_at. */
export const pauseSchedule = stmt1<[string, boolean, number], ScheduleRow>(
  `UPDATE schedules SET paused = $2, updated_at = CASE WHEN paused = $2 THEN updated_at ELSE $3 END
   WHERE name = $1 RETURNING *`,
);
/**
 * Compare and set, in one statement: racing schedulers queue on the row lock, and the loser's
 * WHERE, evaluated again on the row the winner committed, no longer matches.
 */
export const advanceSchedule = exec<[string, number | null, number]>(
  'UPDATE schedules SET cursor = $3 WHERE name = $1 AND cursor IS NOT DISTINCT FROM $2',
);
export const deleteSchedule = exec<[string]>('DELETE FROM schedules WHERE name = $1');

// Global concurrency slots ------------------------------------------------------------------

/**
 * Serializes the acquires of one slot (a transaction-scoped advisory lock): counting the
 * holders and adding one must not interleave with another worker doing the same. The key mixes
 * in the schema, so that Weft databases in different schemas never contend.
 */
export const lockSlot = exec<[string]>(
  `SELECT pg_advisory_xact_lock(${SLOT_LOCK_SPACE}, hashtext(current_schema() || ':' || $1))`,
);
export const holds = stmt1<[string, string, number, string], { one: number }>(
  `SELECT 1 AS one FROM steps WHERE ${HELD}`,
);
export const holdsSlot = stmt1<[string, string, string, number], { one: number }>(
  'SELECT 1 AS one FROM slot_holders WHERE slot = $1 AND run_id = $2 AND step_key = $3 AND attempt = $4',
);
/** Forgets the holders of a slot whose steps moved on; returns how many still hold it. */
export const sweepSlot = stmt1<[string], { held: number }>(
  `WITH gone AS (
     DELETE FROM slot_holders h WHERE h.slot = $1 AND NOT EXISTS (
       SELECT 1 FROM steps s WHERE s.run_id = h.run_id AND s.key = h.step_key
         AND s.status = 'running' AND s.attempt = h.attempt)
     RETURNING 1)
   SELECT (SELECT COUNT(*) FROM slot_holders WHERE slot = $1)::int - (SELECT COUNT(*) FROM gone)::int AS held`,
);
export const takeSlot = exec<[string, string, string, number]>(
  'INSERT INTO slot_holders (slot, run_id, step_key, attempt) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
);
export const defer = stmt1<[string, string, number, string, number, string], { one: number }>(
  `UPDATE steps SET status = 'queued', attempt = attempt - 1, available_at = $5, waiting_slot = $6,
     lease_owner = NULL, lease_expires_at = NULL, started_at = NULL
   WHERE ${HELD} RETURNING 1 AS one`,
);
/** One step deferred for a slot that was just freed becomes available now. */
export const wakeSlot = exec<[string, number]>(
  `UPDATE steps SET available_at = $2 WHERE (run_id, key) = (
     SELECT run_id, key FROM steps WHERE waiting_slot = $1 AND status = 'queued' AND available_at > $2
     ORDER BY priority DESC, queued_at LIMIT 1 FOR UPDATE SKIP LOCKED)`,
);

// Batched completions (pg-batch.ts) ---------------------------------------------------------

/** Several held steps succeed at once; returns those the callers still held. */
export const succeedMany = stmt<
  [string[], string[], number[], string[], (string | null)[], number[]],
  HeldRow & { run_id: string; key: string }
>(
  `UPDATE steps s SET status = 'succeeded', output = i.output, error = NULL, finished_at = i.now,
     lease_owner = NULL, lease_expires_at = NULL
   FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::bigint[])
     AS i(run_id, key, attempt, worker, output, now)
   WHERE s.run_id = i.run_id AND s.key = i.key AND ${onFound('i.key', "s.status = 'running'")}
     AND s.attempt = i.attempt AND s.lease_owner = i.worker
   RETURNING s.run_id, s.key, s.started_at, s.parent_key, s.kind`,
);
export const insertSucceededAttempts = exec<
  [string[], string[], number[], string[], number[], number[]]
>(
  `INSERT INTO attempts (run_id, step_key, attempt, status, worker_id, started_at, finished_at, error)
   SELECT a.run_id, a.key, a.attempt, 'succeeded', a.worker, a.started_at, a.finished_at, NULL
   FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::bigint[], $6::bigint[])
     AS a(run_id, key, attempt, worker, started_at, finished_at)`,
);
/**
 * Dependents of several finished steps count down, once per finished dependency: an UPDATE
 * joins each target row once, so the decrements are summed first.
 */
export const countDownMany = stmt<[string[], string[]], ReadyRow & { run_id: string }>(
  `UPDATE steps s SET waiting_on = s.waiting_on - d.n
   FROM (
     SELECT e.run_id, e.to_key, COUNT(*)::int AS n
     FROM unnest($1::text[], $2::text[]) AS i(run_id, key)
     JOIN step_edges e ON e.run_id = i.run_id AND e.from_key = i.key
     GROUP BY e.run_id, e.to_key
   ) d
   WHERE s.run_id = d.run_id AND s.key = d.to_key AND ${onFound('d.to_key', "s.status = 'pending'")}
   RETURNING s.run_id, s.key, s.waiting_on, s.priority, s.labels`,
);
/** Of these runs, those with nothing left to do, and whether a step of each failed. */
export const finishedRuns = stmt<[string[]], { id: string; failed: boolean }>(
  `SELECT r.id, EXISTS (SELECT 1 FROM steps f WHERE f.run_id = r.id AND f.status = 'failed') AS failed
   FROM unnest($1::text[]) AS r(id)
   WHERE NOT EXISTS (SELECT 1 FROM steps u WHERE u.run_id = r.id AND ${UNFINISHED})`,
);
export const succeedRuns = stmt<[number, string[]], FinishedRow>(
  `UPDATE runs SET status = 'succeeded', error = NULL, started_at = COALESCE(started_at, $1), finished_at = $1, updated_at = $1, ${NOT_WAITING}
   WHERE id = ANY($2::text[]) AND ${runMayBecome('succeeded')} RETURNING ${FINISHED}`,
);
/** Ready steps (pending, waiting on nothing) become queued. */
export const queueSteps = exec<[string[], string[], number]>(
  `UPDATE steps s SET status = 'queued', queued_at = $3, available_at = $3
   FROM unnest($1::text[], $2::text[]) AS q(run_id, key)
   WHERE s.run_id = q.run_id AND s.key = q.key
     AND ${onFound('q.key', "s.status = 'pending' AND s.waiting_on <= 0")}`,
);
export const runStatuses = stmt<[string[]], { id: string; status: RunStatus }>(
  'SELECT id, status FROM runs WHERE id = ANY($1::text[])',
);

/** A map step counts down several of its items at once; it succeeds with its last one. */
export const countDownMapBy = stmt1<
  [string, string, number, number],
  { status: string; parent_key: string | null }
>(
  `UPDATE steps SET waiting_on = waiting_on - $4,
     status = CASE WHEN waiting_on <= $4 THEN 'succeeded' ELSE status END,
     finished_at = CASE WHEN waiting_on <= $4 THEN $3 ELSE finished_at END
   WHERE run_id = $1 AND key = $2 AND status = 'running' AND lease_owner IS NULL
   RETURNING status, parent_key`,
);

/**
 * The last step of a run succeeds and the run with it, in ONE statement: the run locked, the
 * fence checked, the step succeeded with its attempt row, a workflow's last journal entries
 * (and their attempt rows) written, log lines written, the run succeeded — only if the worker
 * still holds the step (`holding`) and this finishes the run (`went`): nothing else of it
 * unfinished, and for a pipeline node, no dependents, not a fan-out item, no failed step. Otherwise nothing is written and the caller takes the general
 * path. The finished run's columns come back with the counts (and `lone`: whether the run has
 * no parent and no gate).
 */
export const completeLastAtOnce = stmt1<
  [
    string, // $1 run
    string, // $2 step key
    number, // $3 its attempt held
    string, // $4 worker
    string | null, // $5 output
    number, // $6 now
    boolean, // $7 only a run with no parent and no gate (nothing to do after it, outside a transaction)
    ...EntryArrays,
  ],
  { holding: number; went: number; lone: boolean | null } & Partial<RunRow & FinishedRow>
>(
  `WITH run AS (
     SELECT id, parent_run_id IS NULL AND max_active IS NULL AND NOT serial AS alone,
       step_key = $2 AND status = 'running' AND step_attempt = $3 AND lease_owner = $4
         AS compact_held,
       priority, started_at
     FROM runs WHERE id = $1 FOR UPDATE
   ), held AS (
     SELECT s.priority, s.kind, s.parent_key, run.alone FROM steps s JOIN run ON run.id = s.run_id
     WHERE s.run_id = $1 AND s.key = $2 AND s.status = 'running' AND s.attempt = $3
       AND s.lease_owner = $4
     UNION ALL
     -- A compact run's step (migration 0009), held in the run's own row.
     SELECT run.priority, 'node', NULL, run.alone FROM run WHERE run.compact_held
   ), go AS (
     SELECT held.priority FROM held
     WHERE (held.alone OR NOT $7) AND held.parent_key IS NULL
       AND NOT EXISTS (SELECT 1 FROM step_edges e WHERE e.run_id = $1 AND e.from_key = $2)
       AND NOT EXISTS (
         SELECT 1 FROM steps u WHERE u.run_id = $1 AND u.${UNFINISHED} AND u.key <> $2
           AND u.key <> ALL($8::text[]))
       -- A workflow succeeds whatever steps it caught failing; a pipeline with one fails.
       AND (held.kind = 'run' OR NOT EXISTS (
         SELECT 1 FROM steps f WHERE f.run_id = $1 AND f.status = 'failed'))
   ), ${entryWrites('go', 8, '$4')}
   ), done AS (
     UPDATE steps SET status = 'succeeded', output = $5, error = NULL, finished_at = $6,
       lease_owner = NULL, lease_expires_at = NULL
     WHERE run_id = $1 AND key = $2 AND EXISTS (SELECT 1 FROM go)
     RETURNING started_at
   ), step_attempt AS (
     INSERT INTO attempts (run_id, step_key, attempt, status, worker_id, started_at, finished_at, error)
     SELECT $1, $2, $3, 'succeeded', $4, COALESCE(done.started_at, $6), $6, NULL::jsonb FROM done
     UNION ALL
     SELECT $1, $2, $3, 'succeeded', $4, COALESCE(run.started_at, $6), $6, NULL FROM run
     WHERE run.compact_held AND EXISTS (SELECT 1 FROM go)
   ), finished AS (
     UPDATE runs SET status = 'succeeded', error = NULL, started_at = COALESCE(started_at, $6),
       finished_at = $6, updated_at = $6, ${NOT_WAITING}, ${COMPACT_DONE('$5')}
     WHERE id = $1 AND ${runMayBecome('succeeded')} AND EXISTS (SELECT 1 FROM go)
     RETURNING *
   )
   SELECT (SELECT COUNT(*) FROM held)::int AS holding, (SELECT COUNT(*) FROM go)::int AS went,
     (SELECT alone FROM held) AS lone, f.*
   FROM (SELECT 1) AS one LEFT JOIN finished f ON true`,
);

/**
 * {@link completeLastAtOnce} for many runs in one statement, outside a transaction: each input
 * whose step the caller holds and whose success finishes its run (no dependents, no other
 * unfinished step, no failed one; a run with no parent and no gate) is recorded with its
 * attempt row and log lines, and its run succeeds. One row per input recorded so: its run's id
 * and status (`finished_now` when this statement finished it; else the run could not succeed
 * and is as it was), and for a run finished now whose input asked for it (`$13`), the whole
 * run as JSON (`row_to_json`, whose fields parse to what the driver gives for `runs.*`).
 * Inputs not recorded here (not held, or not the end of an alone run) are left as they were.
 *
 * The runs are locked in id order first, as every transition locks them.
 */
export const completeLastMany = stmt<
  [
    string[], // $1 runs
    string[], // $2 step keys
    number[], // $3 attempts held
    string[], // $4 workers
    (string | null)[], // $5 outputs
    number[], // $6 nows
    ...ReturnType<typeof logColumns>, // $7-$12 log lines
    boolean[], // $13 whether the run is wanted back
  ],
  { id: string; status: RunStatus; step_key: string; finished_now: boolean; run: string | null }
>(
  // Each CTE reads the one before it (no join of two CTEs: the planner, expecting one row of
  // each, would compare every row of one with every row of the other).
  `WITH run AS (
     -- With each input: whether it holds its run's compact step (migration 0009).
     SELECT u.*, r.started_at, ${onFound('u.key', "r.step_key = u.key AND r.status = 'running' AND r.step_attempt = u.attempt AND r.lease_owner = u.worker")} AS compact_held
     FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::bigint[], $13::boolean[])
       AS u(run_id, key, attempt, worker, output, now, wanted)
     JOIN runs r ON r.id = u.run_id
     WHERE r.parent_run_id IS NULL AND r.max_active IS NULL AND NOT r.serial
     ORDER BY r.id FOR UPDATE OF r
   ), held AS (
     SELECT i.*, false AS compact, s.parent_key IS NULL AND i.run_id IN (SELECT run_id FROM run)
       AND NOT EXISTS (SELECT 1 FROM step_edges e WHERE e.run_id = i.run_id AND e.from_key = i.key)
       AND NOT EXISTS (
         SELECT 1 FROM steps u WHERE u.run_id = i.run_id AND u.${UNFINISHED} AND u.key <> i.key)
       -- A workflow succeeds whatever steps it caught failing; a pipeline with one fails.
       AND (s.kind = 'run' OR NOT EXISTS (
         SELECT 1 FROM steps f WHERE f.run_id = i.run_id AND f.status = 'failed')) AS goes
     FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::bigint[], $13::boolean[])
       AS i(run_id, key, attempt, worker, output, now, wanted)
     JOIN steps s ON s.run_id = i.run_id AND s.key = i.key
       AND ${onFound('i.key', "s.status = 'running' AND s.attempt = i.attempt AND s.lease_owner = i.worker")}
     UNION ALL
     -- Compact runs' steps (migration 0009), held in the runs' own rows: nothing else to wait on.
     SELECT run_id, key, attempt, worker, output, now, wanted, true, true FROM run WHERE compact_held
   ), step_done AS (
     UPDATE steps s SET status = 'succeeded', output = h.output, error = NULL,
       finished_at = h.now, lease_owner = NULL, lease_expires_at = NULL
     FROM held h WHERE h.goes AND NOT h.compact AND s.run_id = h.run_id AND s.key = h.key
     RETURNING s.run_id, s.key, s.started_at, h.attempt, h.worker, h.output, h.now, h.wanted
   ), done AS (
     SELECT * FROM step_done
     UNION ALL
     SELECT run_id, key, started_at, attempt, worker, output, now, wanted FROM run WHERE compact_held
   ), step_attempt AS (
     INSERT INTO attempts (run_id, step_key, attempt, status, worker_id, started_at, finished_at, error)
     SELECT d.run_id, d.key, d.attempt, 'succeeded', d.worker, COALESCE(d.started_at, d.now), d.now, NULL
     FROM done d
   ), logged AS (
     INSERT INTO logs (run_id, step_key, attempt, at, level, message)
     SELECT l.run_id, l.step_key, l.attempt, l.at, l.level, l.message
     FROM unnest($7::text[], $8::text[], $9::int[], $10::bigint[], $11::text[], $12::text[])
       WITH ORDINALITY AS l(run_id, step_key, attempt, at, level, message, n)
     WHERE (l.run_id, l.step_key) IN (SELECT run_id, key FROM done)
     ORDER BY l.n
   ), finished AS (
     UPDATE runs r SET status = 'succeeded', error = NULL, started_at = COALESCE(r.started_at, d.now),
       finished_at = d.now, updated_at = d.now, ${NOT_WAITING}, ${COMPACT_DONE('d.output')}
     FROM done d WHERE r.id = d.run_id AND r.${runMayBecome('succeeded')}
     RETURNING d.key AS step_key, r.id, r.status,
       CASE WHEN d.wanted THEN row_to_json(r)::text END AS run
   )
   SELECT true AS finished_now, f.step_key, f.id, f.status, f.run FROM finished f
   UNION ALL
   -- Recorded, yet the run could not succeed (no longer running): its status as it is.
   SELECT false, d.key, r.id, r.status, NULL FROM done d JOIN runs r ON r.id = d.run_id
   WHERE d.run_id NOT IN (SELECT id FROM finished)`,
);

/** Journal entries as columns: key, name, kind, seq, status, output, error, attempt, started, finished. */
type EntryColumns = [
  string[],
  string[],
  StepKind[],
  number[],
  string[],
  (string | null)[],
  (string | null)[],
  number[],
  (number | null)[],
  (number | null)[],
];
/** Attempt rows as columns: key, attempt, status, started, finished, error. */
type AttemptColumns = [string[], number[], AttemptStatus[], number[], number[], (string | null)[]];
/** The arrays of {@link recordEntriesAtOnce}'s entries, attempt rows and log lines. */
type EntryArrays = [...EntryColumns, ...AttemptColumns, ...ReturnType<typeof logColumns>];

/**
 * The CTEs `entry`, `attempt` and `logged` (left open after `logged AS (…`): journal entries of
 * run `$1`, their attempt rows (by `worker`) and log lines from the arrays at parameters
 * `$from`…, written only if the CTE `gate` has a row (its `priority` is the entries').
 */
function entryWrites(gate: string, from: number, worker: string): string {
  const p = (n: number) => `$${from + n}`;
  return `entry AS (
     INSERT INTO steps (run_id, key, node, kind, seq, status, output, error, attempt, available_at, priority, started_at, finished_at)
     SELECT $1, e.key, e.node, e.kind, e.seq, e.status, e.output, e.error::jsonb, e.attempt, ${NEVER}, ${gate}.priority, e.started_at, e.finished_at
     FROM ${gate}, unnest(${p(0)}::text[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::int[], ${p(4)}::text[], ${p(5)}::text[], ${p(6)}::text[], ${p(7)}::int[], ${p(8)}::bigint[], ${p(9)}::bigint[])
       AS e(key, node, kind, seq, status, output, error, attempt, started_at, finished_at)
     ${ENTRY_UPSERT}
   ), attempt AS (
     INSERT INTO attempts (run_id, step_key, attempt, status, worker_id, started_at, finished_at, error)
     SELECT $1, a.key, a.attempt, a.status, ${worker}, a.started_at, a.finished_at, a.error::jsonb
     FROM ${gate}, unnest(${p(10)}::text[], ${p(11)}::int[], ${p(12)}::text[], ${p(13)}::bigint[], ${p(14)}::bigint[], ${p(15)}::text[])
       AS a(key, attempt, status, started_at, finished_at, error)
     ${ATTEMPT_UPSERT}
   ), logged AS (
     INSERT INTO logs (run_id, step_key, attempt, at, level, message)
     SELECT l.run_id, l.step_key, l.attempt, l.at, l.level, l.message
     FROM unnest(${p(16)}::text[], ${p(17)}::text[], ${p(18)}::int[], ${p(19)}::bigint[], ${p(20)}::text[], ${p(21)}::text[])
       WITH ORDINALITY AS l(run_id, step_key, attempt, at, level, message, n)
     WHERE EXISTS (SELECT 1 FROM ${gate})
     ORDER BY l.n`;
}

/**
 * {@link recordEntriesAtOnce} for the entries of several runs in ONE statement: each run's row
 * locked (in id order), its fence checked, and its entries, attempt rows and log lines written
 * only if its holder still holds it. Returns the runs written. Every entry array carries its
 * run (`$4`, the entries'; `$14`, the attempt rows'); the runs must be distinct, and keys (and
 * attempts of a key) must not repeat within a run.
 */
export const recordEntryGroupsAtOnce = stmt<
  [
    string[], // $1 runs
    string[], // $2 their holders
    number[], // $3 the `$run` attempts held
    string[], // $4 the entries' runs; $5-$14 the entries
    ...EntryColumns,
    string[], // $15 the attempt rows' runs; $16-$21 the attempt rows
    ...AttemptColumns,
    ...ReturnType<typeof logColumns>, // $22-$27 log lines
  ],
  { run_id: string }
>(
  // The CTEs join only the small `held` (a run per holder writing now) to the input rows.
  `WITH run AS (
     SELECT r.id FROM unnest($1::text[]) AS u(id) JOIN runs r ON r.id = u.id
     ORDER BY r.id FOR UPDATE OF r
   ), held AS (
     -- Each run's $run step looked up by key (LIMIT 1 keeps the lookup per run: as a join,
     -- a plan made while few runs existed reads every $run step).
     SELECT g.run_id, g.worker, s.priority
     FROM unnest($1::text[], $2::text[], $3::int[]) AS g(run_id, worker, attempt)
     CROSS JOIN LATERAL (
       SELECT s.priority FROM steps s
       WHERE s.run_id = g.run_id AND s.key = ${RUN_STEP} AND s.status = 'running'
         AND s.attempt = g.attempt AND s.lease_owner = g.worker
       LIMIT 1
     ) s
     WHERE g.run_id IN (SELECT id FROM run)
   ), entry AS (
     INSERT INTO steps (run_id, key, node, kind, seq, status, output, error, attempt, available_at, priority, started_at, finished_at)
     SELECT e.run_id, e.key, e.node, e.kind, e.seq, e.status, e.output, e.error::jsonb, e.attempt, ${NEVER}, h.priority, e.started_at, e.finished_at
     FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[], $11::text[], $12::int[], $13::bigint[], $14::bigint[])
       AS e(run_id, key, node, kind, seq, status, output, error, attempt, started_at, finished_at)
     JOIN held h ON h.run_id = e.run_id
     ${ENTRY_UPSERT}
   ), attempt AS (
     INSERT INTO attempts (run_id, step_key, attempt, status, worker_id, started_at, finished_at, error)
     SELECT a.run_id, a.key, a.attempt, a.status, h.worker, a.started_at, a.finished_at, a.error::jsonb
     FROM unnest($15::text[], $16::text[], $17::int[], $18::text[], $19::bigint[], $20::bigint[], $21::text[])
       AS a(run_id, key, attempt, status, started_at, finished_at, error)
     JOIN held h ON h.run_id = a.run_id
     ${ATTEMPT_UPSERT}
   ), logged AS (
     INSERT INTO logs (run_id, step_key, attempt, at, level, message)
     SELECT l.run_id, l.step_key, l.attempt, l.at, l.level, l.message
     FROM unnest($22::text[], $23::text[], $24::int[], $25::bigint[], $26::text[], $27::text[])
       WITH ORDINALITY AS l(run_id, step_key, attempt, at, level, message, n)
     WHERE l.run_id IN (SELECT run_id FROM held)
     ORDER BY l.n
   )
   SELECT run_id FROM held`,
);

/**
 * `recordEntries` in ONE statement (one round trip, no transaction around it): the run's row
 * locked (a cancellation cannot commit between the fence and the write), the fence checked,
 * the entries upserted, their attempt rows and log lines written — all only if the worker
 * still holds the run. Returns whether it did. An entry never overwrites a pipeline node or
 * the `$run` step of the same key. Keys (and attempts of a key) must not repeat: one
 * statement may not write a row twice.
 */
export const recordEntriesAtOnce = stmt1<
  [
    string, // $1 run
    string, // $2 worker
    number, // $3 the `$run` attempt held
    ...EntryArrays,
  ],
  { held: number }
>(
  `WITH run AS (
     SELECT id FROM runs WHERE id = $1 FOR UPDATE
   ), held AS (
     SELECT s.priority FROM steps s JOIN run ON run.id = s.run_id
     WHERE s.run_id = $1 AND s.key = ${RUN_STEP} AND s.status = 'running' AND s.attempt = $3
       AND s.lease_owner = $2
   ), ${entryWrites('held', 4, '$2')}
   )
   SELECT COUNT(*)::int AS held FROM held`,
);
