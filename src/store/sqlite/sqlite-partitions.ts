/**
 * The SQLite store's held runs (max active runs, a schedule's overlap `queue`), partitions,
 * backfills and sensors. Methods that change runs run inside the caller's `BEGIN IMMEDIATE`
 * transaction (SQLite has one writer at a time, so counting active runs and letting one in
 * cannot race); the others are single statements.
 */
import type Database from 'better-sqlite3';
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
import { NEVER } from './sqlite-statements.js';

/** The unfinished statuses, as the partial indexes of migration 0008 spell them. */
const UNFINISHED = `status IN ('queued', 'running', 'waiting')`;

interface HeldRow {
  id: string;
  trigger: string;
  max_active: number | null;
  serial: number;
}

interface BackfillRow {
  id: string;
  target: string;
  partitions: string;
  params: string;
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
  paused: number;
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

const TERMINAL_BACKFILL: readonly BackfillStatus[] = ['cancelled', 'succeeded', 'failed'];

function toBackfill(row: BackfillRow): BackfillRecord {
  return {
    id: row.id,
    target: row.target,
    partitions: JSON.parse(row.partitions) as string[],
    params: JSON.parse(row.params) as unknown,
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
    paused: row.paused !== 0,
    cursor: row.cursor,
    evaluatedAt: row.evaluated_at,
    lastError: row.last_error,
    lastRequested: row.last_requested,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function prepare(db: Database.Database) {
  const p = <P extends unknown[], R = never>(sql: string) => db.prepare<P, R>(sql);
  const p1 = <P extends unknown[], R>(sql: string) => db.prepare<P, R>(sql).pluck();
  return {
    activeGated: p1<[string], number>(
      `SELECT count(*) FROM runs WHERE definition = ? AND max_active IS NOT NULL AND held = 0 AND ${UNFINISHED}`,
    ),
    activeSerial: p1<[string], number>(
      `SELECT count(*) FROM runs WHERE trigger = ? AND serial = 1 AND held = 0 AND ${UNFINISHED}`,
    ),
    heldGated: p1<[string], number>(
      'SELECT 1 FROM runs WHERE definition = ? AND held = 1 AND max_active IS NOT NULL LIMIT 1',
    ),
    heldSerial: p1<[string, string], number>(
      'SELECT 1 FROM runs WHERE definition = ? AND held = 1 AND serial = 1 AND trigger = ? LIMIT 1',
    ),
    heldRuns: p<[string], HeldRow>(
      `SELECT id, trigger, max_active, serial FROM runs WHERE definition = ? AND held = 1
       ORDER BY priority DESC, id LIMIT 200`,
    ),
    admitRun: p<[number, string]>(
      `UPDATE runs SET held = 0, updated_at = ? WHERE id = ? AND held = 1 AND status = 'queued'`,
    ),
    releaseSteps: p<[number, number, string]>(
      `UPDATE steps SET available_at = ?, queued_at = ?
       WHERE run_id = ? AND status = 'queued' AND available_at = ${NEVER} AND kind IN ('node', 'run')`,
    ),
    latestPartitions: p<[string], PartitionRow>(
      // SQLite takes the bare columns from the row holding max(id).
      `SELECT partition_key, max(id) AS id, status, created_at, finished_at FROM runs
       WHERE definition = ? AND partition_key IS NOT NULL GROUP BY partition_key ORDER BY partition_key`,
    ),
    latestPartitionsOf: p<[string, string], PartitionRow>(
      `SELECT partition_key, max(id) AS id, status, created_at, finished_at FROM runs
       WHERE definition = ? AND partition_key IS NOT NULL AND trigger = ? GROUP BY partition_key ORDER BY partition_key`,
    ),
    unfinishedPartitionRuns: p1<[string], number>(
      `SELECT count(*) FROM runs WHERE trigger = ? AND partition_key IS NOT NULL AND ${UNFINISHED}`,
    ),
    insertBackfill: p<[string, string, string, string, number, number, number]>(
      `INSERT INTO backfills (id, target, partitions, params, max_concurrent, status, launched, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'running', 0, ?, ?)`,
    ),
    backfill: p<[string], BackfillRow>('SELECT * FROM backfills WHERE id = ?'),
    updateBackfill: p<
      [BackfillStatus, number, number, number | null, string, BackfillStatus, number],
      BackfillRow
    >(
      `UPDATE backfills SET status = ?, launched = ?, updated_at = ?, finished_at = ?
       WHERE id = ? AND status = ? AND launched = ? RETURNING *`,
    ),
    upsertSensor: p<[string, string, number, number, number]>(
      `INSERT INTO sensors (name, target, interval_ms, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET target = excluded.target, interval_ms = excluded.interval_ms,
         updated_at = excluded.updated_at
       WHERE sensors.target <> excluded.target OR sensors.interval_ms <> excluded.interval_ms`,
    ),
    sensors: p<[], SensorRow>('SELECT * FROM sensors ORDER BY name'),
    sensor: p<[string], SensorRow>('SELECT * FROM sensors WHERE name = ?'),
    pauseSensor: p<[number, number, number, string], SensorRow>(
      `UPDATE sensors SET updated_at = CASE WHEN paused = ? THEN updated_at ELSE ? END, paused = ?
       WHERE name = ? RETURNING *`,
    ),
    recordSensor: p<
      [string | null, number, string | null, string | null, number, string, string | null]
    >(
      `UPDATE sensors SET cursor = ?, evaluated_at = ?, last_error = ?,
         last_requested = CASE WHEN ? IS NULL THEN ? ELSE last_requested END
       WHERE name = ? AND cursor IS ?`,
    ),
  };
}

export class Partitions {
  readonly #db: Database.Database;
  readonly #s: ReturnType<typeof prepare>;
  /** Whether {@link admit} let a held run in since {@link takeAdmitted} last asked. */
  #admitted = false;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#s = prepare(db);
  }

  // Held runs (inside the caller's transaction) ---------------------------------------------

  /**
   * Whether a run being created waits held: its definition's active gated runs are at
   * `maxActive`, its serial trigger has an active run, or older runs wait for the same gate
   * (first come, first let in).
   */
  mustHold(definition: string, trigger: string, maxActive: number | null, serial: boolean) {
    if (maxActive !== null) {
      if (this.#s.activeGated.get(definition)! >= maxActive) return true;
      if (this.#s.heldGated.get(definition) !== undefined) return true;
    }
    if (serial) {
      if (this.#s.activeSerial.get(trigger)! > 0) return true;
      if (this.#s.heldSerial.get(definition, trigger) !== undefined) return true;
    }
    return false;
  }

  /**
   * A gated run of `definition` finished: lets in the held runs that now fit, best priority
   * then oldest first. Once the definition is full, only held runs without a `maxActive` (a
   * serial schedule's) may still go.
   */
  admit(definition: string, now: number): void {
    let full = false;
    for (const run of this.#s.heldRuns.all(definition)) {
      if (run.max_active !== null) {
        if (full) continue;
        if (this.#s.activeGated.get(definition)! >= run.max_active) {
          full = true;
          continue;
        }
      }
      if (run.serial && this.#s.activeSerial.get(run.trigger)! > 0) continue;
      if (this.#s.admitRun.run(now, run.id).changes > 0) {
        this.#s.releaseSteps.run(now, now, run.id);
        this.#admitted = true;
      }
    }
  }

  /**
   * Whether held runs were let in since the last call (and forgets it). Transactions run one
   * at a time and synchronously, so the flag belongs to the one that just ran.
   */
  takeAdmitted(): boolean {
    const admitted = this.#admitted;
    this.#admitted = false;
    return admitted;
  }

  // Partitions -------------------------------------------------------------------------------

  latestPartitionRuns(definition: string, trigger?: string): PartitionRun[] {
    const rows =
      trigger === undefined
        ? this.#s.latestPartitions.all(definition)
        : this.#s.latestPartitionsOf.all(definition, trigger);
    return rows.map((r) => ({
      partition: r.partition_key,
      runId: r.id,
      status: r.status,
      createdAt: r.created_at,
      finishedAt: r.finished_at,
    }));
  }

  countUnfinishedRuns(trigger: string): number {
    return this.#s.unfinishedPartitionRuns.get(trigger)!;
  }

  // Backfills --------------------------------------------------------------------------------

  createBackfill(b: NewBackfill): BackfillRecord {
    this.#s.insertBackfill.run(
      b.id,
      b.target,
      JSON.stringify(b.partitions),
      JSON.stringify(b.params ?? {}),
      b.maxConcurrent,
      b.now,
      b.now,
    );
    return toBackfill(this.#s.backfill.get(b.id)!);
  }

  getBackfill(id: string): BackfillRecord | null {
    const row = this.#s.backfill.get(id);
    return row ? toBackfill(row) : null;
  }

  listBackfills(options: {
    status?: BackfillStatus;
    target?: string;
    limit?: number;
  }): BackfillRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.status !== undefined) {
      where.push('status = ?');
      params.push(options.status);
    }
    if (options.target !== undefined) {
      where.push('target = ?');
      params.push(options.target);
    }
    const sql = `SELECT * FROM backfills ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...params, options.limit ?? -1) as BackfillRow[];
    return rows.map(toBackfill);
  }

  updateBackfill(u: UpdateBackfill): BackfillRecord | null {
    const status = u.status ?? u.from.status;
    const finishedAt = TERMINAL_BACKFILL.includes(status) ? u.now : null;
    const row = this.#s.updateBackfill.get(
      status,
      u.launched ?? u.from.launched,
      u.now,
      finishedAt,
      u.id,
      u.from.status,
      u.from.launched,
    );
    return row ? toBackfill(row) : null;
  }

  // Sensors ----------------------------------------------------------------------------------

  upsertSensors(sensors: readonly NewSensor[]): void {
    for (const s of sensors) this.#s.upsertSensor.run(s.name, s.target, s.intervalMs, s.now, s.now);
  }

  listSensors(): SensorRecord[] {
    return this.#s.sensors.all().map(toSensor);
  }

  getSensor(name: string): SensorRecord | null {
    const row = this.#s.sensor.get(name);
    return row ? toSensor(row) : null;
  }

  setSensorPaused(name: string, paused: boolean, now: number): SensorRecord | null {
    const flag = paused ? 1 : 0;
    const row = this.#s.pauseSensor.get(flag, now, flag, name);
    return row ? toSensor(row) : null;
  }

  recordSensorEvaluation(e: SensorEvaluation): boolean {
    return (
      this.#s.recordSensor.run(e.cursor, e.at, e.error, e.error, e.requested, e.name, e.from)
        .changes > 0
    );
  }
}
