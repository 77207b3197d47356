/**
 * Riding out a Postgres outage: a restart, a failover, a connection cut by the network. A store
 * call that loses its connection waits and tries again on a fresh one — 50 ms, doubling to 1 s
 * between tries — until Postgres answers or the reconnect window (`reconnectWindowMs`, 60 s by
 * default) has passed since the call's first failure; then it throws `store_unavailable`,
 * naming the window. No process restarts: the pool drops its dead connections and opens new
 * ones as Postgres comes back.
 *
 * The rules:
 *
 * - Only connection failures are retried ({@link isConnectionError}): the socket refused,
 *   reset or timed out; Postgres shutting down or starting up (57P01, 57P02, 57P03); SQLSTATE
 *   class 08; a connection that ended under a query. An error Postgres reports for the SQL
 *   itself (a constraint, a bad value) is thrown at once, as before. Deadlock victims are run
 *   again by the store's transaction wrapper, with a bound of their own.
 * - A store that never reached Postgres does not wait: a wrong URL or a server that isn't
 *   there fails `PostgresStore.connect` at once, with the driver's error.
 * - A failure before COMMIT was sent rolled the transaction back: it is run again from the
 *   start, on a fresh connection, with nothing of the failed try kept.
 * - A failure while COMMIT was in flight (or while a single statement ran outside a
 *   transaction) is ambiguous: the transaction may have committed, its reply lost. So
 *   everything the store writes must be safe to write again after it may already have
 *   committed:
 *   - transitions fenced by the step's status, attempt and lease owner (`completeStep(s)`,
 *     `failStep`, `expandStep`, `parkRun`, `deferStep`) are refused the second time
 *     (`applied: false`) when the first try committed; the engine reads a refused result as
 *     "recorded already or no longer mine" and moves on, and the run goes on from what is in
 *     the database. Steps the lost commit claimed for this worker (`claimNext`, a chain run
 *     ahead) are held by no one in memory: their lease expires and the reaper queues them
 *     again (an `interrupted` attempt, then a new one: at least once, never lost);
 *   - `createRun` and `sendEvent` write rows under ids the caller chose: after an ambiguous
 *     commit the next try first looks the id up and, if the row is there, returns it
 *     (`created: true`: this call did create it) instead of inserting it again (a run written
 *     by a single statement is looked up when the repeated insert finds its id taken);
 *   - `claimSteps`: claims whose reply was lost expire with their lease, as above;
 *   - `recordEntry` writes a journal entry and its attempt row by key (upserts), still fenced by
 *     the run's `$run` step, which the first try left held: a repeat writes the same values;
 *   - `appendLogs` (and the log lines of a repeated `recordEntry`): lines carry no key, so a
 *     batch whose reply was lost may be stored twice. Accepted: logs are for reading, and no
 *     transition depends on them;
 *   - `upsertWorker`, `removeWorker`, `registerDefinitions`, `renewLeases`, `requeueExpired`,
 *     `cancelRun` (refused when already cancelled), `acquireSlot` (a slot the step already holds
 *     is granted again) and migrations (versions already applied are skipped) are idempotent.
 *   - `advanceSchedule` is fenced by the cursor it was given: a repeat of a move that went
 *     through is refused (false), as a move another scheduler made first; `upsertSchedules`,
 *     `setSchedulePaused` and `deleteSchedule` (false the second time) are idempotent.
 *   - `createBackfill` inserts under the id the caller chose (a repeat inserts nothing and
 *     reads it back); `updateBackfill` and `recordSensorEvaluation` are fenced by the state they
 *     were given, as `advanceSchedule`; `upsertSensors` and `setSensorPaused` are idempotent.
 *
 * A new write added to the store must follow the same rules: fenced, keyed by an id it can look
 * up, or idempotent.
 */
import { WeftError } from '../../core/errors.js';
import type { EventRecord, NewRun, RunRecord } from '../contract/types.js';
import { toEvent, toRun, type EventRow } from './pg-rows.js';
import * as S from './pg-statements.js';
import type { Db } from './pg-statements.js';

/** How long a store call waits for Postgres to come back, by default. */
export const DEFAULT_RECONNECT_WINDOW_MS = 60_000;

const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 1000;

/** Socket errors of a server that is down, restarting or unreachable for now. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server going away or not ready yet: admin_shutdown (a fast or smart shutdown,
 * `pg_terminate_backend`), crash_shutdown, cannot_connect_now (starting up, shutting down, in
 * recovery).
 */
const SERVER_CODES = new Set(['57P01', '57P02', '57P03']);

/** node-postgres reports a connection lost under it by message only. */
const LOST_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'Client has encountered a connection error and is not queryable',
  'timeout exceeded when trying to connect',
];

/** Whether `error` means the connection to Postgres failed, rather than the SQL on it. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code) || SERVER_CODES.has(code)) return true;
    // Class 08, connection exceptions, except a protocol violation (a bug, not an outage).
    if (code.startsWith('08') && code !== '08P01') return true;
  }
  return LOST_MESSAGES.some((m) => error.message.startsWith(m));
}

export interface ReconnectOptions {
  /** How long to keep trying after the first failure; 0 never retries. */
  windowMs: number;
  /** False until the store first connected: until then a failure is thrown at once. */
  reached: () => boolean;
  /** True once the store is closed: nothing is retried any more. */
  closed: () => boolean;
}

/**
 * The tries of one store call through an outage. {@link failed} is called with each error:
 * it throws what must not be retried and otherwise resolves when it is time to try again.
 */
export class Outage {
  readonly #options: ReconnectOptions;
  #since: number | undefined;
  #delay = FIRST_DELAY_MS;

  constructor(options: ReconnectOptions) {
    this.#options = options;
  }

  /** Whether the call has lost a connection yet. */
  get started(): boolean {
    return this.#since !== undefined;
  }

  async failed(error: unknown): Promise<void> {
    const o = this.#options;
    if (!isConnectionError(error) || !o.reached() || o.closed() || o.windowMs <= 0) throw error;
    const now = Date.now();
    this.#since ??= now;
    const left = this.#since + o.windowMs - now;
    if (left <= 0) throw unavailable(error, o.windowMs);
    const delay = Math.min(this.#delay, left);
    this.#delay = Math.min(this.#delay * 2, MAX_DELAY_MS);
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (o.closed()) throw error;
  }
}

/** Runs `attempt` until it succeeds, through connection failures (see {@link Outage}). */
export async function withReconnect<T>(
  options: ReconnectOptions,
  attempt: () => Promise<T>,
): Promise<T> {
  const outage = new Outage(options);
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      await outage.failed(error);
    }
  }
}

/**
 * `createRun`'s recovery after an ambiguous COMMIT: the run, if that COMMIT created it. Its
 * steps went in the same transaction, so they are there too.
 */
export function recoverRun(
  id: string,
): (db: Db) => Promise<{ run: RunRecord; created: boolean; claimed: [] } | undefined> {
  return async (db) => {
    const row = await S.run(db, id);
    // Steps the lost COMMIT claimed for the caller are not handed to it: their leases expire
    // and they run then (at least once).
    return row ? { run: toRun(row), created: true, claimed: [] } : undefined;
  };
}

/**
 * `createRuns`' recovery after an ambiguous COMMIT: the runs, if that COMMIT stored them (one
 * transaction stored all of them or none). A run it did not insert had its idempotency key
 * taken: the run holding the key is returned, `created: false`.
 */
export function recoverRuns(
  runs: readonly NewRun[],
): (db: Db) => Promise<{ run: RunRecord; created: boolean }[] | undefined> {
  return async (db) => {
    const rows = await Promise.all(runs.map((r) => S.run(db, r.id)));
    if (rows.every((row) => row === undefined)) return undefined;
    const out: { run: RunRecord; created: boolean }[] = [];
    for (const [i, run] of runs.entries()) {
      const row = rows[i] ?? (await S.runByIdempotency(db, run.definition, run.idempotencyKey!));
      if (!row)
        throw new WeftError('idempotency_conflict', `run key ${run.idempotencyKey} vanished`);
      out.push({ run: toRun(row), created: rows[i] !== undefined });
    }
    return out;
  };
}

/**
 * `sendEvent`'s recovery after an ambiguous COMMIT: the event, if that COMMIT stored it. The
 * runs it woke are awake, but which ones was in the lost reply: `woken` comes back empty, and
 * workers find those runs by polling.
 */
export function recoverEvent(
  id: string,
): (db: Db) => Promise<{ event: EventRecord; created: boolean; woken: string[] } | undefined> {
  return async (db) => {
    const row = (await db.query<EventRow>('SELECT * FROM events WHERE id = $1', [id])).rows[0];
    return row ? { event: toEvent(row), created: true, woken: [] } : undefined;
  };
}

function unavailable(cause: unknown, windowMs: number): WeftError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new WeftError(
    'store_unavailable',
    `Postgres could not be reached for ${formatWindow(windowMs)}, the store's reconnect window ` +
      `(reconnectWindowMs): ${reason}. Check that the database server is up and reachable.`,
    { cause },
  );
}

function formatWindow(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
