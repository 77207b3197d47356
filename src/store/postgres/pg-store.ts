/**
 * The distributed store: one Postgres database shared by any number of servers and workers,
 * through a `pg.Pool`. Every write method is ONE transaction (READ COMMITTED), and every
 * transition of a run first locks the run's row, so transitions of one run happen one at a
 * time, as under SQLite's single writer, while different runs move in parallel. Claims lock
 * only the steps they take, `FOR UPDATE SKIP LOCKED`, so workers never queue behind each other.
 *
 * ```ts
 * const store = await PostgresStore.connect(process.env.DATABASE_URL!); // migrates
 * const claimed = await store.claimSteps({ workerId, limit: 8, now: Date.now(), leaseMs: 30_000 });
 * ```
 *
 * A transaction that Postgres aborts as a deadlock victim is retried from the start; nothing
 * outside the database happened in it. Deadlocks are possible but rare: a first claim of a run
 * holds a step and wants the run's row while a cancellation holds the row and wants the step;
 * a finishing child locks its own row then its parent's, while cancelling the parent locks them
 * the other way round. Postgres detects them after `deadlock_timeout` (1 s by default).
 */
import pg from 'pg';
import { NotFoundError, WeftError, type SerializedError } from '../../core/errors.js';
import { isTerminalRun } from '../../core/states.js';
import type { Store } from '../contract/store.js';
import type {
  AcquireSlot,
  CreateClaim,
  AttemptRecord,
  BackfillRecord,
  BackfillStatus,
  NewBackfill,
  NewSensor,
  PartitionRun,
  SensorEvaluation,
  SensorRecord,
  UpdateBackfill,
  DefinitionRecord,
  DeferStep,
  Leadership,
  ClaimOptions,
  ClaimedStep,
  CompleteStep,
  EventQuery,
  EventRecord,
  ExpandStep,
  FailStep,
  ListRunsQuery,
  LogRecord,
  NewEvent,
  NewLog,
  NewRun,
  NewSchedule,
  NewStep,
  ParkRun,
  RecordEntry,
  RunRecord,
  ScheduleRecord,
  StepRecord,
  TransitionResult,
  WaitInfo,
  WorkerRecord,
} from '../contract/types.js';
import { WORKFLOW_STEP_KEY, prefixEnd } from '../contract/types.js';
import { checkEntries } from '../contract/entries.js';
import { claimedItems, itemsTaken } from '../contract/expand.js';
import { checkNewSteps, checkRunsSteps } from '../contract/new-steps.js';
import { findEvent, lazyPayload, satisfies } from './pg-events.js';
import { migrate, quoteIdent, shippedMigrations } from './pg-migrate.js';
import {
  json,
  toAttempt,
  toClaimed,
  toDefinition,
  toEvent,
  toLog,
  toRun,
  toSchedule,
  toStep,
  toWorker,
  type RunRow,
} from './pg-rows.js';
import { compactStep, insertPlainRuns, stepRows, type NewStepRow } from './pg-bulk.js';
import { insertedRun } from '../contract/new-run.js';
import * as P from './pg-partitions.js';
import * as S from './pg-statements.js';
import { NEVER, claimQueued, type ClaimedRow, type Db } from './pg-statements.js';
import * as T from './pg-transitions.js';
import {
  DEFAULT_RECONNECT_WINDOW_MS,
  isConnectionError,
  Outage,
  recoverEvent,
  recoverRun,
  recoverRuns,
  withReconnect,
  type ReconnectOptions,
} from './pg-retry.js';
import { WorkSubscription } from './pg-listen.js';
import { Notifier, notifyAfterCommit, takeNotify } from './pg-notify.js';
import { batchable, batchMayWake, completeBatch } from './pg-batch.js';

export interface PostgresStoreOptions {
  /**
   * The schema holding Weft's tables (created by `migrate` if missing). Default: the
   * connection's search_path (usually `public`).
   */
  schema?: string;
  /** Apply pending migrations on connect. Default true. */
  migrate?: boolean;
  /**
   * How long a store call waits for Postgres to come back when its connection fails (a
   * restart, a failover) before it throws `store_unavailable`, in milliseconds. Default 60 s;
   * 0 never waits. A store that never connected does not wait: see `pg-retry.ts`.
   */
  reconnectWindowMs?: number;
}

/** SQLSTATEs of a transaction Postgres aborted that may simply be run again. */
const RETRYABLE = new Set(['40P01', '40001']); // deadlock_detected, serialization_failure
const MAX_TRIES = 5;

/**
 * Type parsers of the store's connections: BIGINT (times, log seqs; all below 2^53) as JS
 * numbers instead of strings. Set per pool, not on the process-wide `pg.types`, so an
 * application's own pools keep their parsing.
 */
const INT8: number = pg.types.builtins.INT8;
const toNumber = (value: string): number => Number(value);
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8 ? toNumber : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** A unique violation of `constraint` (SQLSTATE 23505). */
function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && e.constraint === constraint;
}

/**
 * Whether a transition may have given other processes something to do or to see: work queued
 * that the caller did not claim, or a run that finished (a caller elsewhere may be waiting).
 */
function mayWake(result: TransitionResult): boolean {
  return result.applied && (result.queuedMore || isTerminalRun(result.runStatus));
}

/** The `random_page_cost` of the store's connections (Postgres's default is 4). */
export const RANDOM_PAGE_COST = 1.1;
/** A bulk insert of at least this many runs refreshes the planner's statistics. */
const ANALYZE_AFTER_RUNS = 500;
/** At most one statistics refresh per store in this long. */
const ANALYZE_EVERY_MS = 10_000;

/** A top-level step its run's creator claims as it inserts the run: attempt 1, leased until `lease`. */
function creatorClaim(
  run: NewRun,
  step: { key: string; node: string },
  lease: number,
): ClaimedStep {
  return {
    runId: run.id,
    key: step.key,
    node: step.node,
    parentKey: null,
    index: null,
    attempt: 1,
    kind: run.kind,
    definition: run.definition,
    leaseExpiresAt: lease,
    input: run.input,
  };
}

export class PostgresStore implements Store {
  readonly dialect = 'postgres' as const;
  readonly #pool: pg.Pool;
  /** Notifies the work channel after the commits that asked for it (see `pg-notify.ts`). */
  readonly #notifier: Notifier;
  readonly #schema: string | undefined;
  readonly #reconnect: ReconnectOptions;
  /** Whether a connection ever succeeded: only then is a failure an outage to wait out. */
  #reached = false;
  #closed = false;
  /** When this store last refreshed the planner's statistics (`#analyzeSoon`). */
  #analyzedAt = 0;
  /** How to open a connection of its own (leadership, LISTEN), as the pool opens its. */
  #config: pg.ClientConfig = {};
  readonly #connections = new Set<pg.Client>();
  /** Server process ids of the pool's connections. */
  readonly #backends = new Set<number>();
  readonly #subscriptions = new Set<WorkSubscription>();

  /**
   * Connects a pool to the database at `config` (a connection string or a `pg.PoolConfig`) and,
   * unless `options.migrate` is false, applies pending migrations (refusing a database
   * migrated by a newer Weft).
   */
  static async connect(
    config: string | pg.PoolConfig,
    options: PostgresStoreOptions = {},
  ): Promise<PostgresStore> {
    const base: pg.PoolConfig = typeof config === 'string' ? { connectionString: config } : config;
    // A server that doesn't answer (a host gone, packets dropped) fails a connection attempt
    // after 10 s, to be tried again, instead of hanging on the OS's TCP timeout.
    const poolConfig: pg.PoolConfig = { connectionTimeoutMillis: 10_000, ...base, types };
    // Planner costs for data read from memory or SSD (the usual advice for both): at the
    // default of 4, the planner prefers scanning a table of a few thousand steps over looking
    // up a batch of them by key, on every batch. The connection's own options come after, and
    // win.
    const settings = [`-c random_page_cost=${RANDOM_PAGE_COST}`];
    if (base.options) settings.push(base.options);
    if (options.schema !== undefined) {
      settings.push(`-c search_path=${quoteIdent(options.schema).replaceAll(' ', '\\ ')}`);
    }
    poolConfig.options = settings.join(' ');
    const store = new PostgresStore(
      new pg.Pool(poolConfig),
      options.schema,
      options.reconnectWindowMs ?? DEFAULT_RECONNECT_WINDOW_MS,
    );
    store.#config = poolConfig;
    if (options.migrate !== false) {
      try {
        await store.migrate();
      } catch (error) {
        await store.close();
        throw error;
      }
    }
    return store;
  }

  private constructor(pool: pg.Pool, schema: string | undefined, reconnectWindowMs: number) {
    this.#pool = pool;
    this.#notifier = new Notifier(pool);
    this.#schema = schema;
    this.#reconnect = {
      windowMs: reconnectWindowMs,
      reached: () => this.#reached,
      closed: () => this.#closed,
    };
    // An idle connection that dies (a Postgres restart) is dropped by the pool and replaced on
    // next use; without a listener its error would crash the process.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => {
      this.#reached = true;
      // The server process behind each connection: a notification it sent is this store's own.
      const pid = (client as pg.PoolClient & { processID?: number }).processID;
      if (pid !== undefined) {
        this.#backends.add(pid);
        client.once('end', () => this.#backends.delete(pid));
      }
      // A connection that dies while checked out (between two statements of a transaction)
      // emits `error` too, where the pool listens only to idle ones. The statement in flight,
      // or the next one, fails with it, and #tx drops the connection.
      client.on('error', () => undefined);
    });
    // Every single statement the store sends through the pool (reads, and writes that are one
    // statement) rides out an outage. Statements in a transaction go through #tx instead.
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    pool.query = ((...args: unknown[]) => {
      const last = args[args.length - 1];
      const first = args[0] as { submit?: unknown } | null;
      // Callback and streaming forms (not used by the store) pass through untouched.
      if (typeof last === 'function' || typeof first?.submit === 'function') return query(...args);
      return withReconnect(this.#reconnect, () => query(...args) as Promise<unknown>);
    }) as typeof pool.query;
  }

  async migrate(): Promise<void> {
    // Safe to run again after an ambiguous COMMIT: versions already applied are skipped.
    await withReconnect(this.#reconnect, async () => {
      const client = await this.#pool.connect();
      let broken: Error | undefined;
      try {
        await migrate(
          client,
          shippedMigrations(),
          this.#schema === undefined ? {} : { schema: this.#schema },
        );
      } catch (error) {
        // A connection that failed is destroyed, not handed to the next caller.
        if (isConnectionError(error)) broken = error as Error;
        throw error;
      } finally {
        client.release(broken);
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [...this.#subscriptions]) await s.stop();
    this.#subscriptions.clear();
    for (const c of [...this.#connections]) await c.end().catch(() => undefined);
    this.#connections.clear();
    await this.#notifier.settled();
    await this.#pool.end();
  }

  // Runs -----------------------------------------------------------------------------------

  async createRun(
    run: NewRun,
    steps: NewStep[],
    claim?: CreateClaim,
  ): Promise<{ run: RunRecord; created: boolean; claimed: ClaimedStep[] }> {
    const checked = checkNewSteps(run.definition, steps);
    // A run with no edges, no gate and something to do is written by one statement: it needs
    // no transaction around it (one commit, two round trips fewer).
    const single =
      run.maxActive == null &&
      !run.serial &&
      checked.every((c) => c.deps.length === 0) &&
      checked.some((c) => c.step.override === undefined);
    if (!single) {
      return this.#tx((db) => this.#insertRun(db, run, checked, claim), recoverRun(run.id));
    }
    try {
      return await this.#statement((db) => this.#insertRun(db, run, checked, claim));
    } catch (error) {
      // The pool sends a statement again after a lost connection: if the lost try had
      // committed, the run is there under its id (ids are the caller's, never reused).
      if (isUniqueViolation(error, 'runs_pkey')) {
        const found = await recoverRun(run.id)(this.#pool);
        if (found) return found;
      }
      throw error;
    }
  }

  async createRuns(
    runs: readonly { run: NewRun; steps: NewStep[] }[],
  ): Promise<{ run: RunRecord; created: boolean }[]> {
    if (runs.length === 0) return [];
    const checked = checkRunsSteps(runs);
    const results = await this.#tx(
      async (db) => {
        const out: { run: RunRecord; created: boolean }[] = new Array<{
          run: RunRecord;
          created: boolean;
        }>(runs.length);
        // Runs without gates go in set-based (three statements whatever their number); a gated
        // run counts its definition's active runs first, one at a time.
        const plain: number[] = [];
        for (const [i, { run }] of runs.entries()) {
          if ((run.maxActive ?? null) !== null || run.serial) {
            const { run: record, created } = await this.#insertRun(db, run, checked[i]!, undefined);
            out[i] = { run: record, created };
          } else {
            plain.push(i);
          }
        }
        if (plain.length > 0) {
          const inserted = await insertPlainRuns(
            db,
            plain.map((i) => ({ run: runs[i]!.run, checked: checked[i]! })),
          );
          let queued = false;
          for (const i of plain) {
            const run = runs[i]!.run;
            if (!inserted.inserted.has(run.id)) {
              // Its idempotency key is taken (by an earlier run, or one earlier in this batch).
              const existing = await S.runByIdempotency(db, run.definition, run.idempotencyKey!);
              if (!existing) {
                throw new WeftError(
                  'idempotency_conflict',
                  `run key ${run.idempotencyKey} vanished`,
                );
              }
              out[i] = { run: toRun(existing), created: false };
              continue;
            }
            if (inserted.queued.has(run.id)) queued = true;
            // Nothing to run (all overridden): done as it is created.
            const done = inserted.unfinished.has(run.id)
              ? null
              : await T.finishIfDone(db, run.id, run.createdAt);
            out[i] = { run: done ?? insertedRun(run), created: true };
          }
          if (queued) notifyAfterCommit(db);
        }
        return out;
      },
      recoverRuns(runs.map((r) => r.run)),
    );
    if (runs.length >= ANALYZE_AFTER_RUNS) this.#analyzeSoon();
    return results;
  }

  /**
   * Refreshes the planner's statistics of `runs` and `steps` in the background, at most every
   * {@link ANALYZE_EVERY_MS}. A burst of runs in a fresh database (or one much larger than the
   * last statistics knew) would otherwise be claimed with a plan made for a near-empty table
   * (every queued step read and sorted for each claim, 20 ms at 20,000 queued) until autovacuum
   * analyzes them, up to a minute later.
   */
  #analyzeSoon(): void {
    const now = Date.now();
    if (now - this.#analyzedAt < ANALYZE_EVERY_MS) return;
    this.#analyzedAt = now;
    void this.#pool.query('ANALYZE runs, steps').catch(() => undefined);
  }

  /** `createRun` inside the caller's transaction. */
  async #insertRun(
    db: Db,
    run: NewRun,
    checked: ReturnType<typeof checkNewSteps>,
    claim: CreateClaim | undefined,
  ): Promise<{ run: RunRecord; created: boolean; claimed: ClaimedStep[] }> {
    const key = run.idempotencyKey ?? null;
    const at = run.createdAt;
    const priority = run.priority ?? 0;
    const maxActive = run.maxActive ?? null;
    const serial = run.serial ?? false;
    const held =
      (maxActive !== null || serial) &&
      (await P.mustHold(db, run.definition, run.trigger, maxActive, serial));
    // A gated run is never compact, so `held` is false here.
    const compact = compactStep(run, checked);
    if (compact) return this.#insertCompactRun(db, run, compact, claim);
    const { rows, edges, unfinished } = stepRows(run, checked);
    // The creator claims the first steps as it inserts them (`running`, attempt 1, leased to
    // it), in claim order: priority, then key; only those whose labels it has.
    const claimedAt: number[] = [];
    if (claim && claim.limit > 0 && !held) {
      const mine = claim.labels ?? [];
      const candidates = rows
        .map((row, i) => ({ row, i }))
        .filter(({ row, i }) => {
          const labels = checked[i]!.step.labels ?? [];
          return row.status === 'queued' && labels.every((l) => mine.includes(l));
        })
        .sort(
          (a, b) =>
            b.row.priority - a.row.priority ||
            (a.row.key < b.row.key ? -1 : a.row.key > b.row.key ? 1 : 0),
        )
        .slice(0, claim.limit);
      for (const { i } of candidates) claimedAt.push(i);
    }
    const claimedKeys = new Set(claimedAt);
    const column = <K extends keyof NewStepRow>(name: K): NewStepRow[K][] =>
      rows.map((row) => row[name]);
    const lease = claim ? at + claim.leaseMs : null;
    // The run and its steps in one statement (no steps when its idempotency key is taken).
    const inserted = await S.insertRunAndSteps(
      db,
      run.id,
      run.kind,
      run.definition,
      run.input,
      run.outputs,
      run.trigger,
      run.parentRunId ?? null,
      key,
      run.tags ?? [],
      priority,
      at,
      run.partition ?? null,
      held,
      maxActive,
      serial,
      column('key'),
      column('node'),
      column('kind'),
      rows.map((row, i) => (claimedKeys.has(i) ? 'running' : row.status)),
      column('output'),
      column('waiting_on'),
      // A held run's steps wait out of the claim indexes until it is let in.
      held ? S.NEVER : at,
      column('priority'),
      column('origin'),
      column('queued_at'),
      column('finished_at'),
      column('labels'),
      claimedAt.length > 0 ? claim!.workerId : null,
      claimedAt.length > 0 ? lease : null,
    );
    if (!inserted) {
      // The key is taken (ON CONFLICT waited for the run holding it to commit).
      const existing = await S.runByIdempotency(db, run.definition, key!);
      if (!existing) throw new WeftError('idempotency_conflict', `run key ${key} vanished`);
      return { run: toRun(existing), created: false, claimed: [] };
    }
    if (edges.length > 0) {
      await S.insertEdges(
        db,
        run.id,
        edges.map((e) => e.from),
        edges.map((e) => e.to),
      );
    }
    // Nothing to run (no steps, or all overridden): the run is done as it is created.
    const doneAtOnce = unfinished ? null : await T.finishIfDone(db, run.id, at);
    const claimed = claimedAt.map((k) => creatorClaim(run, rows[k]!, lease!));
    // Others have work only if the creator left some; a run done at once may be awaited.
    const queued = held
      ? 0
      : rows.filter((row, i) => row.status === 'queued' && !claimedKeys.has(i)).length;
    if (!unfinished || queued > 0) notifyAfterCommit(db);
    // The run as inserted (started if it claimed), or as it finished at once: not read back.
    return { run: doneAtOnce ?? toRun(inserted), created: true, claimed };
  }

  /** `createRun` of a compact run (see {@link compactStep}), inside the caller's transaction. */
  async #insertCompactRun(
    db: Db,
    run: NewRun,
    step: { key: string; node: string },
    claim: CreateClaim | undefined,
  ): Promise<{ run: RunRecord; created: boolean; claimed: ClaimedStep[] }> {
    const key = run.idempotencyKey ?? null;
    const at = run.createdAt;
    const mine = claim !== undefined && claim.limit > 0;
    const lease = mine ? at + claim.leaseMs : null;
    const inserted = await S.insertCompactRun(
      db,
      run.id,
      run.kind,
      run.definition,
      run.input,
      run.outputs,
      run.trigger,
      key,
      run.tags ?? [],
      run.priority ?? 0,
      at,
      run.partition ?? null,
      step.key,
      step.node,
      mine ? claim.workerId : null,
      lease,
    );
    if (!inserted) {
      const existing = await S.runByIdempotency(db, run.definition, key!);
      if (!existing) throw new WeftError('idempotency_conflict', `run key ${key} vanished`);
      return { run: toRun(existing), created: false, claimed: [] };
    }
    // Others have work only if the creator did not take it.
    if (!mine) notifyAfterCommit(db);
    const claimed = mine ? [creatorClaim(run, step, lease!)] : [];
    return { run: toRun(inserted), created: true, claimed };
  }

  async getRun(id: string): Promise<RunRecord | null> {
    const row = await S.run(this.#pool, id);
    return row ? toRun(row) : null;
  }

  async getFinishedRuns(ids: readonly string[]): Promise<RunRecord[]> {
    if (ids.length === 0) return [];
    return (await S.runsFinished(this.#pool, [...ids])).map(toRun);
  }

  async listRuns(query: ListRunsQuery = {}): Promise<RunRecord[]> {
    const params: unknown[] = [];
    const param = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    const where: string[] = [];
    if (query.status !== undefined) where.push(`status = ${param(query.status)}`);
    if (query.definition !== undefined) where.push(`definition = ${param(query.definition)}`);
    if (query.kind !== undefined) where.push(`kind = ${param(query.kind)}`);
    if (query.since !== undefined) where.push(`created_at >= ${param(query.since)}`);
    if (query.until !== undefined) where.push(`created_at < ${param(query.until)}`);
    if (query.before !== undefined) where.push(`id < ${param(query.before)}`);
    const limit = param(query.limit ?? null);
    const and = (clauses: string[]) => (clauses.length ? `WHERE ${clauses.join(' AND ')}` : '');
    let sql: string;
    if (query.search === undefined) {
      sql = `SELECT * FROM runs ${and(where)} ORDER BY id DESC LIMIT ${limit}`;
    } else {
      // Runs whose id starts with the text (a range of the primary key; ids sort bytewise,
      // COLLATE "C"), and runs with the text as a tag, merged newest first. The tagged runs are
      // looked up in the runs_tags index first (MATERIALIZED): otherwise the planner, which
      // can't tell a rare tag from an absent one, walks every run newest first looking for it.
      const end = prefixEnd(query.search);
      const from = param(query.search);
      const range = end === null ? `id >= ${from}` : `id >= ${from} AND id < ${param(end)}`;
      const tagged = `tags @> ARRAY[${from}]::text[] AND tags <> '{}'`;
      sql =
        `WITH tagged AS MATERIALIZED (SELECT id FROM runs ` +
        `${and([...where, tagged, `NOT (${range})`])}) ` +
        `(SELECT * FROM runs ${and([...where, range])} ORDER BY id DESC LIMIT ${limit}) ` +
        `UNION ALL (SELECT * FROM runs WHERE id IN (SELECT id FROM tagged) ` +
        `ORDER BY id DESC LIMIT ${limit}) ORDER BY id DESC LIMIT ${limit}`;
    }
    return (await this.#pool.query<RunRow>(sql, params)).rows.map(toRun);
  }

  async cancelRun(
    id: string,
    now: number,
    reason: string,
  ): Promise<{ cancelled: boolean; running: string[]; descendants: string[] }> {
    return this.#tx(async (db) => {
      if (!(await S.lockRun(db, id))) throw new NotFoundError('run', id);
      const error: SerializedError = { name: 'Cancelled', message: reason };
      const finished = await S.cancelRun(db, now, json(error), id);
      if (!finished) return { cancelled: false, running: [], descendants: [] };
      const running = await T.cancelUnfinished(db, id, now, error);
      await T.wakeParent(db, finished, now);
      const descendants = await T.cancelDescendants(db, id, now, reason);
      notifyAfterCommit(db);
      return { cancelled: true, running, descendants };
    });
  }

  // Steps ----------------------------------------------------------------------------------

  async listSteps(runId: string): Promise<StepRecord[]> {
    return (await S.steps(this.#pool, runId)).map(toStep);
  }

  async getStep(runId: string, key: string): Promise<StepRecord | null> {
    const row = await S.step(this.#pool, runId, key);
    return row ? toStep(row) : null;
  }

  async getOutputs(runId: string, keys: readonly string[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    for (const row of await S.outputs(this.#pool, runId, [...keys])) out.set(row.key, row.output);
    return out;
  }

  async getItemOutputs(runId: string, parentKey: string): Promise<(string | null)[]> {
    return (await S.itemOutputs(this.#pool, runId, parentKey)).map((r) => r.output);
  }

  async claimSteps(o: ClaimOptions): Promise<ClaimedStep[]> {
    if (o.limit <= 0) return [];
    return this.#statement((db) => this.#claimIn(db, o));
  }

  /**
   * `claimSteps` as one statement on `db`, a transaction of its own: the claim turns off the
   * wait for the disk for its transaction (see {@link S.claimQueuedSql}), so it must never run
   * inside a transaction that records anything else.
   */
  async #claimIn(db: Db, o: ClaimOptions): Promise<ClaimedStep[]> {
    const lease = o.now + o.leaseMs;
    const params: unknown[] = [o.workerId, lease, o.now, o.limit];
    if (o.runId !== undefined) params.push(o.runId);
    if (o.definitions !== undefined) params.push([...o.definitions]);
    const labels = o.labels !== undefined && o.labels.length > 0;
    if (labels) params.push([...o.labels!]);
    const statement = claimQueued({
      runId: o.runId !== undefined,
      definitions: o.definitions !== undefined,
      labels,
    });
    const rows = (await db.query<ClaimedRow>({ ...statement, values: params })).rows;
    // RETURNING has no order: put the claims back in claim order.
    rows.sort(
      (a, b) =>
        b.priority - a.priority ||
        (a.queued_at ?? 0) - (b.queued_at ?? 0) ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
    return rows.map((row) => toClaimed(row, lease, row.input));
  }

  async renewLeases(
    workerId: string,
    steps: readonly { runId: string; key: string }[],
    until: number,
  ): Promise<{ runId: string; key: string }[]> {
    if (steps.length === 0) return [];
    const runIds = steps.map((s) => s.runId);
    const keys = steps.map((s) => s.key);
    // One statement; a deadlock with a batch of completions crossing the same rows (they lock
    // them in no particular order) is retried.
    const held = await this.#statement((db) => S.renewLeases(db, until, workerId, runIds, keys));
    const still = new Set(held.map((r) => `${r.run_id}\u0000${r.key}`));
    return steps
      .filter((s) => !still.has(`${s.runId}\u0000${s.key}`))
      .map((s) => ({ runId: s.runId, key: s.key }));
  }

  async completeStep(input: CompleteStep): Promise<TransitionResult> {
    const first = checkEntries(input.journal ?? []);
    // The last step of a run (a single task, a workflow that returned) finishes it with one
    // statement: in a transaction of its own when nothing has to follow it, else with what
    // follows (a parent to wake, a gate to open). Anything else takes the general path.
    let last = input.mayFinish === true && !input.claim && input.slot === undefined;
    if (last) {
      const done = await this.#statement((db) => T.completeLast(db, input, true));
      if (typeof done === 'object') return done;
      last = done === 'not alone';
    }
    return this.#transition(async (db) => {
      if (last) {
        const done = await T.completeLast(db, input, false);
        if (typeof done === 'object') return done;
      }
      const locked = await S.lockRun(db, input.runId);
      // Fenced as the completion is: if the worker no longer holds the run, neither writes.
      if (first) await T.writeEntries(db, first, input.journal!);
      const result = await T.complete(db, input, locked);
      // A run finished by the result asked for its notification where it finished.
      if (mayWake(result) && !result.finishedRun) notifyAfterCommit(db);
      return result;
    });
  }

  async completeSteps(inputs: readonly CompleteStep[]): Promise<TransitionResult[]> {
    if (inputs.length === 0) return [];
    // The last steps of runs (single tasks draining) finish their runs with one statement
    // outside a transaction; what that leaves takes the general path.
    const results = await this.#completeLasts(inputs);
    const rest = inputs.filter((_, n) => results[n] === undefined);
    if (rest.length === inputs.length) return this.#completeInTransaction(inputs);
    if (rest.length > 0) {
      // The batch's claim budget goes with its last input still to record.
      const claimNext = inputs[inputs.length - 1]!.claimNext;
      if (claimNext) rest[rest.length - 1] = { ...rest[rest.length - 1]!, claimNext };
      const more = await this.#completeInTransaction(rest);
      let next = 0;
      for (let n = 0; n < results.length; n++) results[n] ??= more[next++];
    }
    return results as TransitionResult[];
  }

  /**
   * {@link S.completeLastMany} on the inputs that may finish their runs alone (distinct steps,
   * no claim ahead, no slot, no journal): their results, by position; `undefined` for every
   * input it did not record.
   */
  async #completeLasts(inputs: readonly CompleteStep[]): Promise<(TransitionResult | undefined)[]> {
    const results = new Array<TransitionResult | undefined>(inputs.length);
    const seen = new Set<string>();
    const lasts: CompleteStep[] = [];
    for (const i of inputs) {
      if (!i.mayFinish || i.claim || i.slot !== undefined || i.journal?.length) continue;
      const id = `${i.runId}\u0000${i.key}`;
      if (seen.has(id)) return results;
      seen.add(id);
      lasts.push(i);
    }
    if (lasts.length < 2) return results;
    const rows = await this.#statement(async (db) => {
      const finished = await S.completeLastMany(
        db,
        ...S.resultColumns(lasts),
        ...S.logColumns(lasts.flatMap((i) => i.logs ?? [])),
        lasts.map((i) => i.returnRun === true),
      );
      if (finished.some((r) => r.finished_now)) notifyAfterCommit(db);
      return finished;
    });
    const went = new Map(rows.map((r) => [`${r.id}\u0000${r.step_key}`, r]));
    inputs.forEach((input, n) => {
      const row = went.get(`${input.runId}\u0000${input.key}`);
      if (!row) return;
      results[n] = {
        applied: true,
        runStatus: row.status,
        claimed: [],
        queuedMore: false,
        ...(row.run !== null ? { finishedRun: toRun(JSON.parse(row.run) as RunRow) } : {}),
      };
    });
    return results;
  }

  async #completeInTransaction(inputs: readonly CompleteStep[]): Promise<TransitionResult[]> {
    return this.#transition(async (db) => {
      // Every run of the batch locked up front, in id order: two batches crossing the same
      // runs lock them in the same order and never deadlock.
      await S.lockRuns(db, [...new Set(inputs.map((i) => i.runId))].sort());
      if (batchable(inputs)) {
        const batch = await completeBatch(db, inputs);
        if (batchMayWake(batch)) notifyAfterCommit(db);
        return batch;
      }
      // Steps run ahead (`claim`) come after the results that made them ready: those results
      // go set-based first (with no claim budget, they leave every step they make ready
      // queued, as the inputs that claim them ahead need), then the rest one by one.
      const cut = inputs.findIndex((i) => i.claim !== undefined);
      const head = cut > 0 ? inputs.slice(0, cut) : [];
      const results: TransitionResult[] = batchable(head) ? await completeBatch(db, head) : [];
      for (const input of inputs.slice(results.length)) {
        const first = checkEntries(input.journal ?? []);
        if (first) await T.writeEntries(db, first, input.journal!);
        results.push(await T.complete(db, input));
      }
      if (results.some(mayWake)) notifyAfterCommit(db);
      return results;
    });
  }

  async failStep(input: FailStep): Promise<TransitionResult> {
    return this.#transition(async (db) => {
      const { runId, key, now } = input;
      await S.lockRun(db, runId);
      const error = json(input.error);
      if (input.retryAt !== null) {
        // A retry: back to queued until retryAt. The error stays on the step for display.
        const held = await S.retry(
          db,
          runId,
          key,
          input.attempt,
          input.workerId,
          input.retryAt,
          now,
          error,
        );
        if (!held) return T.refused(db, runId);
        await T.recordAttempt(db, input, 'failed', held.started_at, error);
        if (input.logs) await S.insertLogs(db, input.logs);
        if (input.slot !== undefined) await S.wakeSlot(db, input.slot, now);
        // Idle workers recompute when to look again (the retry may be due before their poll).
        notifyAfterCommit(db);
        return {
          applied: true,
          runStatus: await T.runStatusOf(db, runId),
          claimed: [],
          queuedMore: input.retryAt <= now,
        };
      }
      const held = await S.fail(db, runId, key, input.attempt, input.workerId, error, now);
      if (!held) return T.refused(db, runId);
      if (input.slot !== undefined) await S.wakeSlot(db, input.slot, now);
      notifyAfterCommit(db);
      await T.recordAttempt(db, input, 'failed', held.started_at, error);
      if (input.logs) await S.insertLogs(db, input.logs);
      if (held.kind === 'run') {
        // The workflow function failed for good: so does its run, with the function's error.
        await T.finishWorkflow(db, runId, now, input.error);
        return {
          applied: true,
          runStatus: await T.runStatusOf(db, runId),
          claimed: [],
          queuedMore: false,
        };
      }
      await T.afterFailure(db, runId, key, held.parent_key, input.error, now);
      if (input.failFast) {
        await T.cancelUnfinished(db, runId, now, {
          name: 'Cancelled',
          message: `cancelled because step ${key} failed (failFast)`,
        });
      }
      await T.finishIfDone(db, runId, now);
      return {
        applied: true,
        runStatus: await T.runStatusOf(db, runId),
        claimed: [],
        queuedMore: false,
      };
    });
  }

  async expandStep(input: ExpandStep): Promise<TransitionResult> {
    // Expanding writes no attempt row: the map step's work is done by its items, which have
    // theirs. The map step stays running, waiting on its items, with no lease: no worker holds
    // it any more, so the reaper leaves it alone, and its last item finishes it.
    return this.#tx(async (db) => {
      const { runId, key, now, items } = input;
      const run = await S.lockRun(db, runId);
      if (items.length === 0) {
        // No items: the map step succeeds at once, with no output of its own.
        const held = await S.succeed(db, runId, key, input.attempt, input.workerId, null, now);
        if (!held) return T.refused(db, runId);
        const ready = await T.afterSuccess(db, runId, key, held.parent_key, now);
        if (ready.steps.length === 0) await T.finishIfDone(db, runId, now);
        return T.release(db, runId, ready, now, input.workerId, undefined);
      }
      const map = await S.expand(db, runId, key, input.attempt, input.workerId, items.length);
      if (!map || !run) return T.refused(db, runId);
      const taken = itemsTaken(input, map.labels);
      const lease = now + (input.claim?.leaseMs ?? 0);
      await S.insertItems(
        db,
        runId,
        items,
        map.node,
        key,
        now,
        map.priority,
        map.labels,
        taken,
        taken > 0 ? input.workerId : null,
        taken > 0 ? lease : null,
      );
      if (taken < items.length) notifyAfterCommit(db);
      return {
        applied: true,
        // Expanding changes nothing of the run: it is as the lock found it.
        runStatus: run.status,
        claimed: claimedItems(input, map.node, run, lease, taken),
        queuedMore: taken < items.length,
      };
    });
  }

  async requeueExpired(now: number, owners?: readonly string[]): Promise<number> {
    return this.#tx(async (db) => {
      const gone = owners && owners.length > 0 ? [...owners] : null;
      // Compact runs' steps move to `steps` first, to be requeued as every step is.
      const compact = (await S.expiredCompact(db, now, gone)).map((r) => r.id);
      if (compact.length > 0) await S.materialize(db, compact);
      const rows = await S.expired(db, now, gone);
      for (const row of rows) {
        const owner = row.lease_owner;
        await S.requeue(db, row.run_id, row.key, row.attempt, owner, now);
        const message =
          row.lease_expires_at !== null && row.lease_expires_at < now
            ? `the lease of worker ${owner} expired`
            : `worker ${owner} is gone`;
        await S.insertAttempt(
          db,
          row.run_id,
          row.key,
          row.attempt,
          'interrupted',
          owner,
          row.started_at ?? now,
          now,
          json({ name: 'Interrupted', message }),
        );
      }
      if (rows.length > 0) notifyAfterCommit(db);
      return rows.length;
    });
  }

  // A run parked with no wake-up time has its `$run` step at NEVER, which is no time to wake at.
  async nextWakeAt(now: number, definitions?: readonly string[]): Promise<number | null> {
    const row =
      definitions === undefined
        ? await S.nextWake(this.#pool, now)
        : await S.nextWakeOf(this.#pool, now, [...definitions]);
    return row?.at ?? null;
  }

  async listAttempts(runId: string): Promise<AttemptRecord[]> {
    return (await S.attempts(this.#pool, runId)).map(toAttempt);
  }

  // Logs -----------------------------------------------------------------------------------

  async appendLogs(lines: readonly NewLog[]): Promise<void> {
    // One statement, so one transaction.
    await S.insertLogs(this.#pool, lines);
  }

  async listLogs(
    runId: string,
    options: { stepKey?: string; afterSeq?: number; limit?: number } = {},
  ): Promise<LogRecord[]> {
    const after = options.afterSeq ?? 0;
    const limit = options.limit ?? null;
    const rows =
      options.stepKey === undefined
        ? await S.logs(this.#pool, runId, after, limit)
        : await S.stepLogs(this.#pool, runId, options.stepKey, after, limit);
    return rows.map(toLog);
  }

  // Workers --------------------------------------------------------------------------------

  async upsertWorker(w: WorkerRecord): Promise<void> {
    await S.upsertWorker(
      this.#pool,
      w.id,
      w.host,
      w.pid,
      w.startedAt,
      w.heartbeatAt,
      [...w.definitions],
      [...w.labels],
    );
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return (await S.workers(this.#pool)).map(toWorker);
  }

  async countRunningByWorker(): Promise<Map<string, number>> {
    return new Map((await S.runningByWorker(this.#pool)).map((r) => [r.worker, r.running]));
  }

  async removeWorker(id: string): Promise<void> {
    await S.removeWorker(this.#pool, id);
  }

  async registerDefinitions(definitions: readonly DefinitionRecord[]): Promise<void> {
    if (definitions.length === 0) return;
    await S.upsertDefinitions(
      this.#pool,
      definitions.map((d) => d.name),
      definitions.map((d) => d.kind),
      definitions.map((d) => JSON.stringify(d.graph ?? null)),
      definitions.map((d) => (d.inputSchema == null ? null : JSON.stringify(d.inputSchema))),
      definitions.map((d) => d.codeHash),
      definitions.map((d) => d.labels.join(',')),
      definitions.map((d) => d.registeredAt),
    );
  }

  async listDefinitions(): Promise<DefinitionRecord[]> {
    return (await S.definitions(this.#pool)).map(toDefinition);
  }

  // Schedules ------------------------------------------------------------------------------

  async upsertSchedules(schedules: readonly NewSchedule[]): Promise<void> {
    if (schedules.length === 0) return;
    // One statement, so one transaction. By name, once each: a row may be updated once per
    // statement, and registrations that lock rows in one order never deadlock.
    const byName = new Map(schedules.map((s) => [s.name, s]));
    const sorted = [...byName.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    await this.#statement((db) =>
      S.upsertSchedules(
        db,
        sorted.map((s) => s.name),
        sorted.map((s) => s.target),
        sorted.map((s) => JSON.stringify(s.spec)),
        sorted.map((s) => s.source),
        sorted.map((s) => s.now),
      ),
    );
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return (await S.schedules(this.#pool)).map(toSchedule);
  }

  async getSchedule(name: string): Promise<ScheduleRecord | null> {
    const row = await S.schedule(this.#pool, name);
    return row ? toSchedule(row) : null;
  }

  async setSchedulePaused(
    name: string,
    paused: boolean,
    now: number,
  ): Promise<ScheduleRecord | null> {
    const row = await this.#statement((db) => S.pauseSchedule(db, name, paused, now));
    return row ? toSchedule(row) : null;
  }

  async advanceSchedule(name: string, from: number | null, to: number): Promise<boolean> {
    // Fenced by the cursor: after a COMMIT whose reply was lost, the repeat is refused (false),
    // as when another scheduler moved it; the caller reads the cursor again.
    return (await this.#statement((db) => S.advanceSchedule(db, name, from, to))) > 0;
  }

  async deleteSchedule(name: string): Promise<boolean> {
    return (await this.#statement((db) => S.deleteSchedule(db, name))) > 0;
  }

  // Coordination ---------------------------------------------------------------------------

  async acquireSlot(input: AcquireSlot): Promise<boolean> {
    const { runId, key, attempt, workerId, slot } = input;
    return this.#tx(async (db) => {
      if (!(await S.holds(db, runId, key, attempt, workerId))) {
        // A compact run's step (migration 0009) takes a slot from a row of `steps`.
        const moved = await S.materialize(db, [runId]);
        if (moved.length === 0 || !(await S.holds(db, runId, key, attempt, workerId))) {
          return false;
        }
      }
      if (await S.holdsSlot(db, slot, runId, key, attempt)) return true;
      await S.lockSlot(db, slot);
      const { held } = (await S.sweepSlot(db, slot))!;
      if (held >= input.limit) return false;
      await S.takeSlot(db, slot, runId, key, attempt);
      return true;
    });
  }

  async deferStep(input: DeferStep): Promise<{ applied: boolean }> {
    const { runId, key, attempt, workerId, slot } = input;
    return this.#tx(async (db) => {
      await S.lockRun(db, runId);
      const row = await S.defer(db, runId, key, attempt, workerId, input.retryAt, slot);
      if (!row) return { applied: false };
      // Idle workers recompute when to look again.
      notifyAfterCommit(db);
      return { applied: true };
    });
  }

  async lead(name: string, holder: string): Promise<Leadership | null> {
    // A session advisory lock on a connection of its own: Postgres releases it the moment that
    // connection ends, so a leader that dies (or is cut off) hands over without waiting for any
    // timeout. `holder` names the leader in pg_stat_activity.
    const client = new pg.Client({ ...this.#config, application_name: `weft ${holder}` });
    const lost = new AbortController();
    const end = (reason: string): void => {
      if (lost.signal.aborted) return;
      this.#connections.delete(client);
      lost.abort(new Error(`leadership of ${name} lost: ${reason}`));
      void client.end().catch(() => undefined);
    };
    client.on('error', (error) => end(error.message));
    client.on('end', () => end('connection closed'));
    try {
      await client.connect();
      const { rows } = await client.query<{ ok: boolean }>(
        `SELECT pg_try_advisory_lock(${S.LEAD_LOCK_SPACE}, hashtext(current_schema() || ':' || $1)) AS ok`,
        [name],
      );
      if (!rows[0]?.ok) {
        lost.abort();
        await client.end().catch(() => undefined);
        return null;
      }
    } catch (error) {
      lost.abort();
      await client.end().catch(() => undefined);
      throw error;
    }
    this.#connections.add(client);
    return {
      lost: lost.signal,
      // Ending the session releases the lock.
      release: async () => end('released'),
    };
  }

  async subscribe(listener: (notice: { own: boolean }) => void): Promise<() => Promise<void>> {
    const subscription = new WorkSubscription(this.#config, (pid) =>
      listener({ own: this.#backends.has(pid) }),
    );
    await subscription.start();
    this.#subscriptions.add(subscription);
    return async () => {
      this.#subscriptions.delete(subscription);
      await subscription.stop();
    };
  }

  // Workflows ------------------------------------------------------------------------------

  async recordEntry(input: RecordEntry): Promise<{ applied: boolean }> {
    return this.recordEntries([input]);
  }

  async recordEntries(inputs: readonly RecordEntry[]): Promise<{ applied: boolean }> {
    const first = checkEntries(inputs);
    if (!first) return { applied: true };
    // One statement: it locks the run, checks the fence and writes, all or nothing.
    return { applied: await this.#statement((db) => T.writeEntries(db, first, inputs)) };
  }

  async recordEntryGroups(
    groups: readonly (readonly RecordEntry[])[],
  ): Promise<{ applied: boolean }[]> {
    const firsts = groups.map((inputs) => checkEntries(inputs));
    const results = groups.map(() => ({ applied: true }));
    const live = firsts.flatMap((first, n) => (first ? [{ first, inputs: groups[n]!, n }] : []));
    if (live.length === 0) return results;
    if (new Set(live.map((g) => g.first.runId)).size === live.length) {
      // One statement: it locks the runs, checks each fence and writes, each run all or nothing.
      const written = await this.#statement((db) => T.writeEntryGroups(db, live));
      for (const g of live) results[g.n] = { applied: written.has(g.first.runId) };
      return results;
    }
    // A run twice (one statement may not write a row twice): group by group, in order.
    return this.#tx(async (db) => {
      for (const g of live) results[g.n] = { applied: await T.writeEntries(db, g.first, g.inputs) };
      return results;
    });
  }

  /**
   * The lost wake-up. A run parks after its worker looked for what it waits for and found
   * nothing; a wake-up committed in between found no parked run to wake. Under READ COMMITTED
   * two transactions can each miss the other (the park doesn't see the uncommitted event, the
   * send doesn't see the uncommitted park), so the park and whatever wakes it are serialized:
   *
   * - an event wait takes the advisory lock of its event type ({@link S.lockEventType}), as
   *   `sendEvent` does before inserting the event: whichever commits second sees the other's
   *   rows (each statement of a READ COMMITTED transaction reads what committed before it);
   * - a child wait locks the parent's run row (as every transition does), and a finishing child
   *   locks that row before waking its parent ({@link T.wakeParent}), with the same effect.
   *
   * Locks are taken in one order everywhere (event type, then run rows), so they don't deadlock.
   */
  async parkRun(input: ParkRun): Promise<{ applied: boolean }> {
    const { runId, now, waitingFor: wait } = input;
    return this.#tx(async (db) => {
      const event = wait.kind === 'event' ? wait : null;
      if (event) await S.lockEventType(db, event.event);
      await S.lockRun(db, runId);
      // queued_at goes with available_at: a run parked until later sorts behind the steps
      // claimable now in the claim index, instead of being walked by every claim meanwhile.
      const at = (await T.satisfied(db, wait, input.exclude)) ? now : (input.wakeAt ?? NEVER);
      const parked = await S.parkStep(
        db,
        runId,
        WORKFLOW_STEP_KEY,
        input.runAttempt,
        input.workerId,
        at,
      );
      if (parked === 0) return { applied: false };
      // Idle workers recompute when to look again: this run may be due before their poll.
      notifyAfterCommit(db);
      await S.parkRun(
        db,
        runId,
        JSON.stringify(wait),
        event?.event ?? null,
        event?.key ?? null,
        now,
      );
      if (input.logs) await S.insertLogs(db, input.logs);
      return { applied: true };
    });
  }

  async sendEvent(
    input: NewEvent,
  ): Promise<{ event: EventRecord; created: boolean; woken: string[] }> {
    return this.#tx(async (db) => {
      // See parkRun: parks and sends of one event type happen one at a time.
      await S.lockEventType(db, input.type);
      const idempotencyKey = input.idempotencyKey ?? null;
      const event: EventRecord = {
        id: input.id,
        type: input.type,
        key: input.key ?? null,
        payload: input.payload,
        idempotencyKey,
        sentAt: input.sentAt,
      };
      const { id, type, key, payload, sentAt } = event;
      const inserted = await S.insertEvent(db, id, type, key, payload, idempotencyKey, sentAt);
      if (!inserted) {
        // The key was used (ON CONFLICT waited for the event holding it to commit).
        const first = await S.eventByIdempotency(db, idempotencyKey!);
        if (!first)
          throw new WeftError('idempotency_conflict', `event key ${idempotencyKey} vanished`);
        return { event: toEvent(first), created: false, woken: [] };
      }
      const decoded = lazyPayload(payload);
      const woken: string[] = [];
      for (const c of await S.waitsOf(db, type, key)) {
        const wait = c.waiting_for as WaitInfo;
        if (wait.kind !== 'event' || !satisfies(wait, event, decoded)) continue;
        if ((await S.wakeRun(db, c.id, sentAt)) > 0) woken.push(c.id);
      }
      if (woken.length > 0) notifyAfterCommit(db);
      return { event, created: true, woken };
    }, recoverEvent(input.id));
  }

  async findEvent(query: EventQuery): Promise<EventRecord | null> {
    const row = await findEvent(this.#pool, query);
    return row ? toEvent(row) : null;
  }

  async listEvents(options: { type?: string; limit?: number } = {}): Promise<EventRecord[]> {
    const limit = options.limit ?? null;
    const rows =
      options.type === undefined
        ? await S.events(this.#pool, limit)
        : await S.eventsOfType(this.#pool, options.type, limit);
    return rows.map(toEvent);
  }

  async listEventsSince(since: number, limit: number): Promise<EventRecord[]> {
    return (await S.allEventsSince(this.#pool, since, limit)).map(toEvent);
  }

  async listFailedRunsSince(since: number, limit: number): Promise<RunRecord[]> {
    return (await S.failedRunsSince(this.#pool, since, limit)).map(toRun);
  }

  async getCursor(name: string): Promise<number | null> {
    const row = await S.cursor(this.#pool, name);
    return row ? Number(row.at) : null;
  }

  async setCursor(name: string, at: number, now: number): Promise<void> {
    await this.#statement((db) => S.setCursor(db, name, at, now));
  }

  async listChildRuns(runId: string): Promise<RunRecord[]> {
    return (await S.childRuns(this.#pool, runId)).map(toRun);
  }

  // Partitions and backfills ---------------------------------------------------------------

  async latestPartitionRuns(
    definition: string,
    options: { trigger?: string } = {},
  ): Promise<PartitionRun[]> {
    return P.latestPartitionRuns(this.#pool, definition, options.trigger);
  }

  async countUnfinishedRuns(trigger: string): Promise<number> {
    return P.countUnfinishedRuns(this.#pool, trigger);
  }

  async createBackfill(backfill: NewBackfill): Promise<BackfillRecord> {
    return this.#statement((db) => P.createBackfill(db, backfill));
  }

  async getBackfill(id: string): Promise<BackfillRecord | null> {
    return P.getBackfill(this.#pool, id);
  }

  async listBackfills(
    options: { status?: BackfillStatus; target?: string; limit?: number } = {},
  ): Promise<BackfillRecord[]> {
    return P.listBackfills(this.#pool, options);
  }

  async updateBackfill(update: UpdateBackfill): Promise<BackfillRecord | null> {
    return this.#statement((db) => P.changeBackfill(db, update));
  }

  // Sensors --------------------------------------------------------------------------------

  async upsertSensors(sensors: readonly NewSensor[]): Promise<void> {
    await this.#statement((db) => P.putSensors(db, sensors));
  }

  async listSensors(): Promise<SensorRecord[]> {
    return P.listSensors(this.#pool);
  }

  async getSensor(name: string): Promise<SensorRecord | null> {
    return P.getSensor(this.#pool, name);
  }

  async setSensorPaused(name: string, paused: boolean, now: number): Promise<SensorRecord | null> {
    return this.#statement((db) => P.setSensorPaused(db, name, paused, now));
  }

  async recordSensorEvaluation(evaluation: SensorEvaluation): Promise<boolean> {
    return this.#statement((db) => P.recordSensorEvaluation(db, evaluation));
  }

  /**
   * {@link #tx} for a step transition: one that finished a gated run and let held runs in has
   * queued work the caller did not claim (`queuedMore`), so its worker looks for it at once.
   */
  async #transition<R extends TransitionResult | TransitionResult[]>(
    fn: (db: Db) => Promise<R>,
  ): Promise<R> {
    return this.#tx(async (db) => {
      P.takeAdmitted(db);
      const result = await fn(db);
      if (P.takeAdmitted(db)) {
        for (const r of ([] as TransitionResult[]).concat(result)) r.queuedMore = true;
      }
      return result;
    });
  }

  /**
   * Runs one statement on its own (autocommit: one round trip), again if Postgres aborted it as
   * a deadlock victim. Connection failures are retried by the pool's own `query`.
   */
  async #statement<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await fn(this.#pool);
      } catch (error) {
        const code = (error as { code?: unknown } | null)?.code;
        if (typeof code === 'string' && RETRYABLE.has(code) && tries < MAX_TRIES) continue;
        throw error;
      } finally {
        // A statement on its own has committed when it returns.
        if (takeNotify(this.#pool)) this.#notifier.notify();
      }
    }
  }

  /**
   * Runs `fn` in one transaction on one pooled connection: again if Postgres aborted it (a
   * deadlock victim), and again on a fresh connection if the connection failed, for as long as
   * the reconnect window allows (see `pg-retry.ts`). `recover`, given, is asked first on every
   * try that follows a failure during COMMIT: it looks up what the transaction would have
   * written and, if that is there (the COMMIT went through, its reply was lost), returns the
   * result instead of running `fn` again.
   */
  async #tx<T>(
    fn: (db: Db) => Promise<T>,
    recover?: (db: Db) => Promise<T | undefined>,
  ): Promise<T> {
    const outage = new Outage(this.#reconnect);
    let aborted = 0;
    let ambiguous = false;
    for (;;) {
      let client: pg.PoolClient;
      try {
        client = await this.#pool.connect();
      } catch (error) {
        await outage.failed(error);
        continue;
      }
      let failure: unknown;
      let broken: Error | undefined;
      let committing = false;
      // A notification asked for by a try that did not commit is not sent.
      takeNotify(client);
      try {
        await client.query('BEGIN');
        if (ambiguous && recover) {
          const found = await recover(client);
          if (found !== undefined) {
            await client.query('COMMIT');
            // The lost try's notification was never sent.
            this.#notifier.notify();
            return found;
          }
        }
        const result = await fn(client);
        committing = true;
        await client.query('COMMIT');
        if (takeNotify(client)) this.#notifier.notify();
        return result;
      } catch (error) {
        failure = error;
        if (isConnectionError(error)) {
          // Nothing to roll back on a dead connection; the pool must not hand it out again.
          broken = error as Error;
          ambiguous ||= committing;
        } else {
          await client.query('ROLLBACK').catch((e: unknown) => {
            // A connection that could not even roll back is destroyed, not reused.
            broken = e instanceof Error ? e : new Error(String(e));
          });
        }
      } finally {
        client.release(broken);
      }
      const code = (failure as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && RETRYABLE.has(code) && ++aborted < MAX_TRIES) continue;
      // Throws what is not a connection failure, or once the window has passed.
      await outage.failed(failure);
    }
  }
}
