/**
 * The embedded store: one SQLite file (better-sqlite3, WAL), shared safely by any number of
 * processes on one host. SQLite has one writer at a time, so every write method is one
 * `BEGIN IMMEDIATE` transaction: it takes the write lock up front (waiting up to
 * `busy_timeout`) and never fails half-way on a lock upgrade; readers are never blocked.
 *
 * ```ts
 * const store = SqliteStore.open('.weft/weft.db'); // creates the folder, applies migrations
 * const claimed = await store.claimSteps({ workerId, limit: 8, now: Date.now(), leaseMs: 30_000 });
 * ```
 *
 * Hot-path statements are prepared once. Nothing here scans a run's steps per transition: a
 * step's dependents are found through `step_edges`, and "is the run finished?" reads one row of
 * the `steps_unfinished` partial index.
 */
import type Database from 'better-sqlite3';
import { NotFoundError, type SerializedError } from '../../core/errors.js';
import type { RunStatus } from '../../core/states.js';
import type { Store } from '../contract/store.js';
import type {
  AttemptRecord,
  AttemptStatus,
  ClaimOptions,
  ClaimedStep,
  CompleteStep,
  ExpandStep,
  FailStep,
  ListRunsQuery,
  LogRecord,
  NewLog,
  NewRun,
  NewStep,
  RunRecord,
  StepRecord,
  StepRef,
  TransitionResult,
  WorkerRecord,
} from '../contract/types.js';
import { checkNewSteps } from './new-steps.js';
import { connect, shippedMigrations } from './sqlite-connect.js';
import { migrate } from './sqlite-migrate.js';
import {
  errorToText,
  toAttempt,
  toClaimed,
  toLog,
  toRun,
  toStep,
  toWorker,
  type ClaimRow,
  type RunRow,
} from './sqlite-rows.js';
import { claimCandidatesSql, prepareStatements, type ReadyRow } from './sqlite-statements.js';

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's write lock. Default 5000. */
  busyTimeoutMs?: number;
}

type Tx = <T>(fn: () => T) => T;

/** Dependents a success made ready, and the finished steps whose edges lead to them. */
interface Ready {
  steps: ReadyRow[];
  from: string[];
}

export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #tx: Tx;
  readonly #s: ReturnType<typeof prepareStatements>;
  readonly #variants = new Map<string, Database.Statement<unknown[], unknown>>();

  /** Opens (creating it and its folder if needed) and migrates the database at `path`. */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    return new SqliteStore(connect(path, options.busyTimeoutMs ?? 5000));
  }

  private constructor(db: Database.Database) {
    this.#db = db;
    const tx = db.transaction((fn: () => unknown) => fn());
    this.#tx = <T>(fn: () => T) => tx.immediate(fn) as T;
    this.#s = prepareStatements(db);
  }

  async migrate(): Promise<void> {
    migrate(this.#db, shippedMigrations());
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  // Runs -----------------------------------------------------------------------------------

  async createRun(run: NewRun, steps: NewStep[]): Promise<{ run: RunRecord; created: boolean }> {
    const checked = checkNewSteps(run.definition, steps);
    return this.#tx(() => {
      const key = run.idempotencyKey ?? null;
      if (key !== null) {
        const existing = this.#s.runByIdempotency.get(run.definition, key);
        if (existing) return { run: toRun(existing), created: false };
      }
      const at = run.createdAt;
      const priority = run.priority ?? 0;
      this.#s.insertRun.run(
        run.id,
        run.kind,
        run.definition,
        run.input,
        JSON.stringify(run.outputs),
        run.trigger,
        run.parentRunId ?? null,
        key,
        JSON.stringify(run.tags ?? []),
        priority,
        at,
        at,
      );
      let unfinished = false;
      for (const { step, deps, waitingOn } of checked) {
        const p = step.priority ?? priority;
        if (step.override !== undefined) {
          this.#s.insertStep.run(
            run.id,
            step.key,
            step.node,
            'succeeded',
            step.override,
            0,
            at,
            p,
            'override',
            null,
            at,
          );
        } else {
          // Waiting only on overrides means waiting on nothing: queued at once.
          const status = waitingOn === 0 ? 'queued' : 'pending';
          this.#s.insertStep.run(
            run.id,
            step.key,
            step.node,
            status,
            null,
            waitingOn,
            at,
            p,
            'run',
            status === 'queued' ? at : null,
            null,
          );
          unfinished = true;
        }
        for (const dep of deps) this.#s.insertEdge.run(run.id, dep, step.key);
      }
      // Nothing to run (no steps, or all overridden): the run is done as it is created.
      if (!unfinished) this.#finishIfDone(run.id, at);
      return { run: toRun(this.#s.run.get(run.id)!), created: true };
    });
  }

  async getRun(id: string): Promise<RunRecord | null> {
    const row = this.#s.run.get(id);
    return row ? toRun(row) : null;
  }

  async listRuns(query: ListRunsQuery = {}): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const filter = (clause: string, value: unknown): void => {
      where.push(clause);
      params.push(value);
    };
    if (query.status !== undefined) filter('status = ?', query.status);
    if (query.definition !== undefined) filter('definition = ?', query.definition);
    if (query.before !== undefined) filter('id < ?', query.before);
    params.push(query.limit ?? -1);
    const sql =
      `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ` +
      'ORDER BY id DESC LIMIT ?';
    return (this.#variant(sql).all(...params) as RunRow[]).map(toRun);
  }

  async cancelRun(
    id: string,
    now: number,
    reason: string,
  ): Promise<{ cancelled: boolean; running: string[] }> {
    return this.#tx(() => {
      const error: SerializedError = { name: 'Cancelled', message: reason };
      const { changes } = this.#s.cancelRun.run(now, now, errorToText(error), id);
      if (changes === 0) {
        if (!this.#s.runStatus.get(id)) throw new NotFoundError('run', id);
        return { cancelled: false, running: [] };
      }
      return { cancelled: true, running: this.#cancelUnfinished(id, now, error) };
    });
  }

  // Steps ----------------------------------------------------------------------------------

  async listSteps(runId: string): Promise<StepRecord[]> {
    return this.#s.steps.all(runId).map(toStep);
  }

  async getStep(runId: string, key: string): Promise<StepRecord | null> {
    const row = this.#s.step.get(runId, key);
    return row ? toStep(row) : null;
  }

  async getOutputs(runId: string, keys: readonly string[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    for (const row of this.#s.outputs.all(runId, JSON.stringify(keys)))
      out.set(row.key, row.output);
    return out;
  }

  async getItemOutputs(runId: string, parentKey: string): Promise<(string | null)[]> {
    return this.#s.itemOutputs.all(runId, parentKey).map((r) => r.output);
  }

  async claimSteps(o: ClaimOptions): Promise<ClaimedStep[]> {
    if (o.limit <= 0) return [];
    return this.#tx(() => {
      const params: unknown[] = [o.now];
      if (o.runId !== undefined) params.push(o.runId);
      if (o.definitions !== undefined) params.push(JSON.stringify(o.definitions));
      params.push(o.limit);
      const sql = claimCandidatesSql({
        runId: o.runId !== undefined,
        definitions: o.definitions !== undefined,
      });
      const lease = o.now + o.leaseMs;
      const claimed: ClaimedStep[] = [];
      const started = new Set<string>();
      for (const row of this.#variant(sql).all(...params) as ClaimRow[]) {
        const attempt = this.#s.claim.get(o.workerId, lease, o.now, row.run_id, row.key);
        if (attempt === undefined) continue;
        claimed.push(toClaimed({ ...row, attempt }, lease));
        if (!started.has(row.run_id)) {
          started.add(row.run_id);
          this.#s.startRun.run(o.now, o.now, row.run_id);
        }
      }
      return claimed;
    });
  }

  async renewLeases(
    workerId: string,
    steps: readonly { runId: string; key: string }[],
    until: number,
  ): Promise<{ runId: string; key: string }[]> {
    if (steps.length === 0) return [];
    return this.#tx(() =>
      steps
        .filter((s) => this.#s.renewLease.run(until, s.runId, s.key, workerId).changes === 0)
        .map((s) => ({ runId: s.runId, key: s.key })),
    );
  }

  async completeStep(input: CompleteStep): Promise<TransitionResult> {
    return this.#tx(() => {
      const { runId, key, now } = input;
      const held = this.#s.succeed.get(
        input.output,
        now,
        runId,
        key,
        input.attempt,
        input.workerId,
      );
      if (!held) return this.#refused(runId);
      this.#recordAttempt(input, 'succeeded', held.started_at, null);
      if (input.logs) this.#insertLogs(input.logs);
      const ready = this.#afterSuccess(runId, key, held.parent_key, now);
      // Something ready means the run has work left; only otherwise is it worth asking.
      if (ready.steps.length === 0) this.#finishIfDone(runId, now);
      return this.#release(runId, ready, now, input.workerId, input.claimNext);
    });
  }

  async failStep(input: FailStep): Promise<TransitionResult> {
    return this.#tx(() => {
      const { runId, key, now } = input;
      const error = errorToText(input.error);
      if (input.retryAt !== null) {
        // A retry: back to queued until retryAt. The error stays on the step for display.
        const held = this.#s.retry.get(
          input.retryAt,
          now,
          error,
          runId,
          key,
          input.attempt,
          input.workerId,
        );
        if (!held) return this.#refused(runId);
        this.#recordAttempt(input, 'failed', held.started_at, error);
        if (input.logs) this.#insertLogs(input.logs);
        return {
          applied: true,
          runStatus: this.#runStatusOf(runId),
          claimed: [],
          queuedMore: input.retryAt <= now,
        };
      }
      const held = this.#s.fail.get(error, now, runId, key, input.attempt, input.workerId);
      if (!held) return this.#refused(runId);
      this.#recordAttempt(input, 'failed', held.started_at, error);
      if (input.logs) this.#insertLogs(input.logs);
      this.#afterFailure(runId, key, held.parent_key, input.error, now);
      if (input.failFast) {
        this.#cancelUnfinished(runId, now, {
          name: 'Cancelled',
          message: `cancelled because step ${key} failed (failFast)`,
        });
      }
      this.#finishIfDone(runId, now);
      return { applied: true, runStatus: this.#runStatusOf(runId), claimed: [], queuedMore: false };
    });
  }

  async expandStep(input: ExpandStep): Promise<TransitionResult> {
    // Expanding writes no attempt row: the map step's work is done by its items, which have
    // theirs. The map step stays running, waiting on its items, with no lease: no worker holds
    // it any more, so the reaper leaves it alone, and its last item finishes it.
    return this.#tx(() => {
      const { runId, key, now, items } = input;
      if (items.length === 0) {
        // No items: the map step succeeds at once, with no output of its own.
        const held = this.#s.succeed.get(null, now, runId, key, input.attempt, input.workerId);
        if (!held) return this.#refused(runId);
        const ready = this.#afterSuccess(runId, key, held.parent_key, now);
        if (ready.steps.length === 0) this.#finishIfDone(runId, now);
        return this.#release(runId, ready, now, input.workerId, undefined);
      }
      const map = this.#s.expand.get(items.length, runId, key, input.attempt, input.workerId);
      if (!map) return this.#refused(runId);
      items.forEach((item, i) =>
        this.#s.insertItem.run(runId, item, map.node, key, i, now, map.priority, now),
      );
      return { applied: true, runStatus: this.#runStatusOf(runId), claimed: [], queuedMore: true };
    });
  }

  async requeueExpired(now: number, owners?: readonly string[]): Promise<number> {
    return this.#tx(() => {
      const rows =
        owners && owners.length > 0
          ? this.#s.expiredOrOwned.all(now, JSON.stringify(owners))
          : this.#s.expired.all(now);
      for (const row of rows) {
        const owner = row.lease_owner;
        this.#s.requeue.run(now, now, row.run_id, row.key, row.attempt, owner);
        const message =
          row.lease_expires_at !== null && row.lease_expires_at < now
            ? `the lease of worker ${owner} expired`
            : `worker ${owner} is gone`;
        const error = errorToText({ name: 'Interrupted', message });
        this.#s.insertAttempt.run(
          row.run_id,
          row.key,
          row.attempt,
          'interrupted',
          owner,
          row.started_at ?? now,
          now,
          error,
        );
      }
      return rows.length;
    });
  }

  async nextWakeAt(now: number, definitions?: readonly string[]): Promise<number | null> {
    const row =
      definitions === undefined
        ? this.#s.nextWake.get(now)
        : this.#s.nextWakeOf.get(now, JSON.stringify(definitions));
    return row?.at ?? null;
  }

  async listAttempts(runId: string): Promise<AttemptRecord[]> {
    return this.#s.attempts.all(runId).map(toAttempt);
  }

  // Logs -----------------------------------------------------------------------------------

  async appendLogs(lines: readonly NewLog[]): Promise<void> {
    if (lines.length > 0) this.#tx(() => this.#insertLogs(lines));
  }

  async listLogs(
    runId: string,
    options: { stepKey?: string; afterSeq?: number; limit?: number } = {},
  ): Promise<LogRecord[]> {
    const after = options.afterSeq ?? 0;
    const limit = options.limit ?? -1;
    const rows =
      options.stepKey === undefined
        ? this.#s.logs.all(runId, after, limit)
        : this.#s.stepLogs.all(runId, options.stepKey, after, limit);
    return rows.map(toLog);
  }

  // Workers --------------------------------------------------------------------------------

  async upsertWorker(w: WorkerRecord): Promise<void> {
    this.#s.upsertWorker.run(
      w.id,
      w.host,
      w.pid,
      w.startedAt,
      w.heartbeatAt,
      JSON.stringify(w.definitions),
    );
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return this.#s.workers.all().map(toWorker);
  }

  async removeWorker(id: string): Promise<void> {
    this.#s.removeWorker.run(id);
  }

  // Transitions (always inside a transaction) ----------------------------------------------

  /**
   * A step succeeded: count down its dependents and, for a fan-out item, its map step, which
   * succeeds with its last item and counts down its own dependents the same way. Returns the
   * dependents now waiting on nothing; they are still `pending` until {@link #release}.
   */
  #afterSuccess(runId: string, key: string, parentKey: string | null, now: number): Ready {
    const ready: Ready = { steps: [], from: [] };
    let done = key;
    let parent = parentKey;
    for (;;) {
      let any = false;
      for (const row of this.#s.countDownDependents.all(runId, done)) {
        if (row.waiting_on > 0) continue;
        ready.steps.push(row);
        any = true;
      }
      if (any) ready.from.push(done);
      if (parent === null) return ready;
      const map = this.#s.countDownMap.get(now, runId, parent);
      if (map?.status !== 'succeeded') return ready;
      done = parent;
      parent = map.parent_key;
    }
  }

  /**
   * A step failed for good: its downstream is skipped, transitively. For an item, its map step
   * (if still waiting on its items) fails too, the items not yet started are skipped (their only
   * consumer failed), and the map step's downstream is skipped.
   */
  #afterFailure(
    runId: string,
    key: string,
    parentKey: string | null,
    error: SerializedError,
    now: number,
  ): void {
    this.#skipDownstream(runId, key, now);
    let failed = key;
    let cause = error;
    let parent = parentKey;
    while (parent !== null) {
      const mapError: SerializedError = {
        name: 'ItemFailed',
        message: `item ${failed} failed: ${cause.message}`,
        cause,
      };
      const map = this.#s.failMap.get(errorToText(mapError), now, runId, parent);
      if (!map) return;
      this.#s.skipItems.run(now, runId, parent);
      this.#skipDownstream(runId, parent, now);
      failed = parent;
      cause = mapError;
      parent = map.parent_key;
    }
  }

  #skipDownstream(runId: string, key: string, now: number): void {
    const todo = [key];
    for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
      for (const skipped of this.#s.skipDependents.all(now, runId, runId, next)) todo.push(skipped);
    }
  }

  /** Cancels every unfinished step of a run; running ones held by a worker get an attempt row. */
  #cancelUnfinished(runId: string, now: number, error: SerializedError): string[] {
    const running = this.#s.runningSteps.all(runId);
    const text = errorToText(error);
    for (const r of running) {
      // An expanded map step has no owner and no attempt of its own to record.
      if (r.lease_owner === null) continue;
      this.#s.insertAttempt.run(
        runId,
        r.key,
        r.attempt,
        'cancelled',
        r.lease_owner,
        r.started_at ?? now,
        now,
        text,
      );
    }
    this.#s.cancelSteps.run(now, runId);
    return running.map((r) => r.key);
  }

  /** Finishes the run if no step is left to do: failed if any step failed, else succeeded. */
  #finishIfDone(runId: string, now: number): void {
    if (this.#s.anyUnfinished.get(runId) !== undefined) return;
    const failed = this.#s.failedKeys.all(runId);
    if (failed.length > 0) {
      const error: SerializedError = {
        name: 'RunFailed',
        message: `steps failed: ${failed.join(', ')}`,
      };
      this.#s.failRun.run(now, now, now, errorToText(error), runId);
    } else {
      this.#s.succeedRun.run(now, now, now, runId);
    }
  }

  /**
   * Moves the steps a success made ready: up to `claimNext.limit` of them (by priority, then
   * key: they all became ready now) straight to `running` for the caller, the rest to `queued`.
   * A claimed step goes pending → queued → running inside one transaction, so no reader can
   * tell it skipped a state, and it never touches the queued-step indexes: on a chain that is
   * most of the pages a completion writes.
   */
  #release(
    runId: string,
    ready: Ready,
    now: number,
    workerId: string,
    claimNext: { limit: number; leaseMs: number } | undefined,
  ): TransitionResult {
    const taken: { key: string; row: Omit<ClaimRow, 'run_id' | 'key' | 'kind' | 'definition'> }[] =
      [];
    const lease = now + (claimNext?.leaseMs ?? 0);
    const limit = claimNext?.limit ?? 0;
    if (limit > 0 && ready.steps.length > 0) {
      const order =
        ready.steps.length === 1
          ? ready.steps
          : [...ready.steps].sort(
              (a, b) => b.priority - a.priority || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
            );
      for (const step of order.slice(0, limit)) {
        const row = this.#s.claimReady.get(workerId, lease, now, now, now, runId, step.key);
        if (row) taken.push({ key: step.key, row });
      }
    }
    if (taken.length < ready.steps.length) {
      for (const from of ready.from) this.#s.queueReady.run(now, now, runId, runId, from);
    }
    const run = this.#s.runInfo.get(runId);
    if (!run) throw new NotFoundError('run', runId);
    let runStatus = run.status;
    // The run is running already unless it was waiting (a workflow): spare the no-op update.
    if (taken.length > 0 && runStatus !== 'running') {
      if (this.#s.startRun.run(now, now, runId).changes > 0) runStatus = 'running';
    }
    const claimed = taken.map(({ key, row }) =>
      toClaimed({ ...row, run_id: runId, key, kind: run.kind, definition: run.definition }, lease),
    );
    return { applied: true, runStatus, claimed, queuedMore: ready.steps.length > claimed.length };
  }

  /** The attempt row of the caller's attempt, ending now. */
  #recordAttempt(
    ref: StepRef & { now: number },
    status: AttemptStatus,
    startedAt: number | null,
    error: string | null,
  ): void {
    const { runId, key, attempt, workerId, now } = ref;
    this.#s.insertAttempt.run(runId, key, attempt, status, workerId, startedAt ?? now, now, error);
  }

  #refused(runId: string): TransitionResult {
    return { applied: false, runStatus: this.#runStatusOf(runId), claimed: [], queuedMore: false };
  }

  #runStatusOf(runId: string): RunStatus {
    const status = this.#s.runStatus.get(runId);
    if (status === undefined) throw new NotFoundError('run', runId);
    return status;
  }

  #insertLogs(lines: readonly NewLog[]): void {
    for (const l of lines)
      this.#s.insertLog.run(l.runId, l.stepKey, l.attempt, l.at, l.level, l.message);
  }

  /** A statement whose text depends on which filters are given, prepared once per shape. */
  #variant(sql: string): Database.Statement<unknown[], unknown> {
    let stmt = this.#variants.get(sql);
    if (!stmt) this.#variants.set(sql, (stmt = this.#db.prepare<unknown[], unknown>(sql)));
    return stmt;
  }
}
