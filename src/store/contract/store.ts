/**
 * The store contract. Every transition is one transaction; every method is safe to call from
 * several processes at once (SQLite serializes writers, Postgres locks rows). A method that
 * moves a step checks the move against the state machine of `core/states.ts` and the caller's
 * attempt and lease, and reports `applied: false` instead of overwriting newer facts.
 *
 * Implementations: `store/sqlite` (embedded) and `store/postgres` (distributed). Both pass the
 * conformance suite in `conformance.ts`.
 */
import type {
  AttemptRecord,
  AcquireSlot,
  BackfillRecord,
  BackfillStatus,
  NewBackfill,
  NewSensor,
  PartitionRun,
  SensorEvaluation,
  SensorRecord,
  UpdateBackfill,
  ClaimOptions,
  CreateClaim,
  DefinitionRecord,
  DeferStep,
  Leadership,
  ClaimedStep,
  CompleteStep,
  EventQuery,
  EventRecord,
  NewEvent,
  ParkRun,
  RecordEntry,
  ExpandStep,
  FailStep,
  ListRunsQuery,
  LogRecord,
  NewLog,
  NewRun,
  NewSchedule,
  NewStep,
  RunRecord,
  ScheduleRecord,
  StepRecord,
  TransitionResult,
  WorkerRecord,
} from './types.js';

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';

  /** Applies pending migrations; refuses a database migrated by a newer Weft. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  // Runs -----------------------------------------------------------------------------------

  /**
   * Inserts a run with its steps: steps with no dependencies are `queued`, the others
   * `pending`, overrides `succeeded`. With an idempotency key already used by a run of the
   * same definition, inserts nothing and returns that run with `created: false`.
   *
   * With `claim`, the creating worker claims up to `claim.limit` of the new run's queued steps
   * in the same transaction (as {@link claimSteps} would, at `run.createdAt`): a run submitted
   * by a worker with a free slot starts without a round trip through the queue.
   */
  createRun(
    run: NewRun,
    steps: NewStep[],
    claim?: CreateClaim,
  ): Promise<{ run: RunRecord; created: boolean; claimed: ClaimedStep[] }>;
  /**
   * {@link createRun} for several runs (without claims), in one transaction: one result per
   * input, in order. Enqueuing many runs at once costs a few statements, not a transaction each.
   */
  createRuns(
    runs: readonly { run: NewRun; steps: NewStep[] }[],
  ): Promise<{ run: RunRecord; created: boolean }[]>;
  getRun(id: string): Promise<RunRecord | null>;
  /**
   * The runs among `ids` that have finished (succeeded, failed or cancelled), in no particular
   * order: one read for everything a process waits on. Unknown ids are left out.
   */
  getFinishedRuns(ids: readonly string[]): Promise<RunRecord[]>;
  /** Newest first (by id), matching every filter given. */
  listRuns(query?: ListRunsQuery): Promise<RunRecord[]>;
  /**
   * Cancels a run that hasn't finished: the run and all its unfinished steps become
   * `cancelled` (a step a worker was running gets a `cancelled` attempt row, and that worker's
   * later result is refused), and so do its unfinished descendant runs (children, their
   * children…). Returns the keys of the run's steps that were running, for their workers to
   * abort, and the ids of the descendants it cancelled. Idempotent.
   */
  cancelRun(
    id: string,
    now: number,
    reason: string,
  ): Promise<{ cancelled: boolean; running: string[]; descendants: string[] }>;

  // Steps ----------------------------------------------------------------------------------

  listSteps(runId: string): Promise<StepRecord[]>;
  getStep(runId: string, key: string): Promise<StepRecord | null>;
  /** Encoded outputs of the given steps (null for steps without one), by key. */
  getOutputs(runId: string, keys: readonly string[]): Promise<Map<string, string | null>>;
  /** Encoded outputs of a map step's items, in item order. */
  getItemOutputs(runId: string, parentKey: string): Promise<(string | null)[]>;

  /**
   * Claims up to `limit` queued steps whose `availableAt` has come, highest priority first
   * then oldest: each becomes `running`, its attempt count goes up by one, and it is leased
   * to the worker until `now + leaseMs`. A run claimed for the first time becomes `running`.
   */
  claimSteps(options: ClaimOptions): Promise<ClaimedStep[]>;
  /** Extends the leases of steps the worker still holds; returns the keys it no longer holds. */
  renewLeases(
    workerId: string,
    steps: readonly { runId: string; key: string }[],
    until: number,
  ): Promise<{ runId: string; key: string }[]>;

  /**
   * Records a result: the step becomes `succeeded` with its output and an attempt row; every
   * dependent whose dependencies are now all done becomes `queued`; a fan-out item also
   * counts down its map step, which succeeds with its last item; a run with nothing left
   * to do finishes (`succeeded`, or `failed` if a step failed).
   */
  completeStep(input: CompleteStep): Promise<TransitionResult>;
  /**
   * Group commit: {@link completeStep} for each input, in order, in ONE transaction; one
   * result per input. A refused input (`applied: false`) does not stop the others. An input
   * with `claim` claims its step first (see {@link CompleteStep.claim}); a step a previous
   * input made ready stays `queued` (not claimed by that input's `claimNext`) for it.
   */
  completeSteps(inputs: readonly CompleteStep[]): Promise<TransitionResult[]>;
  /**
   * Records a failed attempt. With `retryAt`, the step goes back to `queued` until then.
   * Otherwise it becomes `failed`, its downstream `skipped` (transitively; for an item, its
   * map step fails too) and, with `failFast`, all other unfinished steps `cancelled`.
   */
  failStep(input: FailStep): Promise<TransitionResult>;
  /**
   * Turns a running map step into its items: inserts one `queued` step per item (with
   * `parentKey` and `index`), releases the map step's lease and sets it waiting on its items.
   * With no items the map step succeeds at once.
   */
  expandStep(input: ExpandStep): Promise<TransitionResult>;

  /**
   * Returns running steps whose lease expired before `now` to `queued` (an `interrupted`
   * attempt row records the lost attempt). Also used on resume with `owners`: steps held by
   * these (dead) workers are returned whatever their lease.
   */
  requeueExpired(now: number, owners?: readonly string[]): Promise<number>;
  /**
   * Earliest `availableAt` of a queued step later than `now`, or null. A run parked with no
   * `wakeAt` has no such time: it is not counted.
   */
  nextWakeAt(now: number, definitions?: readonly string[]): Promise<number | null>;

  listAttempts(runId: string): Promise<AttemptRecord[]>;

  // Logs -----------------------------------------------------------------------------------

  appendLogs(lines: readonly NewLog[]): Promise<void>;
  /** Logs of a run in order, optionally of one step and after a `seq` cursor. */
  listLogs(
    runId: string,
    options?: { stepKey?: string; afterSeq?: number; limit?: number },
  ): Promise<LogRecord[]>;

  // Workers --------------------------------------------------------------------------------

  /** Inserts or refreshes a worker's row (its heartbeat). */
  upsertWorker(worker: WorkerRecord): Promise<void>;
  listWorkers(): Promise<WorkerRecord[]>;
  /** How many steps each worker holds (`running` under its lease), by worker id; absent: 0. */
  countRunningByWorker(): Promise<Map<string, number>>;
  removeWorker(id: string): Promise<void>;

  // Schedules -------------------------------------------------------------------------------

  /**
   * Inserts schedules, or updates the target and spec of those that exist (by name), keeping
   * their `paused`, `cursor` and `createdAt`; `updatedAt` changes only when the spec or target
   * did. One transaction.
   */
  upsertSchedules(schedules: readonly NewSchedule[]): Promise<void>;
  /** By name. */
  listSchedules(): Promise<ScheduleRecord[]>;
  getSchedule(name: string): Promise<ScheduleRecord | null>;
  /** Pauses or resumes; null when there is no such schedule. */
  setSchedulePaused(name: string, paused: boolean, now: number): Promise<ScheduleRecord | null>;
  /**
   * Moves the cursor from `from` (what the caller read; null: none yet) to `to`. Refused
   * (false) when the cursor is no longer `from`: another scheduler handled those ticks.
   */
  advanceSchedule(name: string, from: number | null, to: number): Promise<boolean>;
  /** Removes a schedule; false when there was none. Its runs stay. */
  deleteSchedule(name: string): Promise<boolean>;

  /** Inserts or replaces definitions (by name), as a worker registers what it can run. */
  registerDefinitions(definitions: readonly DefinitionRecord[]): Promise<void>;
  /** By name. */
  listDefinitions(): Promise<DefinitionRecord[]>;

  // Coordination ---------------------------------------------------------------------------

  /**
   * Takes a global concurrency slot for a running step: true when fewer than `limit` running
   * steps hold `slot`, false when it is full. A step holds its slot while it stays `running`
   * at that attempt: finishing, failing, being requeued or cancelled frees it, whatever the
   * worker does. Fenced: false when the worker no longer holds the step at `attempt`.
   */
  acquireSlot(input: AcquireSlot): Promise<boolean>;
  /**
   * Puts a claimed step whose slot is full back in the queue as if it had not been claimed
   * (its attempt count goes back down; no attempt row), available at `retryAt`, or as soon as
   * a step holding `slot` stops running. Fenced like `completeStep`.
   */
  deferStep(input: DeferStep): Promise<{ applied: boolean }>;
  /**
   * Tries to become the one holder of `name` across every process on this store; null when
   * another holds it. Postgres holds it with a session advisory lock (released if the process
   * or its connection dies); SQLite with a row renewed while held.
   */
  lead(name: string, holder: string): Promise<Leadership | null>;
  /**
   * Calls `listener` when a transaction may have queued work or finished a run (Postgres:
   * LISTEN/NOTIFY), best effort: a worker still polls. `own` says the transaction ran on this
   * store's own connections (whoever used this store object knows already). Returns the
   * function that stops listening.
   */
  subscribe(listener: (notice: { own: boolean }) => void): Promise<() => Promise<void>>;

  // Workflows ------------------------------------------------------------------------------
  //
  // A workflow run has one `$run` step (kind `run`): the worker that claims it runs the
  // workflow function and holds the run. Its journal entries are steps of the run too
  // (kinds `step`, `sleep`, `event`, `child`), keyed by entry key and ordered by `seq`.
  //
  // Journal entries are never claimed, whatever their status: the worker holding `$run` runs
  // them inline.
  //
  // Completing the `$run` step (`completeStep`) finishes the run `succeeded` with the step's
  // output as the run's result, whatever journal entries are left unfinished (they become
  // `cancelled`); a final `failStep` of `$run` fails the run the same way, with the step's
  // error as the run's error. Claiming the `$run` step of a `waiting` run moves the run back to
  // `running` and clears `waitingFor`.
  //
  // Whenever a run with a parent finishes, the parent's `$run` step, if queued, becomes
  // available at once (a parked parent wakes to read its child's result). `cancelRun`
  // cancels the run's descendants too.

  /**
   * Inserts or updates a journal entry (by key), with an optional attempt row and log lines,
   * if the worker still holds the run's `$run` step at `runAttempt`; else `applied: false`.
   */
  recordEntry(input: RecordEntry): Promise<{ applied: boolean }>;
  /**
   * Several entries of ONE run, held by one worker at one `runAttempt`, as {@link recordEntry}
   * applied to each in order, all or nothing, in one commit. Entries of the same key may
   * repeat (the later wins, as it would one by one); so may attempt rows of the same attempt.
   */
  recordEntries(inputs: readonly RecordEntry[]): Promise<{ applied: boolean }>;
  /**
   * The entries of several runs in one commit: each group (of one run and holder) as
   * {@link recordEntries} would record it, fenced by its own run, all or nothing on its own. A
   * worker running many workflows at once shares one commit among their steps. One result per
   * group, in order; groups of the same run are applied in order.
   */
  recordEntryGroups(groups: readonly (readonly RecordEntry[])[]): Promise<{ applied: boolean }[]>;
  /**
   * Parks a workflow run: its `$run` step goes back to `queued`, available at `wakeAt` (never,
   * when null, until something wakes it), its lease released; the run becomes `waiting` with
   * `waitingFor`. Fenced like {@link recordEntry}. No attempt row: parking is not a failure.
   *
   * A wait already satisfied when the run parks (its child has finished; for an event wait
   * given `exclude`, an event satisfies it as {@link findEvent} would) parks the run available
   * at once: a wake-up that came after the worker last looked is not lost.
   */
  parkRun(input: ParkRun): Promise<{ applied: boolean }>;
  /**
   * Records an event (once per idempotency key: a repeat returns the first with
   * `created: false` and wakes nothing) and wakes every waiting run whose event wait it
   * matches: same type; the wait's key equals the event's key, or the wait has no key and the
   * event was sent at or after the wait's `since`; and the wait's `match` (field → value,
   * compared as JSON; dotted paths reach into the payload) holds for the payload.
   * Returns the ids of the runs woken.
   */
  sendEvent(event: NewEvent): Promise<{ event: EventRecord; created: boolean; woken: string[] }>;
  /** The earliest event that satisfies a wait (rules as in {@link sendEvent}), or null. */
  findEvent(query: EventQuery): Promise<EventRecord | null>;
  /** Newest first. */
  listEvents(options?: { type?: string; limit?: number }): Promise<EventRecord[]>;
  /** Events sent at or after `since` (ms), oldest first (by sent time, then id), at most `limit`. */
  listEventsSince(since: number, limit: number): Promise<EventRecord[]>;
  /** Runs that failed at or after `since` (ms), by when they failed, at most `limit`. */
  listFailedRunsSince(since: number, limit: number): Promise<RunRecord[]>;
  /** A named position of a scan (ms), or null when it was never set. */
  getCursor(name: string): Promise<number | null>;
  /** Sets a named position (the elected maintenance loop is its only writer). */
  setCursor(name: string, at: number, now: number): Promise<void>;
  /** Runs whose parent is `runId`. */
  listChildRuns(runId: string): Promise<RunRecord[]>;

  // Partitions and backfills ---------------------------------------------------------------

  /**
   * The latest run (by id) of each partition key of `definition`, by key; with `trigger`, only
   * among runs with that trigger (a backfill's).
   */
  latestPartitionRuns(definition: string, options?: { trigger?: string }): Promise<PartitionRun[]>;
  /** Unfinished runs (queued, running, waiting) with this trigger. */
  countUnfinishedRuns(trigger: string): Promise<number>;
  createBackfill(backfill: NewBackfill): Promise<BackfillRecord>;
  getBackfill(id: string): Promise<BackfillRecord | null>;
  /** Newest first. */
  listBackfills(options?: {
    status?: BackfillStatus;
    target?: string;
    limit?: number;
  }): Promise<BackfillRecord[]>;
  /**
   * Applies a change if the backfill still has the status and launch count the caller read
   * (compare and set); null when it did not (or there is no such backfill). A terminal status
   * sets `finishedAt`.
   */
  updateBackfill(update: UpdateBackfill): Promise<BackfillRecord | null>;

  // Sensors -----------------------------------------------------------------------------------

  /**
   * Inserts sensors, or updates the target and interval of those that exist (by name), keeping
   * their cursor, pause and last evaluation. One transaction.
   */
  upsertSensors(sensors: readonly NewSensor[]): Promise<void>;
  /** By name. */
  listSensors(): Promise<SensorRecord[]>;
  getSensor(name: string): Promise<SensorRecord | null>;
  /** Pauses or resumes; null when there is no such sensor. */
  setSensorPaused(name: string, paused: boolean, now: number): Promise<SensorRecord | null>;
  /**
   * Records an evaluation if the sensor's cursor is still `from` (compare and set: another
   * evaluator that recorded first wins); false when it was not recorded.
   */
  recordSensorEvaluation(evaluation: SensorEvaluation): Promise<boolean>;
}
