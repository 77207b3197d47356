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
 *
 * Workflows: a parked run's `$run` step stays queued with `available_at` at its wake-up time,
 * or at {@link NEVER} (outside the claim indexes) when only a wake-up resumes it; `sendEvent`
 * finds the event waits of a type by index (`runs.wait_event`, `wait_key`) and decodes only
 * their candidates.
 */
import type Database from 'better-sqlite3';
import { NotFoundError, type SerializedError } from '../../core/errors.js';
import type { Store } from '../contract/store.js';
import type {
  AcquireSlot,
  BackfillRecord,
  BackfillStatus,
  NewBackfill,
  NewSensor,
  PartitionRun,
  SensorEvaluation,
  SensorRecord,
  UpdateBackfill,
  CreateClaim,
  DefinitionRecord,
  DeferStep,
  Leadership,
  AttemptRecord,
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
import { checkNewSteps, checkRunsSteps } from '../contract/new-steps.js';
import { insertedRun } from '../contract/new-run.js';
import { claimedItems, itemsTaken } from '../contract/expand.js';
import { findEvent, lazyPayload, satisfies } from './sqlite-events.js';
import { connect, shippedMigrations } from './sqlite-connect.js';
import { migrate } from './sqlite-migrate.js';
import {
  errorToText,
  toAttempt,
  toClaimed,
  toEvent,
  toLog,
  toRun,
  toStep,
  toWorker,
  toDefinition,
  specToText,
  toSchedule,
  type ClaimRow,
  type RunRow,
} from './sqlite-rows.js';
import { NEVER, claimCandidatesSql, prepareStatements } from './sqlite-statements.js';
import { Partitions } from './sqlite-partitions.js';
import { Transitions } from './sqlite-transitions.js';

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's write lock. Default 5000. */
  busyTimeoutMs?: number;
}

type Tx = <T>(fn: () => T) => T;

/** How long a leadership row lasts without renewal (renewed every third of it). */
const LEAD_TTL_MS = 15_000;

export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #tx: Tx;
  readonly #s: ReturnType<typeof prepareStatements>;
  readonly #t: Transitions;
  readonly #p: Partitions;
  readonly #variants = new Map<string, Database.Statement<unknown[], unknown>>();
  readonly #leaderships = new Set<() => void>();

  /** Opens (creating it and its folder if needed) and migrates the database at `path`. */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    return new SqliteStore(connect(path, options.busyTimeoutMs ?? 5000));
  }

  private constructor(db: Database.Database) {
    this.#db = db;
    const tx = db.transaction((fn: () => unknown) => fn());
    this.#tx = <T>(fn: () => T) => tx.immediate(fn) as T;
    this.#s = prepareStatements(db);
    this.#p = new Partitions(db);
    this.#t = new Transitions(this.#s, this.#p);
  }

  async migrate(): Promise<void> {
    migrate(this.#db, shippedMigrations());
  }

  async close(): Promise<void> {
    for (const end of [...this.#leaderships]) end();
    if (this.#db.open) this.#db.close();
  }

  // Runs -----------------------------------------------------------------------------------

  async createRun(
    run: NewRun,
    steps: NewStep[],
    claim?: CreateClaim,
  ): Promise<{ run: RunRecord; created: boolean; claimed: ClaimedStep[] }> {
    const checked = checkNewSteps(run.definition, steps);
    return this.#tx(() => this.#insertRun(run, checked, claim));
  }

  async createRuns(
    runs: readonly { run: NewRun; steps: NewStep[] }[],
  ): Promise<{ run: RunRecord; created: boolean }[]> {
    if (runs.length === 0) return [];
    const checked = checkRunsSteps(runs);
    return this.#tx(() =>
      runs.map((r, i) => {
        const { run, created } = this.#insertRun(r.run, checked[i]!, undefined);
        return { run, created };
      }),
    );
  }

  /** `createRun` inside the caller's transaction. */
  #insertRun(
    run: NewRun,
    checked: ReturnType<typeof checkNewSteps>,
    claim: CreateClaim | undefined,
  ): { run: RunRecord; created: boolean; claimed: ClaimedStep[] } {
    const key = run.idempotencyKey ?? null;
    if (key !== null) {
      const existing = this.#s.runByIdempotency.get(run.definition, key);
      if (existing) return { run: toRun(existing), created: false, claimed: [] };
    }
    const at = run.createdAt;
    const priority = run.priority ?? 0;
    const maxActive = run.maxActive ?? null;
    const serial = run.serial ?? false;
    const held =
      (maxActive !== null || serial) &&
      this.#p.mustHold(run.definition, run.trigger, maxActive, serial);
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
      run.partition ?? null,
      held ? 1 : 0,
      maxActive,
      serial ? 1 : 0,
    );
    // A held run's steps wait out of the claim indexes until it is let in.
    const availableAt = held ? NEVER : at;
    let unfinished = false;
    for (const { step, deps, waitingOn } of checked) {
      const p = step.priority ?? priority;
      const kind = step.kind ?? 'node';
      if (step.override !== undefined) {
        this.#s.insertStep.run(
          run.id,
          step.key,
          step.node,
          kind,
          'succeeded',
          step.override,
          0,
          at,
          p,
          'override',
          null,
          at,
          null,
        );
      } else {
        // Waiting only on overrides means waiting on nothing: queued at once.
        const status = waitingOn === 0 ? 'queued' : 'pending';
        this.#s.insertStep.run(
          run.id,
          step.key,
          step.node,
          kind,
          status,
          null,
          waitingOn,
          availableAt,
          p,
          'run',
          status === 'queued' ? at : null,
          null,
          step.labels?.length ? JSON.stringify(step.labels) : null,
        );
        unfinished = true;
      }
      for (const dep of deps) this.#s.insertEdge.run(run.id, dep, step.key);
    }
    // Nothing to run (no steps, or all overridden): the run is done as it is created.
    if (!unfinished) this.#t.finishIfDone(run.id, at);
    const claimed =
      claim && claim.limit > 0 && unfinished && !held
        ? this.#claim({ ...claim, runId: run.id, now: at })
        : [];
    // A run held, done or started as it was created reads as its row now is; the others as
    // given (not read back: a bulk enqueue would read every column of every run).
    const record =
      held || !unfinished || claimed.length > 0
        ? toRun(this.#s.run.get(run.id)!)
        : insertedRun(run);
    return { run: record, created: true, claimed };
  }

  async getRun(id: string): Promise<RunRecord | null> {
    const row = this.#s.run.get(id);
    return row ? toRun(row) : null;
  }

  async getFinishedRuns(ids: readonly string[]): Promise<RunRecord[]> {
    if (ids.length === 0) return [];
    return this.#s.finishedRuns.all(JSON.stringify(ids)).map(toRun);
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
    if (query.kind !== undefined) filter('kind = ?', query.kind);
    if (query.since !== undefined) filter('created_at >= ?', query.since);
    if (query.until !== undefined) filter('created_at < ?', query.until);
    if (query.before !== undefined) filter('id < ?', query.before);
    const limit = query.limit ?? -1;
    const and = (clauses: string[]) => (clauses.length ? `WHERE ${clauses.join(' AND ')}` : '');
    if (query.search === undefined) {
      const sql = `SELECT * FROM runs ${and(where)} ORDER BY id DESC LIMIT ?`;
      return (this.#variant(sql).all(...params, limit) as RunRow[]).map(toRun);
    }
    // Runs whose id starts with the text (a range of the primary key), and runs with the text
    // as a tag (the run_tags index), each newest first, merged: neither half reads more than a
    // page, whatever the other matches.
    const end = prefixEnd(query.search);
    const range = end === null ? 'id >= ?' : 'id >= ? AND id < ?';
    const bounds = end === null ? [query.search] : [query.search, end];
    const sql =
      `SELECT * FROM (SELECT * FROM runs ${and([...where, range])} ORDER BY id DESC LIMIT ?) ` +
      'UNION ALL SELECT * FROM (SELECT runs.* FROM run_tags JOIN runs ON runs.id = run_tags.run_id ' +
      `${and(['run_tags.tag = ?', ...where, `NOT (${range})`])} ORDER BY run_tags.run_id DESC LIMIT ?) ` +
      'ORDER BY id DESC LIMIT ?';
    const rows = this.#variant(sql).all(
      ...params,
      ...bounds,
      limit,
      query.search,
      ...params,
      ...bounds,
      limit,
      limit,
    ) as RunRow[];
    return rows.map(toRun);
  }

  async cancelRun(
    id: string,
    now: number,
    reason: string,
  ): Promise<{ cancelled: boolean; running: string[]; descendants: string[] }> {
    return this.#tx(() => {
      const error: SerializedError = { name: 'Cancelled', message: reason };
      const finished = this.#s.cancelRun.get(now, now, errorToText(error), id);
      if (!finished) {
        if (!this.#s.runStatus.get(id)) throw new NotFoundError('run', id);
        return { cancelled: false, running: [], descendants: [] };
      }
      const running = this.#t.cancelUnfinished(id, now, error);
      this.#t.wakeParent(finished, now);
      return { cancelled: true, running, descendants: this.#t.cancelDescendants(id, now, reason) };
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
    return this.#tx(() => this.#claim(o));
  }

  /** `claimSteps` inside the caller's transaction. */
  #claim(o: ClaimOptions): ClaimedStep[] {
    {
      const params: unknown[] = [o.now];
      if (o.runId !== undefined) params.push(o.runId);
      if (o.definitions !== undefined) params.push(JSON.stringify(o.definitions));
      const labels = o.labels !== undefined && o.labels.length > 0;
      if (labels) params.push(JSON.stringify(o.labels));
      params.push(o.limit);
      const sql = claimCandidatesSql({
        runId: o.runId !== undefined,
        definitions: o.definitions !== undefined,
        labels,
      });
      const lease = o.now + o.leaseMs;
      const claimed: ClaimedStep[] = [];
      const started = new Set<string>();
      for (const row of this.#variant(sql).all(...params) as (ClaimRow & { input: string })[]) {
        const attempt = this.#s.claim.get(o.workerId, lease, o.now, row.run_id, row.key);
        if (attempt === undefined) continue;
        claimed.push({ ...toClaimed({ ...row, attempt }, lease), input: row.input });
        if (!started.has(row.run_id)) {
          started.add(row.run_id);
          this.#s.startRun.run(o.now, o.now, row.run_id);
        }
      }
      return claimed;
    }
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
    return this.completeSteps([input]).then((results) => results[0]!);
  }

  async completeSteps(inputs: readonly CompleteStep[]): Promise<TransitionResult[]> {
    if (inputs.length === 0) return [];
    const journals = inputs.map((input) => checkEntries(input.journal ?? []));
    return this.#transition(() =>
      inputs.map((input, n) => {
        // Fenced as the completion is: if the worker no longer holds the run, neither writes.
        const first = journals[n];
        if (first) this.#writeEntries(first, input.journal!);
        return this.#t.complete(input);
      }),
    );
  }

  /**
   * A step transition in a transaction: one that finished a gated run and let held runs in has
   * queued work the caller did not claim (`queuedMore`), so its worker looks for it at once.
   */
  #transition<R extends TransitionResult | TransitionResult[]>(fn: () => R): R {
    this.#p.takeAdmitted();
    const result = this.#tx(fn);
    if (this.#p.takeAdmitted()) {
      for (const r of ([] as TransitionResult[]).concat(result)) r.queuedMore = true;
    }
    return result;
  }

  async failStep(input: FailStep): Promise<TransitionResult> {
    return this.#transition(() => {
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
        if (!held) return this.#t.refused(runId);
        this.#t.recordAttempt(input, 'failed', held.started_at, error);
        if (input.logs) this.#t.insertLogs(input.logs);
        const woke = input.slot !== undefined && this.#t.wakeSlot(input.slot, now);
        return {
          applied: true,
          runStatus: this.#t.runStatusOf(runId),
          claimed: [],
          queuedMore: woke || input.retryAt <= now,
        };
      }
      const held = this.#s.fail.get(error, now, runId, key, input.attempt, input.workerId);
      if (!held) return this.#t.refused(runId);
      if (input.slot !== undefined) this.#t.wakeSlot(input.slot, now);
      this.#t.recordAttempt(input, 'failed', held.started_at, error);
      if (input.logs) this.#t.insertLogs(input.logs);
      if (held.kind === 'run') {
        // The workflow function failed for good: so does its run, with the function's error.
        this.#t.finishWorkflow(runId, now, input.error);
        return {
          applied: true,
          runStatus: this.#t.runStatusOf(runId),
          claimed: [],
          queuedMore: false,
        };
      }
      this.#t.afterFailure(runId, key, held.parent_key, input.error, now);
      if (input.failFast) {
        this.#t.cancelUnfinished(runId, now, {
          name: 'Cancelled',
          message: `cancelled because step ${key} failed (failFast)`,
        });
      }
      this.#t.finishIfDone(runId, now);
      return {
        applied: true,
        runStatus: this.#t.runStatusOf(runId),
        claimed: [],
        queuedMore: false,
      };
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
        if (!held) return this.#t.refused(runId);
        const ready = this.#t.afterSuccess(runId, key, held.parent_key, now);
        if (ready.steps.length === 0) this.#t.finishIfDone(runId, now);
        return this.#t.release(runId, ready, now, input.workerId, undefined);
      }
      const map = this.#s.expand.get(items.length, runId, key, input.attempt, input.workerId);
      const run = map ? this.#s.runInfo.get(runId) : undefined;
      if (!map || !run) return this.#t.refused(runId);
      const taken = itemsTaken(
        input,
        map.labels === null ? null : (JSON.parse(map.labels) as string[]),
      );
      const lease = now + (input.claim?.leaseMs ?? 0);
      items.forEach((item, i) => {
        const at = [runId, item, map.node, key, i, now, map.priority, now, map.labels] as const;
        if (i < taken) this.#s.insertRunningItem.run(...at, input.workerId, lease, now);
        else this.#s.insertItem.run(...at);
      });
      return {
        applied: true,
        runStatus: run.status,
        claimed: claimedItems(input, map.node, run, lease, taken),
        queuedMore: taken < items.length,
      };
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

  // A run parked with no wake-up time has its `$run` step at NEVER, which is no time to wake at.
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
    if (lines.length > 0) this.#tx(() => this.#t.insertLogs(lines));
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
      JSON.stringify(w.labels),
    );
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return this.#s.workers.all().map(toWorker);
  }

  async countRunningByWorker(): Promise<Map<string, number>> {
    return new Map(this.#s.runningByWorker.all().map((r) => [r.worker, r.running]));
  }

  async removeWorker(id: string): Promise<void> {
    this.#s.removeWorker.run(id);
  }

  async registerDefinitions(definitions: readonly DefinitionRecord[]): Promise<void> {
    this.#tx(() => {
      for (const d of definitions) {
        this.#s.upsertDefinition.run(
          d.name,
          d.kind,
          JSON.stringify(d.graph ?? null),
          d.inputSchema == null ? null : JSON.stringify(d.inputSchema),
          d.codeHash,
          JSON.stringify(d.labels),
          d.registeredAt,
        );
      }
    });
  }

  async listDefinitions(): Promise<DefinitionRecord[]> {
    return this.#s.definitions.all().map(toDefinition);
  }

  // Schedules ------------------------------------------------------------------------------

  async upsertSchedules(schedules: readonly NewSchedule[]): Promise<void> {
    if (schedules.length === 0) return;
    this.#tx(() => {
      for (const s of schedules) {
        this.#s.upsertSchedule.run(s.name, s.target, specToText(s.spec), s.source, s.now, s.now);
      }
    });
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return this.#s.schedules.all().map(toSchedule);
  }

  async getSchedule(name: string): Promise<ScheduleRecord | null> {
    const row = this.#s.schedule.get(name);
    return row ? toSchedule(row) : null;
  }

  async setSchedulePaused(
    name: string,
    paused: boolean,
    now: number,
  ): Promise<ScheduleRecord | null> {
    const flag = paused ? 1 : 0;
    const row = this.#s.pauseSchedule.get(flag, now, flag, name);
    return row ? toSchedule(row) : null;
  }

  async advanceSchedule(name: string, from: number | null, to: number): Promise<boolean> {
    return this.#s.advanceSchedule.run(to, name, from).changes > 0;
  }

  async deleteSchedule(name: string): Promise<boolean> {
    return this.#s.deleteSchedule.run(name).changes > 0;
  }

  // Partitions and backfills ---------------------------------------------------------------

  async latestPartitionRuns(
    definition: string,
    options: { trigger?: string } = {},
  ): Promise<PartitionRun[]> {
    return this.#p.latestPartitionRuns(definition, options.trigger);
  }

  async countUnfinishedRuns(trigger: string): Promise<number> {
    return this.#p.countUnfinishedRuns(trigger);
  }

  async createBackfill(backfill: NewBackfill): Promise<BackfillRecord> {
    return this.#p.createBackfill(backfill);
  }

  async getBackfill(id: string): Promise<BackfillRecord | null> {
    return this.#p.getBackfill(id);
  }

  async listBackfills(
    options: { status?: BackfillStatus; target?: string; limit?: number } = {},
  ): Promise<BackfillRecord[]> {
    return this.#p.listBackfills(options);
  }

  async updateBackfill(update: UpdateBackfill): Promise<BackfillRecord | null> {
    return this.#p.updateBackfill(update);
  }

  // Sensors --------------------------------------------------------------------------------

  async upsertSensors(sensors: readonly NewSensor[]): Promise<void> {
    if (sensors.length === 0) return;
    this.#tx(() => this.#p.upsertSensors(sensors));
  }

  async listSensors(): Promise<SensorRecord[]> {
    return this.#p.listSensors();
  }

  async getSensor(name: string): Promise<SensorRecord | null> {
    return this.#p.getSensor(name);
  }

  async setSensorPaused(name: string, paused: boolean, now: number): Promise<SensorRecord | null> {
    return this.#p.setSensorPaused(name, paused, now);
  }

  async recordSensorEvaluation(evaluation: SensorEvaluation): Promise<boolean> {
    return this.#p.recordSensorEvaluation(evaluation);
  }

  // Coordination ---------------------------------------------------------------------------

  async acquireSlot(input: AcquireSlot): Promise<boolean> {
    const { runId, key, attempt, workerId, slot } = input;
    return this.#tx(() => {
      if (this.#s.holds.get(runId, key, attempt, workerId) === undefined) return false;
      if (this.#s.holdsSlot.get(slot, runId, key, attempt) !== undefined) return true;
      this.#s.sweepSlot.run(slot);
      if ((this.#s.slotHolders.get(slot) ?? 0) >= input.limit) return false;
      this.#s.takeSlot.run(slot, runId, key, attempt);
      return true;
    });
  }

  async deferStep(input: DeferStep): Promise<{ applied: boolean }> {
    return this.#tx(() => {
      const { runId, key, attempt, workerId, slot } = input;
      const changes = this.#s.defer.run(input.retryAt, slot, runId, key, attempt, workerId).changes;
      return { applied: changes > 0 };
    });
  }

  async lead(name: string, holder: string): Promise<Leadership | null> {
    // SQLite serves one host: a row with an expiry, renewed while held, stands in for the
    // advisory lock Postgres holds per connection. A holder that dies loses it at expiry.
    const take = (): boolean =>
      this.#db.open &&
      this.#tx(() => {
        const now = Date.now();
        return this.#s.lead.get(name, holder, now + LEAD_TTL_MS, now, holder) !== undefined;
      });
    if (!take()) return null;
    const lost = new AbortController();
    const timer = setInterval(() => {
      let held: boolean;
      try {
        held = take();
      } catch {
        // A busy database: keep trying until the row expires under us.
        return;
      }
      if (!held) end();
    }, LEAD_TTL_MS / 3);
    timer.unref();
    const end = (): void => {
      clearInterval(timer);
      this.#leaderships.delete(end);
      lost.abort(new Error(`leadership of ${name} lost`));
    };
    this.#leaderships.add(end);
    return {
      lost: lost.signal,
      release: async () => {
        if (lost.signal.aborted) return;
        end();
        if (this.#db.open) this.#s.resign.run(name, holder);
      },
    };
  }

  async subscribe(): Promise<() => Promise<void>> {
    // One writer per file and no channel between processes: workers on one SQLite file poll
    // (and the engine wakes itself for work it queues).
    return async () => undefined;
  }

  // Workflows ------------------------------------------------------------------------------

  async recordEntry(input: RecordEntry): Promise<{ applied: boolean }> {
    return this.recordEntries([input]);
  }

  async recordEntries(inputs: readonly RecordEntry[]): Promise<{ applied: boolean }> {
    const first = checkEntries(inputs);
    if (!first) return { applied: true };
    return this.#tx(() => ({ applied: this.#writeEntries(first, inputs) }));
  }

  async recordEntryGroups(
    groups: readonly (readonly RecordEntry[])[],
  ): Promise<{ applied: boolean }[]> {
    const firsts = groups.map((inputs) => checkEntries(inputs));
    if (firsts.every((first) => first === undefined)) return groups.map(() => ({ applied: true }));
    return this.#tx(() =>
      groups.map((inputs, n) => {
        const first = firsts[n];
        return { applied: first ? this.#writeEntries(first, inputs) : true };
      }),
    );
  }

  /** Writes checked entries in the caller's transaction if `first`'s holder holds the run. */
  #writeEntries(first: RecordEntry, inputs: readonly RecordEntry[]): boolean {
    const held = this.#s.heldRun.get(
      first.runId,
      WORKFLOW_STEP_KEY,
      first.runAttempt,
      first.workerId,
    );
    if (!held) return false;
    for (const input of inputs) {
      const { runId, entry, now } = input;
      this.#s.upsertEntry.run(
        runId,
        entry.key,
        entry.name,
        entry.kind,
        entry.seq,
        entry.status,
        entry.output,
        errorToText(entry.error),
        entry.attempt,
        held.priority,
        entry.startedAt,
        entry.finishedAt,
      );
      const a = input.attemptRow;
      if (a) {
        this.#s.upsertAttempt.run(
          runId,
          entry.key,
          a.attempt,
          a.status,
          input.workerId,
          a.startedAt,
          now,
          errorToText(a.error),
        );
      }
      if (input.logs) this.#t.insertLogs(input.logs);
    }
    return true;
  }

  async parkRun(input: ParkRun): Promise<{ applied: boolean }> {
    const { runId, now, waitingFor: wait } = input;
    return this.#tx(() => {
      // queued_at goes with available_at: a run parked until later sorts behind the steps
      // claimable now in the claim index, instead of being walked by every claim meanwhile.
      const at = this.#t.satisfied(wait, input.exclude) ? now : (input.wakeAt ?? NEVER);
      const parked = this.#s.parkStep.run(
        at,
        at,
        runId,
        WORKFLOW_STEP_KEY,
        input.runAttempt,
        input.workerId,
      );
      if (parked.changes === 0) return { applied: false };
      const event = wait.kind === 'event' ? wait : null;
      this.#s.parkRun.run(
        JSON.stringify(wait),
        event?.event ?? null,
        event?.key ?? null,
        now,
        runId,
      );
      if (input.logs) this.#t.insertLogs(input.logs);
      return { applied: true };
    });
  }

  async sendEvent(
    input: NewEvent,
  ): Promise<{ event: EventRecord; created: boolean; woken: string[] }> {
    return this.#tx(() => {
      const idempotencyKey = input.idempotencyKey ?? null;
      if (idempotencyKey !== null) {
        const first = this.#s.eventByIdempotency.get(idempotencyKey);
        if (first) return { event: toEvent(first), created: false, woken: [] };
      }
      const event: EventRecord = {
        id: input.id,
        type: input.type,
        key: input.key ?? null,
        payload: input.payload,
        idempotencyKey,
        sentAt: input.sentAt,
      };
      const { id, type, key, payload, sentAt } = event;
      this.#s.insertEvent.run(id, type, key, payload, idempotencyKey, sentAt);
      const candidates = this.#s.unkeyedWaits.all(type);
      if (key !== null) candidates.push(...this.#s.keyedWaits.all(type, key));
      const decoded = lazyPayload(payload);
      const woken: string[] = [];
      for (const c of candidates) {
        const wait = JSON.parse(c.waiting_for) as WaitInfo;
        if (wait.kind !== 'event' || !satisfies(wait, event, decoded)) continue;
        if (this.#s.wakeRun.run(sentAt, sentAt, sentAt, c.id).changes > 0) woken.push(c.id);
      }
      return { event, created: true, woken };
    });
  }

  async findEvent(query: EventQuery): Promise<EventRecord | null> {
    const row = findEvent(this.#s, query);
    return row ? toEvent(row) : null;
  }

  async listEvents(options: { type?: string; limit?: number } = {}): Promise<EventRecord[]> {
    const limit = options.limit ?? -1;
    const rows =
      options.type === undefined
        ? this.#s.events.all(limit)
        : this.#s.eventsOfType.all(options.type, limit);
    return rows.map(toEvent);
  }

  async listEventsSince(since: number, limit: number): Promise<EventRecord[]> {
    return this.#s.allEventsSince.all(since, limit).map(toEvent);
  }

  async listFailedRunsSince(since: number, limit: number): Promise<RunRecord[]> {
    return this.#s.failedRunsSince.all(since, limit).map(toRun);
  }

  async getCursor(name: string): Promise<number | null> {
    return this.#s.cursor.get(name)?.at ?? null;
  }

  async setCursor(name: string, at: number, now: number): Promise<void> {
    this.#s.setCursor.run(name, at, now);
  }

  async listChildRuns(runId: string): Promise<RunRecord[]> {
    return this.#s.childRuns.all(runId).map(toRun);
  }

  /** A statement whose text depends on which filters are given, prepared once per shape. */
  #variant(sql: string): Database.Statement<unknown[], unknown> {
    let stmt = this.#variants.get(sql);
    if (!stmt) this.#variants.set(sql, (stmt = this.#db.prepare<unknown[], unknown>(sql)));
    return stmt;
  }
}
