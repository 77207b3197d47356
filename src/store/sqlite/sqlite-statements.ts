/**
 * Every fixed SQL statement of the SQLite store, prepared once per store. One statement per
 * job, named for it; the store composes them into transitions.
 */
import type Database from 'better-sqlite3';
import type { RunStatus } from '../../core/states.js';
import { runSourcesOf, stepSourcesOf } from '../../core/states.js';
import { WORKFLOW_STEP_KEY, type AttemptStatus, type StepKind } from '../contract/types.js';
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
} from './sqlite-rows.js';

/**
 * The `available_at` of a step no time makes claimable: a workflow run parked until something
 * wakes it, and every journal entry (the worker holding the run runs those inline). An integer
 * that sorts after every real time; the claim indexes of migration 0002 leave it out, and their
 * predicate repeats this number.
 */
export const NEVER = Number.MAX_SAFE_INTEGER;
/** A claimable step: must read exactly like the predicate of the `steps_claim` indexes. */
const CLAIMABLE = `available_at < ${NEVER}`;
/** Run updates to a final status also clear what a parked run waited for. */
const NOT_WAITING = 'waiting_for = NULL, wait_event = NULL, wait_key = NULL';
/** What a finishing statement returns ({@link FinishedRow}). */
const FINISHED = 'parent_run_id, definition, max_active, serial';
const RUN_STEP = `'${WORKFLOW_STEP_KEY}'`;

const list = (xs: readonly string[]): string => xs.map((s) => `'${s}'`).join(', ');
/** Unfinished steps. Must read exactly like the `steps_unfinished` index for SQLite to use it. */
const UNFINISHED = `status IN ('pending', 'queued', 'running')`;
const SKIPPABLE = `status IN (${list(stepSourcesOf('skipped'))})`;
const CANCELLABLE = `status IN (${list(stepSourcesOf('cancelled'))})`;
const runMayBecome = (to: RunStatus): string => `status IN (${list(runSourcesOf(to))})`;
/** The caller still holds the step: running, same attempt, same lease owner (fencing). */
const HELD = `run_id = ? AND key = ? AND status = 'running' AND attempt = ? AND lease_owner = ?`;

export interface ReadyRow {
  key: string;
  waiting_on: number;
  priority: number;
  /** JSON array, or null for none. */
  labels: string | null;
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
  serial: number;
}
export interface RunningRow {
  key: string;
  attempt: number;
  lease_owner: string | null;
  started_at: number | null;
}

/**
 * The queued steps a claim takes, best first; its shape depends on the filters (parameters, in
 * order: now, [runId], [definitions as a JSON array], [worker labels as a JSON array], limit).
 * A step with labels is claimed only by a worker that has them all.
 *
 * - The status and the NEVER bound are literals, not parameters, so SQLite can use the partial
 *   indexes (which leave out parked runs and journal entries).
 * - `+s.available_at` keeps SQLite off `steps_wake`: walking the claim index in order and
 *   stopping at the limit beats reading every available step and sorting them.
 * - CROSS JOIN keeps steps as the outer loop: driving from the runs of a definition would walk
 *   every old run of it.
 */
export function claimCandidatesSql(filters: {
  runId: boolean;
  definitions: boolean;
  labels: boolean;
}): string {
  const where = [`s.status = 'queued'`, `s.${CLAIMABLE}`, '+s.available_at <= ?'];
  if (filters.runId) where.push('s.run_id = ?');
  if (filters.definitions) where.push('r.definition IN (SELECT value FROM json_each(?))');
  where.push(
    filters.labels
      ? '(s.labels IS NULL OR NOT EXISTS (SELECT 1 FROM json_each(s.labels) l WHERE l.value NOT IN (SELECT value FROM json_each(?))))'
      : 's.labels IS NULL',
  );
  return (
    'SELECT s.run_id, s.key, s.node, s.parent_key, s.idx, s.attempt, r.kind, r.definition, r.input ' +
    `FROM steps s CROSS JOIN runs r ON r.id = s.run_id WHERE ${where.join(' AND ')} ` +
    'ORDER BY s.priority DESC, s.queued_at, s.key LIMIT ?'
  );
}

/** The part of a prepared statement the store uses, with its parameters and row typed. */
export interface Stmt<P extends unknown[], R> {
  readonly source: string;
  run(...params: P): Database.RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
  iterate(...params: P): IterableIterator<R>;
}

/** Every fixed statement, prepared once per store. */
export function prepareStatements(db: Database.Database) {
  const p = <P extends unknown[], R = never>(sql: string): Stmt<P, R> => db.prepare<P, R>(sql);
  /** A statement returning its first column only. */
  const p1 = <P extends unknown[], R>(sql: string): Stmt<P, R> => db.prepare<P, R>(sql).pluck();
  const stepColumns = `run_id, key, node, kind, status, output, waiting_on, available_at, priority, origin, queued_at, finished_at, labels`;
  return {
    // runs
    run: p<[string], RunRow>('SELECT * FROM runs WHERE id = ?'),
    finishedRuns: p<[string], RunRow>(
      `SELECT * FROM runs WHERE id IN (SELECT value FROM json_each(?))
         AND status IN ('succeeded', 'failed', 'cancelled')`,
    ),
    runStatus: p1<[string], RunStatus>('SELECT status FROM runs WHERE id = ?'),
    runInfo: p<[string], Pick<RunRow, 'status' | 'kind' | 'definition'>>(
      'SELECT status, kind, definition FROM runs WHERE id = ?',
    ),
    runByIdempotency: p<[string, string], RunRow>(
      'SELECT * FROM runs WHERE definition = ? AND idempotency_key = ?',
    ),
    insertRun: p<
      [
        string,
        string,
        string,
        string,
        string,
        string,
        string | null,
        string | null,
        string,
        number,
        number,
        number,
        string | null,
        number,
        number | null,
        number,
      ]
    >(
      `INSERT INTO runs (id, kind, definition, status, input, outputs, trigger, parent_run_id, idempotency_key, tags, priority, created_at, updated_at, partition_key, held, max_active, serial)
       VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // A waiting (parked) workflow run resumes when its `$run` step is claimed.
    startRun: p<[number, number, string]>(
      `UPDATE runs SET status = 'running', started_at = COALESCE(started_at, ?), updated_at = ?, ${NOT_WAITING}
       WHERE id = ? AND ${runMayBecome('running')}`,
    ),
    succeedRun: p<[number, number, number, string], FinishedRow>(
      `UPDATE runs SET status = 'succeeded', error = NULL, started_at = COALESCE(started_at, ?), finished_at = ?, updated_at = ?, ${NOT_WAITING}
       WHERE id = ? AND ${runMayBecome('succeeded')} RETURNING ${FINISHED}`,
    ),
    failRun: p<[number, number, number, string | null, string], FinishedRow>(
      `UPDATE runs SET status = 'failed', started_at = COALESCE(started_at, ?), finished_at = ?, updated_at = ?, error = ?, ${NOT_WAITING}
       WHERE id = ? AND ${runMayBecome('failed')} RETURNING ${FINISHED}`,
    ),
    cancelRun: p<[number, number, string | null, string], FinishedRow>(
      `UPDATE runs SET status = 'cancelled', held = 0, finished_at = ?, updated_at = ?, error = ?, ${NOT_WAITING}
       WHERE id = ? AND ${runMayBecome('cancelled')} RETURNING ${FINISHED}`,
    ),
    childRuns: p<[string], RunRow>('SELECT * FROM runs WHERE parent_run_id = ? ORDER BY id'),
    childIds: p1<[string], string>('SELECT id FROM runs WHERE parent_run_id = ? ORDER BY id'),
    // steps
    step: p<[string, string], StepRow>('SELECT * FROM steps WHERE run_id = ? AND key = ?'),
    steps: p<[string], StepRow>('SELECT * FROM steps WHERE run_id = ? ORDER BY rowid'),
    insertStep: p<
      [
        string,
        string,
        string,
        StepKind,
        string,
        string | null,
        number,
        number,
        number,
        string,
        number | null,
        number | null,
        string | null,
      ]
    >(`INSERT INTO steps (${stepColumns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    insertItem: p<[string, string, string, string, number, number, number, number, string | null]>(
      `INSERT INTO steps (run_id, key, node, parent_key, idx, status, available_at, priority, queued_at, labels)
       VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
    ),
    /** An item its expanding worker takes at once: running, attempt 1, leased to it. */
    insertRunningItem: p<
      [
        string,
        string,
        string,
        string,
        number,
        number,
        number,
        number,
        string | null,
        string,
        number,
        number,
      ]
    >(
      `INSERT INTO steps (run_id, key, node, parent_key, idx, status, available_at, priority, queued_at, labels,
         attempt, lease_owner, lease_expires_at, started_at)
       VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, 1, ?, ?, ?)`,
    ),
    insertEdge: p<[string, string, string]>(
      'INSERT OR IGNORE INTO step_edges (run_id, from_key, to_key) VALUES (?, ?, ?)',
    ),
    outputs: p<[string, string], { key: string; output: string | null }>(
      'SELECT key, output FROM steps WHERE run_id = ? AND key IN (SELECT value FROM json_each(?))',
    ),
    itemOutputs: p<[string, string], { output: string | null }>(
      'SELECT output FROM steps WHERE run_id = ? AND parent_key = ? ORDER BY idx',
    ),
    claim: p1<[string, number, number, string, string], number>(
      `UPDATE steps SET status = 'running', attempt = attempt + 1, lease_owner = ?, lease_expires_at = ?, started_at = ?
       WHERE run_id = ? AND key = ? AND status IN (${list(stepSourcesOf('running'))}) RETURNING attempt`,
    ),
    renewLease: p<[number, string, string, string]>(
      `UPDATE steps SET lease_expires_at = ? WHERE run_id = ? AND key = ? AND status = 'running' AND lease_owner = ?`,
    ),
    succeed: p<[string | null, number, string, string, number, string], HeldRow>(
      `UPDATE steps SET status = 'succeeded', output = ?, error = NULL, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL
       WHERE ${HELD} RETURNING started_at, parent_key, kind`,
    ),
    retry: p<[number, number, string | null, string, string, number, string], HeldRow>(
      `UPDATE steps SET status = 'queued', available_at = ?, queued_at = ?, error = ?, lease_owner = NULL, lease_expires_at = NULL
       WHERE ${HELD} RETURNING started_at, parent_key, kind`,
    ),
    fail: p<[string | null, number, string, string, number, string], HeldRow>(
      `UPDATE steps SET status = 'failed', error = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL
       WHERE ${HELD} RETURNING started_at, parent_key, kind`,
    ),
    expand: p<
      [number, string, string, number, string],
      { node: string; priority: number; labels: string | null }
    >(
      `UPDATE steps SET waiting_on = ?, lease_owner = NULL, lease_expires_at = NULL
       WHERE ${HELD} RETURNING node, priority, labels`,
    ),
    // Dependents of a finished step count down; those reaching zero stay pending until the
    // caller claims them (claimReady) or queues them (queueReady) in the same transaction.
    countDownDependents: p<[string, string], ReadyRow>(
      `UPDATE steps SET waiting_on = waiting_on - 1
       FROM step_edges e
       WHERE e.run_id = ? AND e.from_key = ? AND steps.run_id = e.run_id AND steps.key = e.to_key
         AND steps.status = 'pending'
       RETURNING steps.key, steps.waiting_on, steps.priority, steps.labels`,
    ),
    // A step run ahead by the worker, made ready earlier in the same batch: claimed by key.
    claimAhead: p<[string, number, number, string, string, number], { attempt: number }>(
      `UPDATE steps SET status = 'running', attempt = attempt + 1, lease_owner = ?, lease_expires_at = ?,
         started_at = ?
       WHERE run_id = ? AND key = ? AND status = 'queued' AND attempt = ? - 1
       RETURNING attempt`,
    ),
    claimReady: p<
      [string, number, number, number, number, string, string],
      Pick<ClaimRow, 'node' | 'parent_key' | 'idx' | 'attempt'>
    >(
      `UPDATE steps SET status = 'running', attempt = attempt + 1, lease_owner = ?, lease_expires_at = ?,
         queued_at = ?, available_at = ?, started_at = ?
       WHERE run_id = ? AND key = ? AND status = 'pending' AND waiting_on <= 0
       RETURNING node, parent_key, idx, attempt`,
    ),
    queueReady: p<[number, number, string, string, string]>(
      `UPDATE steps SET status = 'queued', queued_at = ?, available_at = ?
       WHERE run_id = ? AND status = 'pending' AND waiting_on <= 0
         AND key IN (SELECT to_key FROM step_edges WHERE run_id = ? AND from_key = ?)`,
    ),
    // A map step waiting on its items is running with no lease owner.
    countDownMap: p<[number, string, string], { status: string; parent_key: string | null }>(
      `UPDATE steps SET waiting_on = waiting_on - 1,
         status = CASE WHEN waiting_on <= 1 THEN 'succeeded' ELSE status END,
         finished_at = CASE WHEN waiting_on <= 1 THEN ? ELSE finished_at END
       WHERE run_id = ? AND key = ? AND status = 'running' AND lease_owner IS NULL
       RETURNING status, parent_key`,
    ),
    failMap: p<[string | null, number, string, string], { parent_key: string | null }>(
      `UPDATE steps SET status = 'failed', error = ?, finished_at = ?
       WHERE run_id = ? AND key = ? AND status = 'running' AND lease_owner IS NULL RETURNING parent_key`,
    ),
    skipItems: p<[number, string, string]>(
      `UPDATE steps SET status = 'skipped', finished_at = ? WHERE run_id = ? AND parent_key = ? AND ${SKIPPABLE}`,
    ),
    skipDependents: p1<[number, string, string, string], string>(
      `UPDATE steps SET status = 'skipped', finished_at = ?
       WHERE run_id = ? AND ${SKIPPABLE} AND key IN (SELECT to_key FROM step_edges WHERE run_id = ? AND from_key = ?)
       RETURNING key`,
    ),
    runningSteps: p<[string], RunningRow>(
      `SELECT key, attempt, lease_owner, started_at FROM steps WHERE run_id = ? AND ${UNFINISHED} AND status = 'running' ORDER BY rowid`,
    ),
    cancelSteps: p<[number, string]>(
      `UPDATE steps SET status = 'cancelled', finished_at = ?, lease_owner = NULL, lease_expires_at = NULL
       WHERE run_id = ? AND ${UNFINISHED} AND ${CANCELLABLE}`,
    ),
    anyUnfinished: p1<[string], number>(
      `SELECT 1 FROM steps WHERE run_id = ? AND ${UNFINISHED} LIMIT 1`,
    ),
    failedKeys: p1<[string], string>(
      `SELECT key FROM steps WHERE run_id = ? AND status = 'failed' ORDER BY rowid`,
    ),
    expired: p<[number], RunningRow & { run_id: string; lease_expires_at: number | null }>(
      `SELECT run_id, key, attempt, lease_owner, lease_expires_at, started_at FROM steps
       WHERE status = 'running' AND lease_expires_at < ? AND lease_owner IS NOT NULL`,
    ),
    expiredOrOwned: p<
      [number, string],
      RunningRow & { run_id: string; lease_expires_at: number | null }
    >(
      `SELECT run_id, key, attempt, lease_owner, lease_expires_at, started_at FROM steps
       WHERE status = 'running' AND lease_owner IS NOT NULL
         AND (lease_expires_at < ? OR lease_owner IN (SELECT value FROM json_each(?)))`,
    ),
    requeue: p<[number, number, string, string, number, string | null]>(
      `UPDATE steps SET status = 'queued', available_at = ?, queued_at = ?, lease_owner = NULL, lease_expires_at = NULL
       WHERE run_id = ? AND key = ? AND status = 'running' AND attempt = ? AND lease_owner = ?`,
    ),
    nextWake: p<[number], { at: number | null }>(
      `SELECT MIN(available_at) AS at FROM steps WHERE status = 'queued' AND available_at > ? AND ${CLAIMABLE}`,
    ),
    nextWakeOf: p<[number, string], { at: number | null }>(
      `SELECT MIN(s.available_at) AS at FROM steps s CROSS JOIN runs r ON r.id = s.run_id
       WHERE s.status = 'queued' AND s.available_at > ? AND s.${CLAIMABLE} AND r.definition IN (SELECT value FROM json_each(?))`,
    ),
    // workflows
    /** The caller holds the run's `$run` step at this attempt (the fence of journal writes). */
    heldRun: p<[string, string, number, string], { priority: number }>(
      `SELECT priority FROM steps WHERE ${HELD}`,
    ),
    // A journal entry never overwrites a pipeline node or the `$run` step (same key).
    upsertEntry: p<
      [
        string,
        string,
        string,
        StepKind,
        number,
        string,
        string | null,
        string | null,
        number,
        number,
        number | null,
        number | null,
      ]
    >(
      `INSERT INTO steps (run_id, key, node, kind, seq, status, output, error, attempt, available_at, priority, started_at, finished_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ${NEVER}, ?, ?, ?)
       ON CONFLICT (run_id, key) DO UPDATE SET node = excluded.node, kind = excluded.kind, seq = excluded.seq,
         status = excluded.status, output = excluded.output, error = excluded.error, attempt = excluded.attempt,
         started_at = excluded.started_at, finished_at = excluded.finished_at
       WHERE steps.kind NOT IN ('node', 'run')`,
    ),
    /** The `$run` step goes back to the queue until its wake-up time (or NEVER). */
    parkStep: p<[number, number, string, string, number, string]>(
      `UPDATE steps SET status = 'queued', available_at = ?, queued_at = ?, lease_owner = NULL, lease_expires_at = NULL
       WHERE ${HELD}`,
    ),
    parkRun: p<[string, string | null, string | null, number, string]>(
      `UPDATE runs SET status = 'waiting', waiting_for = ?, wait_event = ?, wait_key = ?, updated_at = ?
       WHERE id = ? AND ${runMayBecome('waiting')}`,
    ),
    /**
     * Makes a parked run's `$run` step claimable now (never later than it already was); a
     * `$run` step queued for a retry of a running run keeps its backoff. queued_at follows, so
     * woken runs are claimed in the order they were woken.
     */
    wakeRun: p<[number, number, number, string]>(
      `UPDATE steps SET queued_at = CASE WHEN available_at > ? THEN ? ELSE queued_at END, available_at = MIN(available_at, ?)
       WHERE run_id = ? AND key = ${RUN_STEP} AND status = 'queued'
         AND EXISTS (SELECT 1 FROM runs WHERE id = steps.run_id AND status = 'waiting')`,
    ),
    // The waits sendEvent may satisfy: keyed waits for the event's key, and unkeyed ones.
    keyedWaits: p<[string, string], { id: string; waiting_for: string }>(
      `SELECT id, waiting_for FROM runs WHERE wait_event = ? AND wait_key = ? AND status = 'waiting'`,
    ),
    unkeyedWaits: p<[string], { id: string; waiting_for: string }>(
      `SELECT id, waiting_for FROM runs WHERE wait_event = ? AND wait_key IS NULL AND status = 'waiting'`,
    ),
    // events
    insertEvent: p<[string, string, string | null, string, string | null, number]>(
      `INSERT INTO events (id, type, key, payload, idempotency_key, sent_at) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    eventByIdempotency: p<[string], EventRow>('SELECT * FROM events WHERE idempotency_key = ?'),
    /** Events a keyed wait sees: its key, whenever sent. Parameters: type, key, exclude (JSON). */
    keyedEvents: p<[string, string, string], EventRow>(
      `SELECT * FROM events WHERE type = ? AND key = ? AND id NOT IN (SELECT value FROM json_each(?))
       ORDER BY sent_at, id`,
    ),
    /** Events an unkeyed wait sees: any key, sent since. Parameters: type, since, exclude. */
    eventsSince: p<[string, number, string], EventRow>(
      `SELECT * FROM events WHERE type = ? AND sent_at >= ? AND id NOT IN (SELECT value FROM json_each(?))
       ORDER BY sent_at, id`,
    ),
    events: p<[number], EventRow>('SELECT * FROM events ORDER BY sent_at DESC, id DESC LIMIT ?'),
    eventsOfType: p<[string, number], EventRow>(
      'SELECT * FROM events WHERE type = ? ORDER BY sent_at DESC, id DESC LIMIT ?',
    ),
    allEventsSince: p<[number, number], EventRow>(
      'SELECT * FROM events WHERE sent_at >= ? ORDER BY sent_at, id LIMIT ?',
    ),
    failedRunsSince: p<[number, number], RunRow>(
      `SELECT * FROM runs WHERE status = 'failed' AND finished_at >= ?
       ORDER BY finished_at, id LIMIT ?`,
    ),
    cursor: p<[string], { at: number }>('SELECT at FROM cursors WHERE name = ?'),
    setCursor: p<[string, number, number]>(
      `INSERT INTO cursors (name, at, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET at = excluded.at, updated_at = excluded.updated_at`,
    ),
    // attempts, logs, workers
    insertAttempt: p<
      [string, string, number, AttemptStatus, string | null, number, number, string | null]
    >(
      `INSERT INTO attempts (run_id, step_key, attempt, status, worker_id, started_at, finished_at, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    /** A journal entry's attempt: written again if the same attempt is recorded twice. */
    upsertAttempt: p<
      [string, string, number, AttemptStatus, string | null, number, number, string | null]
    >(
      `INSERT INTO attempts (run_id, step_key, attempt, status, worker_id, started_at, finished_at, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, step_key, attempt) DO UPDATE SET status = excluded.status,
         worker_id = excluded.worker_id, started_at = excluded.started_at,
         finished_at = excluded.finished_at, error = excluded.error`,
    ),
    attempts: p<[string], AttemptRow>(
      'SELECT * FROM attempts WHERE run_id = ? ORDER BY finished_at, step_key, attempt',
    ),
    insertLog: p<[string, string | null, number | null, number, string, string]>(
      'INSERT INTO logs (run_id, step_key, attempt, at, level, message) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    logs: p<[string, number, number], LogRow>(
      'SELECT * FROM logs WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    ),
    stepLogs: p<[string, string, number, number], LogRow>(
      'SELECT * FROM logs WHERE run_id = ? AND step_key = ? AND seq > ? ORDER BY seq LIMIT ?',
    ),
    upsertWorker: p<[string, string, number, number, number, string, string]>(
      `INSERT INTO workers (id, host, pid, started_at, heartbeat_at, definitions, labels) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, started_at = excluded.started_at,
         heartbeat_at = excluded.heartbeat_at, definitions = excluded.definitions, labels = excluded.labels`,
    ),
    workers: p<[], WorkerRow>('SELECT * FROM workers ORDER BY started_at, id'),
    removeWorker: p<[string]>('DELETE FROM workers WHERE id = ?'),
    // Reads the `steps_leases` partial index: only running steps.
    runningByWorker: p<[], { worker: string; running: number }>(
      `SELECT lease_owner AS worker, COUNT(*) AS running FROM steps
       WHERE status = 'running' AND lease_owner IS NOT NULL GROUP BY lease_owner`,
    ),
    // definitions
    upsertDefinition: p<[string, string, string, string | null, string, string, number]>(
      `INSERT INTO definitions (name, kind, graph, input_schema, code_hash, labels, registered_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, graph = excluded.graph,
         input_schema = excluded.input_schema, code_hash = excluded.code_hash,
         labels = excluded.labels, registered_at = excluded.registered_at`,
    ),
    definitions: p<[], DefinitionRow>('SELECT * FROM definitions ORDER BY name'),
    // schedules
    // A schedule registered again keeps its pause, cursor and creation time; its row is
    // rewritten only when something changed, and updated_at moves only with the target or the
    // spec (compared as the canonical text both were written as).
    upsertSchedule: p<[string, string, string, string, number, number]>(
      `INSERT INTO schedules (name, target, spec, source, paused, cursor, created_at, updated_at)
       VALUES (?, ?, ?, ?, 0, NULL, ?, ?)
       ON CONFLICT (name) DO UPDATE SET target = excluded.target, spec = excluded.spec,
         source = excluded.source,
         updated_at = CASE WHEN schedules.target = excluded.target AND schedules.spec = excluded.spec
           THEN schedules.updated_at ELSE excluded.updated_at END
       WHERE schedules.target <> excluded.target OR schedules.spec <> excluded.spec
         OR schedules.source <> excluded.source`,
    ),
    schedules: p<[], ScheduleRow>('SELECT * FROM schedules ORDER BY name'),
    schedule: p<[string], ScheduleRow>('SELECT * FROM schedules WHERE name = ?'),
    // Pausing a paused schedule (or resuming a running one) changes nothing, not even updated_at.
    pauseSchedule: p<[number, number, number, string], ScheduleRow>(
      `UPDATE schedules SET updated_at = CASE WHEN paused = ? THEN updated_at ELSE ? END, paused = ?
       WHERE name = ? RETURNING *`,
    ),
    // Compare and set: `IS` matches NULL to NULL (no cursor yet).
    advanceSchedule: p<[number, string, number | null]>(
      'UPDATE schedules SET cursor = ? WHERE name = ? AND cursor IS ?',
    ),
    deleteSchedule: p<[string]>('DELETE FROM schedules WHERE name = ?'),
    // global concurrency slots
    holds: p1<[string, string, number, string], number>(`SELECT 1 FROM steps WHERE ${HELD}`),
    sweepSlot: p<[string]>(
      `DELETE FROM slot_holders WHERE slot = ? AND NOT EXISTS (
         SELECT 1 FROM steps s WHERE s.run_id = slot_holders.run_id AND s.key = slot_holders.step_key
           AND s.status = 'running' AND s.attempt = slot_holders.attempt)`,
    ),
    slotHolders: p1<[string], number>('SELECT COUNT(*) FROM slot_holders WHERE slot = ?'),
    holdsSlot: p1<[string, string, string, number], number>(
      'SELECT 1 FROM slot_holders WHERE slot = ? AND run_id = ? AND step_key = ? AND attempt = ?',
    ),
    takeSlot: p<[string, string, string, number]>(
      'INSERT OR IGNORE INTO slot_holders (slot, run_id, step_key, attempt) VALUES (?, ?, ?, ?)',
    ),
    defer: p<[number, string, string, string, number, string]>(
      `UPDATE steps SET status = 'queued', attempt = attempt - 1, available_at = ?, waiting_slot = ?,
         lease_owner = NULL, lease_expires_at = NULL, started_at = NULL
       WHERE ${HELD}`,
    ),
    // One step deferred for a slot that was just freed becomes available now.
    wakeSlot: p<[number, string, number]>(
      `UPDATE steps SET available_at = ? WHERE rowid = (
         SELECT rowid FROM steps WHERE waiting_slot = ? AND status = 'queued' AND available_at > ?
         ORDER BY priority DESC, queued_at LIMIT 1)`,
    ),
    // leadership
    lead: p<[string, string, number, number, string], { holder: string }>(
      `INSERT INTO leaders (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE leaders.expires_at <= ? OR leaders.holder = ?
       RETURNING holder`,
    ),
    resign: p<[string, string]>('DELETE FROM leaders WHERE name = ? AND holder = ?'),
  };
}
