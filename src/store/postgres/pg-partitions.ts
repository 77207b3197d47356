/**
 * The Postgres store's held runs (max active runs, a schedule's overlap `queue`), partitions,
 * backfills and sensors.
 *
 * Held runs: creating a gated run and letting held runs in after a gated run finishes both
 * take a transaction-scoped advisory lock on the definition first, so concurrent creators and
 * finishers count a definition's active runs one at a time (as SQLite's single writer does).
 * Held candidates are locked `SKIP LOCKED`: a held run being cancelled right now is passed over,
 * never waited for, so no lock cycle can form with the lock taken by the finisher.
 */
import type { RunStatus } from '../../core/states.js';
import type {
  BackfillRecord,
  BackfillStatus,
  NewBackfill,
  NewSensor,
  PartitionRun,
  SensorEvaluation,
  SensorRecord,
  UpdateBackfill,
} from '../contract/types.js';
import { notifyAfterCommit } from './pg-notify.js';
import { exec, NEVER, stmt, stmt1, type Db } from './pg-statements.js';

const UNFINISHED = `status IN ('queued', 'running', 'waiting')`;
/** The advisory lock space of definitions' gates (the slots' is another). */
const GATE_LOCK_SPACE = 0x77656667;

interface HeldRow {
  id: string;
  trigger: string;
  max_active: number | null;
  serial: boolean;
}

interface BackfillRow {
  id: string;
  target: string;
  partitions: string[];
  params: unknown;
  max_concurrent: number;
  status: BackfillStatus;
  launched: number;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

interface SensorRow {
  name: string;
  target: string;
  interval_ms: number;
  paused: boolean;
  cursor: string | null;
  evaluated_at: number | null;
  last_error: string | null;
  last_requested: number;
  created_at: number;
  updated_at: number;
}

interface PartitionRow {
  partition_key: string;
  id: string;
  status: RunStatus;
  created_at: number;
  finished_at: number | null;
}

const lockGate = exec<[string]>(
  `SELECT pg_advisory_xact_lock(${GATE_LOCK_SPACE}, hashtext(current_schema() || ':' || $1))`,
);
const activeGated = stmt1<[string], { n: number }>(
  `SELECT count(*)::int AS n FROM runs WHERE definition = $1 AND max_active IS NOT NULL AND NOT held AND ${UNFINISHED}`,
);
const activeSerial = stmt1<[string], { n: number }>(
  `SELECT count(*)::int AS n FROM runs WHERE trigger = $1 AND serial AND NOT held AND ${UNFINISHED}`,
);
const heldGated = stmt1<[string], { one: number }>(
  'SELECT 1 AS one FROM runs WHERE definition = $1 AND held AND max_active IS NOT NULL LIMIT 1',
);
const heldSerial = stmt1<[string, string], { one: number }>(
  'SELECT 1 AS one FROM runs WHERE definition = $1 AND held AND serial AND trigger = $2 LIMIT 1',
);
const heldRuns = stmt<[string], HeldRow>(
  `SELECT id, trigger, max_active, serial FROM runs WHERE definition = $1 AND held
   ORDER BY priority DESC, id LIMIT 200 FOR UPDATE SKIP LOCKED`,
);
const admitRun = exec<[number, string]>(
  `UPDATE runs SET held = false, updated_at = $1 WHERE id = $2 AND held AND status = 'queued'`,
);
const releaseSteps = exec<[number, string]>(
  `UPDATE steps SET available_at = $1, queued_at = $1
   WHERE run_id = $2 AND status = 'queued' AND available_at = ${NEVER} AND kind IN ('node', 'run')`,
);
const latestPartitions = stmt<[string], PartitionRow>(
  `SELECT DISTINCT ON (partition_key) partition_key, id, status, created_at, finished_at FROM runs
   WHERE definition = $1 AND partition_key IS NOT NULL ORDER BY partition_key, id DESC`,
);
const latestPartitionsOf = stmt<[string, string], PartitionRow>(
  `SELECT DISTINCT ON (partition_key) partition_key, id, status, created_at, finished_at FROM runs
   WHERE definition = $1 AND partition_key IS NOT NULL AND trigger = $2 ORDER BY partition_key, id DESC`,
);
const unfinishedPartitionRuns = stmt1<[string], { n: number }>(
  `SELECT count(*)::int AS n FROM runs WHERE trigger = $1 AND partition_key IS NOT NULL AND ${UNFINISHED}`,
);
// Keyed by the id the caller chose: a try repeated after an ambiguous commit inserts nothing.
const insertBackfill = exec<[string, string, string, string, number, number]>(
  `INSERT INTO backfills (id, target, partitions, params, max_concurrent, status, launched, created_at, updated_at)
   VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, 'running', 0, $6, $6) ON CONFLICT (id) DO NOTHING`,
);
const backfill = stmt1<[string], BackfillRow>('SELECT * FROM backfills WHERE id = $1');
const updateBackfill = stmt1<
  [BackfillStatus, number, number, number | null, string, BackfillStatus, number],
  BackfillRow
>(
  `UPDATE backfills SET status = $1, launched = $2, updated_at = $3, finished_at = $4
   WHERE id = $5 AND status = $6 AND launched = $7 RETURNING *`,
);
const upsertSensors = exec<[string[], string[], number[], number[]]>(
  `INSERT INTO sensors AS s (name, target, interval_ms, created_at, updated_at)
   SELECT n.name, n.target, n.interval_ms, n.now, n.now
   FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) WITH ORDINALITY
     AS n(name, target, interval_ms, now, ord)
   ORDER BY n.ord
   ON CONFLICT (name) DO UPDATE SET target = excluded.target, interval_ms = excluded.interval_ms,
     updated_at = excluded.updated_at
   WHERE s.target <> excluded.target OR s.interval_ms <> excluded.interval_ms`,
);
const sensors = stmt<[], SensorRow>('SELECT * FROM sensors ORDER BY name');
const sensor = stmt1<[string], SensorRow>('SELECT * FROM sensors WHERE name = $1');
const pauseSensor = stmt1<[string, boolean, number], SensorRow>(
  `UPDATE sensors SET paused = $2, updated_at = CASE WHEN paused = $2 THEN updated_at ELSE $3 END
   WHERE name = $1 RETURNING *`,
);
/** Compare and set on the cursor, in one statement (as `advanceSchedule`). */
const recordSensor = exec<[string, string | null, string | null, number, string | null, number]>(
  `UPDATE sensors SET cursor = $3, evaluated_at = $4, last_error = $5,
     last_requested = CASE WHEN $5::text IS NULL THEN $6 ELSE last_requested END
   WHERE name = $1 AND cursor IS NOT DISTINCT FROM $2`,
);

const TERMINAL_BACKFILL: readonly BackfillStatus[] = ['cancelled', 'succeeded', 'failed'];

function toBackfill(row: BackfillRow): BackfillRecord {
  return {
    id: row.id,
    target: row.target,
    partitions: row.partitions,
    params: row.params,
    maxConcurrent: row.max_concurrent,
    status: row.status,
    launched: row.launched,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

function toSensor(row: SensorRow): SensorRecord {
  return {
    name: row.name,
    target: row.target,
    intervalMs: row.interval_ms,
    paused: row.paused,
    cursor: row.cursor,
    evaluatedAt: row.evaluated_at,
    lastError: row.last_error,
    lastRequested: row.last_requested,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

// Held runs (inside the caller's transaction) -----------------------------------------------

/** Transactions (by their connection) in which {@link admit} let a held run in. */
const admittedOn = new WeakSet<Db>();

/** Whether the transaction on `db` let held runs in since the last call (and forgets it). */
export function takeAdmitted(db: Db): boolean {
  return admittedOn.delete(db);
}

/**
 * Whether a run being created waits held (takes the definition's gate lock first): its
 * definition's active gated runs are at `maxActive`, its serial trigger has an active run, or
 * older runs wait for the same gate (first come, first let in).
 */
export async function mustHold(
  db: Db,
  definition: string,
  trigger: string,
  maxActive: number | null,
  serial: boolean,
): Promise<boolean> {
  await lockGate(db, definition);
  if (maxActive !== null) {
    if ((await activeGated(db, definition))!.n >= maxActive) return true;
    if ((await heldGated(db, definition)) !== undefined) return true;
  }
  if (serial) {
    if ((await activeSerial(db, trigger))!.n > 0) return true;
    if ((await heldSerial(db, definition, trigger)) !== undefined) return true;
  }
  return false;
}

/**
 * A gated run of `definition` finished: lets in the held runs that now fit, best priority then
 * oldest first. Once the definition is full, only held runs without a `maxActive` (a serial
 * schedule's) may still go.
 */
export async function admit(db: Db, definition: string, now: number): Promise<void> {
  await lockGate(db, definition);
  let full = false;
  let admitted = 0;
  for (const run of await heldRuns(db, definition)) {
    if (run.max_active !== null) {
      if (full) continue;
      if ((await activeGated(db, definition))!.n >= run.max_active) {
        full = true;
        continue;
      }
    }
    if (run.serial && (await activeSerial(db, run.trigger))!.n > 0) continue;
    if ((await admitRun(db, now, run.id)) > 0) {
      await releaseSteps(db, now, run.id);
      admitted++;
    }
  }
  // Workers elsewhere wake for the steps let in (this store's own engine knows to look).
  if (admitted > 0) {
    admittedOn.add(db);
    notifyAfterCommit(db);
  }
}

// Partitions and backfills -------------------------------------------------------------------

export async function latestPartitionRuns(
  db: Db,
  definition: string,
  trigger: string | undefined,
): Promise<PartitionRun[]> {
  const rows =
    trigger === undefined
      ? await latestPartitions(db, definition)
      : await latestPartitionsOf(db, definition, trigger);
  return rows.map((r) => ({
    partition: r.partition_key,
    runId: r.id,
    status: r.status,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  }));
}

export async function countUnfinishedRuns(db: Db, trigger: string): Promise<number> {
  return (await unfinishedPartitionRuns(db, trigger))!.n;
}

export async function createBackfill(db: Db, b: NewBackfill): Promise<BackfillRecord> {
  await insertBackfill(
    db,
    b.id,
    b.target,
    JSON.stringify(b.partitions),
    JSON.stringify(b.params ?? {}),
    b.maxConcurrent,
    b.now,
  );
  return toBackfill((await backfill(db, b.id))!);
}

export async function getBackfill(db: Db, id: string): Promise<BackfillRecord | null> {
  const row = await backfill(db, id);
  return row ? toBackfill(row) : null;
}

export async function listBackfills(
  db: Db,
  options: { status?: BackfillStatus; target?: string; limit?: number },
): Promise<BackfillRecord[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  if (options.status !== undefined) {
    values.push(options.status);
    where.push(`status = $${values.length}`);
  }
  if (options.target !== undefined) {
    values.push(options.target);
    where.push(`target = $${values.length}`);
  }
  values.push(options.limit ?? null);
  const sql = `SELECT * FROM backfills ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${values.length}`;
  return (await db.query<BackfillRow>(sql, values)).rows.map(toBackfill);
}

export async function changeBackfill(db: Db, u: UpdateBackfill): Promise<BackfillRecord | null> {
  const status = u.status ?? u.from.status;
  const row = await updateBackfill(
    db,
    status,
    u.launched ?? u.from.launched,
    u.now,
    TERMINAL_BACKFILL.includes(status) ? u.now : null,
    u.id,
    u.from.status,
    u.from.launched,
  );
  return row ? toBackfill(row) : null;
}

// Sensors ------------------------------------------------------------------------------------

export async function putSensors(db: Db, list: readonly NewSensor[]): Promise<void> {
  if (list.length === 0) return;
  await upsertSensors(
    db,
    list.map((s) => s.name),
    list.map((s) => s.target),
    list.map((s) => s.intervalMs),
    list.map((s) => s.now),
  );
}

export async function listSensors(db: Db): Promise<SensorRecord[]> {
  return (await sensors(db)).map(toSensor);
}

export async function getSensor(db: Db, name: string): Promise<SensorRecord | null> {
  const row = await sensor(db, name);
  return row ? toSensor(row) : null;
}

export async function setSensorPaused(
  db: Db,
  name: string,
  paused: boolean,
  now: number,
): Promise<SensorRecord | null> {
  const row = await pauseSensor(db, name, paused, now);
  return row ? toSensor(row) : null;
}

export async function recordSensorEvaluation(db: Db, e: SensorEvaluation): Promise<boolean> {
  return (await recordSensor(db, e.name, e.from, e.cursor, e.at, e.error, e.requested)) > 0;
}
