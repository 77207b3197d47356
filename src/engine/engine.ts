/**
 * The engine: a state machine over the store. It submits runs (one transaction each), and its
 * worker loop claims steps, runs them under their policy, and records each result in one
 * transaction that also queues what became ready — and claims it, so a warm chain of steps never
 * goes back to the queue. Nothing that must survive a crash lives only in memory: kill the
 * process at any point and a new engine on the same store resumes every run.
 *
 * Lifecycle (`EngineState`): created → running → stopping → stopped.
 *
 * ```ts
 * const engine = new Engine({ store, definitions: [daily] });
 * await engine.start();
 * const run = await engine.submit(daily, { params: { day: '2026-01-01' } });
 * const finished = await engine.wait(run.id);
 * await engine.stop();
 * ```
 */
import { SLEEP_ENDED, systemClock, type Clock } from '../core/clock.js';
import { decode, encode, type Encoded } from '../core/codec.js';
import { LazyAbortController } from '../core/attempt.js';
import {
  CancelledError,
  ConfigError,
  NotFoundError,
  RunCancelledError,
  RunFailedError,
  WeftError,
} from '../core/errors.js';
import { newId } from '../core/ids.js';
import { Limiter } from '../core/limiter.js';
import { checkLabels } from '../core/policy.js';
import { isTerminalRun, type RunStatus } from '../core/states.js';
import type { Store } from '../store/contract/store.js';
import {
  WORKFLOW_STEP_KEY,
  type ClaimedStep,
  type CompleteStep,
  type CreateClaim,
  type DefinitionRecord,
  type EventRecord,
  type NewRun,
  type NewStep,
  type RecordEntry,
  type RunRecord,
  type TransitionResult,
} from '../store/contract/types.js';
import type { EngineEvent, EngineListener, FaultHook, FaultPoint } from './events.js';
import { installConsoleCapture } from './log-capture.js';
import { Registry, type Definition } from './registry.js';
import type { EventTrigger } from '../sdk/event-trigger.js';
import type { FailureHook } from '../sdk/failure-hook.js';
import type { Schedule } from '../sdk/schedule.js';
import { sensorsOf, type Sensor } from '../sdk/sensor.js';
import { RunContext } from './run-context.js';
import { runPipelineStep, type ActiveStep } from './step-runner.js';
import { isWorkerDead, thisHost } from './worker-identity.js';
import { runWorkflowStep } from './workflow-runner.js';
import { planPipelineRun, planWorkflowRun } from './run-plan.js';
import { checkRegisteredInput, planRegistered, planRerun, workflowSteps } from './trigger.js';
import { gatesOf, type RunGates } from './gates.js';
import { validateInput } from '../sdk/params.js';
import { GroupCommit, JournalCommit } from './group-commit.js';
import { describeDefinition, describeDefinitions } from './describe.js';

export type EngineState = 'created' | 'running' | 'stopping' | 'stopped';

/** The running engines of each store object (see `Engine.start`). */
const peers = new WeakMap<Store, Set<Engine>>();

export interface EngineOptions {
  store: Store;
  /** The pipelines this engine runs (and whose steps its worker claims). */
  definitions: Registry | Iterable<Definition>;
  clock?: Clock;
  /** Most steps running at once in this process. Default 16. */
  concurrency?: number;
  /** How long a claimed step stays ours without a heartbeat. Default 30 s. */
  leaseMs?: number;
  /** How often an idle worker looks for work other processes queued. Default 1 s. */
  pollMs?: number;
  workerId?: string;
  /** Route `console` output of steps into their logs. Default true. */
  captureConsole?: boolean;
  /** Largest encoded step output. Default 16 MiB. */
  maxOutputBytes?: number;
  /** Named fault points for tests: pause, delay, throw or crash there. */
  faults?: Partial<Record<FaultPoint, FaultHook>>;
  /** Start a worker loop that claims steps. Default true; false for a submit-only client. */
  worker?: boolean;
  /**
   * Which runs the worker takes steps of: `all` runs of its definitions (a long-lived worker),
   * or only the runs this engine submitted or resumed (`own`: a one-shot `weft run`, which
   * must not start on other runs it would then abandon when it exits). Default `all`.
   */
  scope?: 'all' | 'own';
  /**
   * This worker's labels (`gpu`, `region-eu`): it claims only steps whose required labels
   * (a task's or workflow's `labels` option) it all has. Default none: unlabelled work only.
   */
  labels?: readonly string[];
  /**
   * Schedules this worker registers (declared with `schedule()` in its code). Their targets
   * are added to the definitions. The elected scheduler fires them (see `engine/scheduler.ts`).
   */
  schedules?: Iterable<Schedule>;
  /** Event triggers this worker registers (`onEvent()`); their targets join the definitions. */
  triggers?: Iterable<EventTrigger>;
  /** Failure webhooks this worker registers (`onFailure()`); their targets join too. */
  failureHooks?: Iterable<FailureHook>;
  /**
   * Sensors this worker registers (`sensor()`); their targets join the definitions. They are
   * evaluated where their code is: see `engine/sensors.ts`.
   */
  sensors?: Iterable<Sensor>;
}

export interface SubmitOptions {
  params?: unknown;
  outputs?: readonly string[];
  overrides?: Record<string, unknown>;
  trigger?: string;
  idempotencyKey?: string;
  tags?: string[];
  priority?: number;
  parentRunId?: string;
  /**
   * At most one unfinished run with this run's trigger runs at a time; the others wait held
   * (a schedule's overlap `queue`).
   */
  serial?: boolean;
}

/** How often the log lines of running steps are written out (see `#runLogFlush`). */
const LOG_FLUSH_MS = 500;
/** How many finished runs an engine remembers having reported (see `#announced`). */
const ANNOUNCED_KEPT = 4096;
/** Runs whose end one read looks up for the waiters of this process. */
const WAIT_READ = 500;

export class Engine {
  readonly store: Store;
  readonly clock: Clock;
  readonly registry: Registry;
  readonly workerId: string;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly maxOutputBytes: number | undefined;
  readonly faults: Partial<Record<FaultPoint, FaultHook>>;
  readonly limiter = new Limiter();
  readonly labels: readonly string[];

  #state: EngineState = 'created';
  #schedules: Schedule[];
  #triggers: EventTrigger[];
  #failureHooks: FailureHook[];
  #sensors: Sensor[];
  /** When this worker first registered. */
  #startedAt: number | null = null;
  /** When the last heartbeat was recorded (see {@link heartbeatAt}). */
  #heartbeatAt: number | null = null;
  readonly #workerEnabled: boolean;
  readonly #scope: 'all' | 'own';
  /** With scope `own`: the unfinished runs this engine submitted or resumed. */
  readonly #ownRuns = new Set<string>();
  readonly #listeners = new Set<EngineListener>();
  readonly #active = new Map<string, ActiveStep>();
  /** The steps of {@link #active} by run. */
  readonly #activeByRun = new Map<string, Set<ActiveStep>>();
  /** Runs whose first steps this engine claimed as it created them, until it launches them. */
  readonly #starting = new Set<string>();
  readonly #contexts = new Map<string, RunContext>();
  /** Runs this process worked on, with their definition, until they finish. */
  readonly #runsSeen = new Map<string, string>();
  readonly #waiters = new Map<string, ((run: RunRecord) => void)[]>();
  /**
   * The latest runs whose end this engine reported, oldest first (at most
   * {@link ANNOUNCED_KEPT}): a run settled again (a waiter arriving late, another step's
   * transition refused) is not reported twice. A run that starts again here leaves it.
   */
  readonly #announced = new Set<string>();
  readonly #stopController = new AbortController();
  /** The abort reason of steps a stopping worker hands back (not a failure of theirs). */
  readonly #shutdown = new CancelledError('worker shutdown');
  /** Ends the grace period early: a second `stop({ graceMs: 0 })` while stopping. */
  #graceCut: AbortController | null = null;
  #stopping: Promise<void> | null = null;
  /** Slots promised to claims in flight (the loop's, a submit's). */
  #reserved = 0;
  /**
   * Steps of {@link #active} whose function has returned and whose result waits for its
   * commit: their slots are free for the next claims (a claim overlaps the commit), up to
   * {@link #free}'s bound on steps held at once.
   */
  #committing = 0;
  /** Child runs that workflows this worker parked wait on. */
  readonly #awaitedChildren = new Set<string>();
  /** Whether queued work may be waiting for this worker: false after a claim came back short. */
  #backlog = true;
  /** How many times something woke the loop with news of work. */
  #wakes = 0;
  /** When the loop last claimed. */
  #claimedAt = 0;
  #kicked = false;
  /** A notification came: runs may have finished elsewhere, so waiters look again. */
  #notified = false;
  #unsubscribe: (() => Promise<void>) | null = null;
  #kick: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  #heartbeat: Promise<void> | null = null;
  #logFlush: Promise<void> | null = null;
  #settled: (() => void) | null = null;
  readonly #commits: GroupCommit;
  readonly #journal: JournalCommit;

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.registry =
      options.definitions instanceof Registry
        ? options.definitions
        : new Registry(options.definitions);
    this.#schedules = [...(options.schedules ?? [])];
    this.#triggers = [...(options.triggers ?? [])];
    this.#failureHooks = [...(options.failureHooks ?? [])];
    this.#sensors = sensorsOf(options.sensors ?? []);
    for (const s of [
      ...this.#schedules,
      ...this.#triggers,
      ...this.#failureHooks,
      ...this.#sensors,
    ]) {
      if (!this.registry.has(s.target.name)) this.registry.add(s.target);
    }
    this.workerId = options.workerId ?? newId('wkr');
    this.concurrency = options.concurrency ?? 16;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new ConfigError(
        'invalid_option',
        `concurrency must be a whole number >= 1, got ${this.concurrency}`,
      );
    }
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollMs = options.pollMs ?? 1000;
    this.maxOutputBytes = options.maxOutputBytes;
    this.faults = options.faults ?? {};
    this.#workerEnabled = options.worker ?? true;
    this.#scope = options.scope ?? 'all';
    this.labels = checkLabels('engine', options.labels ?? []);
    this.#journal = new JournalCommit(this.store);
    this.#commits = new GroupCommit(
      this.store,
      () => this.#active.size,
      () => {
        // The batch's held steps are done (counted as committing): their slots are free for
        // what the batch made ready.
        const free = this.#free();
        return free > 0 && this.#state === 'running'
          ? { limit: free, leaseMs: this.leaseMs, labels: this.labels }
          : null;
      },
    );
    if (options.captureConsole ?? true) installConsoleCapture();
  }

  get state(): EngineState {
    return this.#state;
  }

  /** The sensors this engine registers (and whose code it has), as of the last reload. */
  get sensors(): readonly Sensor[] {
    return this.#sensors;
  }

  /** Steps running in this process right now. */
  get activeCount(): number {
    return this.#active.size;
  }

  /**
   * When this worker last recorded its heartbeat in the store (clock ms), null before the first:
   * a worker whose heartbeat is older than its lease may have lost its steps to others.
   */
  get heartbeatAt(): number | null {
    return this.#heartbeatAt;
  }

  /**
   * Listens to run, step and log events; returns the function that stops listening. A run's
   * end is reported once by the engine that saw it end or was waiting for it.
   */
  on(listener: EngineListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** @internal */
  emit(event: EngineEvent): void {
    for (const l of this.#listeners) l(event);
  }

  /**
   * Registers this worker, gives back work held by workers that died, and starts claiming.
   * The store must be migrated already.
   */
  async start(): Promise<void> {
    if (this.#state !== 'created') {
      throw new ConfigError('invalid_state', `engine cannot start: it is ${this.#state}`);
    }
    this.#state = 'running';
    // Engines sharing this store object hear from one another directly; the store's
    // notifications of its own transactions are then news to nobody (see #hear).
    let local = peers.get(this.store);
    if (!local) peers.set(this.store, (local = new Set()));
    local.add(this);
    if (!this.#workerEnabled) {
      // A client only submits and waits: it hears of runs finishing elsewhere (notifications,
      // and a poll while it waits on any).
      this.#unsubscribe = await this.store.subscribe(({ own }) => {
        if (!own) this.#hear();
      });
      this.#loop = this.#runWaitLoop();
      return;
    }
    await this.#registerWorker();
    await this.#registerDefinitions();
    // Other processes' work and finished runs wake this one at once (Postgres); polling stays
    // the fallback.
    this.#unsubscribe = await this.store.subscribe(({ own }) => {
      if (!own) this.#hear();
    });
    await this.recoverDeadWorkers();
    this.#loop = this.#runLoop();
    this.#heartbeat = this.#runHeartbeat();
    this.#logFlush = this.#runLogFlush();
  }

  /**
   * Stops claiming, lets running steps finish for up to `graceMs`, then aborts what is left and
   * hands it back to the queue. Called again with `graceMs: 0` while stopping, it ends the grace
   * period now (a worker's second SIGTERM).
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    const graceMs = options.graceMs ?? 10_000;
    if (this.#state === 'stopped' || this.#state === 'created') {
      this.#state = 'stopped';
      return;
    }
    if (this.#state === 'stopping') {
      // Stopping already: `graceMs: 0` ends the grace period now (a second SIGTERM).
      if (graceMs === 0) this.#graceCut?.abort();
      return this.#stopping ?? undefined;
    }
    this.#state = 'stopping';
    this.#graceCut = new AbortController();
    this.#stopping = this.#shutDown(graceMs, this.#graceCut.signal);
    return this.#stopping;
  }

  /**
   * Whether a step's abort is this worker stopping: its attempt is not a failure, and the step
   * goes back to the queue (see {@link stop}) instead of being recorded.
   * @internal
   */
  handingBack(active: ActiveStep): boolean {
    return active.controller.reason === this.#shutdown;
  }

  async #shutDown(graceMs: number, cut: AbortSignal): Promise<void> {
    this.#wake();
    await this.#loop;
    if (this.#active.size > 0) {
      const drained = new Promise<void>((resolve) => (this.#settled = resolve));
      const grace = new AbortController();
      const onCut = () => grace.abort();
      cut.addEventListener('abort', onCut, { once: true });
      if (graceMs > 0 && !cut.aborted) {
        await Promise.race([
          drained,
          systemClock.sleep(graceMs, grace.signal).catch(() => undefined),
        ]);
      }
      grace.abort();
      cut.removeEventListener('abort', onCut);
      for (const a of this.#active.values()) a.controller.abort(this.#shutdown);
      // The aborted runners return without recording anything; a step that ignores its signal
      // is handed back all the same, and its late result refused.
      const settle = new AbortController();
      await Promise.race([drained, systemClock.sleep(1000, settle.signal).catch(() => undefined)]);
      settle.abort();
    }
    this.#stopController.abort();
    await this.#heartbeat?.catch(() => undefined);
    await this.#logFlush?.catch(() => undefined);
    peers.get(this.store)?.delete(this);
    await this.#unsubscribe?.().catch(() => undefined);
    this.#unsubscribe = null;
    if (this.#workerEnabled) {
      // Whatever an aborted step still held goes back to the queue now, not at lease expiry.
      await this.store.requeueExpired(this.clock.now(), [this.workerId]);
      await this.store.removeWorker(this.workerId);
    }
    for (const [runId, waiters] of this.#waiters) {
      const run = await this.store.getRun(runId);
      if (run) for (const w of waiters) w(run);
    }
    this.#waiters.clear();
    this.#state = 'stopped';
  }

  // -------------------------------------------------------------------------------------------
  // Runs

  /**
   * Validates params, plans the steps and records the run (one transaction). With an
   * `idempotencyKey` already used, returns the existing run instead.
   */
  async submit(target: Definition | string, options: SubmitOptions = {}): Promise<RunRecord> {
    return (await this.submitWithStatus(target, options)).run;
  }

  /** {@link submit}, telling whether the run was created (false: its idempotency key was used). */
  async submitWithStatus(
    target: Definition | string,
    options: SubmitOptions = {},
  ): Promise<{ run: RunRecord; created: boolean }> {
    const definition = typeof target === 'string' ? this.registry.get(target) : target;
    if (!this.registry.has(definition.name)) this.registry.add(definition);
    const p = this.#prepare(definition, options, this.clock.now());
    return this.#create(definition.kind, definition.name, p.input, p.steps, options, p.gates);
  }

  /**
   * A run's input checked and encoded, its steps planned, and its gates (partition, max active
   * runs), from the definition's code or as registered.
   */
  #prepare(
    definition: Definition | DefinitionRecord,
    options: SubmitOptions,
    now: number,
    plans?: Map<string, NewStep[]>,
  ): { input: Encoded; steps: NewStep[]; gates: RunGates } {
    const priority = options.priority ?? 0;
    // Steps never depend on params: runs with one priority and one list of outputs (and no
    // overrides) share the steps planned for the first of them, and only their params are
    // checked.
    const key =
      plans && options.overrides === undefined
        ? `${priority} ${options.outputs === undefined ? '' : JSON.stringify(options.outputs)}`
        : undefined;
    const steps = key === undefined ? undefined : plans!.get(key);
    const planned = steps
      ? { input: this.#checkedParams(definition, options.params), steps }
      : 'graph' in definition
        ? planRegistered(definition, {
            params: options.params,
            ...(options.outputs ? { outputs: options.outputs } : {}),
            priority,
          })
        : definition.kind === 'workflow'
          ? planWorkflowRun(definition, options, priority)
          : planPipelineRun(definition, options, priority);
    if (key !== undefined && !steps) plans!.set(key, planned.steps);
    return {
      input: encode(planned.input, definition.kind === 'workflow' ? 'input' : 'params'),
      steps: planned.steps,
      gates: gatesOf(definition, planned.input, now),
    };
  }

  /**
   * Submits many runs of one definition in one store transaction (on Postgres a statement per
   * 250 runs, each encoded while the one before is inserted): each item's params are checked
   * as {@link submit} would, its steps planned as it would (once for the items that share a
   * priority and outputs), and one result comes back per item, in order. For enqueuing in
   * bulk. With the code of the definition when this engine has it, else as registered.
   */
  async submitMany(
    target: Definition | string,
    items: readonly Omit<SubmitOptions, 'overrides' | 'parentRunId'>[],
  ): Promise<{ run: RunRecord; created: boolean }[]> {
    const name = typeof target === 'string' ? target : target.name;
    if (typeof target !== 'string' && !this.registry.has(name)) this.registry.add(target);
    const code = this.registry.has(name) ? this.registry.get(name) : null;
    const record = code ? null : await this.#registered(name);
    const definition = code ?? record!;
    const now = this.clock.now();
    const plans = new Map<string, NewStep[]>();
    const batch = items.map((options) => {
      const p = this.#prepare(definition, options, now, plans);
      return {
        run: this.#newRun(definition.kind, name, p.input, options, p.gates, now),
        steps: p.steps,
      };
    });
    const results = await this.store.createRuns(batch);
    for (const { run, created } of results) {
      if (!isTerminalRun(run.status)) this.#ownRuns.add(run.id);
      if (created) {
        this.emit({ type: 'run', runId: run.id, definition: name, status: run.status, at: now });
      }
    }
    if (results.some((r) => r.created)) {
      this.#tellPeers();
      this.#wake();
    }
    return results;
  }

  /**
   * Submits a run of a definition by name: with its code when this engine has it (the zod
   * schema checks the input), else from what a worker registered ({@link submitRegistered}).
   * A NotFoundError when neither is there.
   */
  async submitByName(
    name: string,
    options: Omit<SubmitOptions, 'overrides'> = {},
  ): Promise<{ run: RunRecord; created: boolean }> {
    if (this.registry.has(name)) return this.submitWithStatus(name, options);
    return this.submitRegistered(await this.#registered(name), options);
  }

  /**
   * Submits a run of a definition some worker registered, without its code: the input is
   * checked against the registered JSON Schema and the steps planned from the registered
   * graph. This is how a server triggers runs.
   */
  async submitRegistered(
    record: DefinitionRecord,
    options: Omit<SubmitOptions, 'overrides'> = {},
  ): Promise<{ run: RunRecord; created: boolean }> {
    const p = this.#prepare(record, options, this.clock.now());
    return this.#create(record.kind, record.name, p.input, p.steps, options, p.gates);
  }

  /**
   * Checks params (a workflow's input) for a definition, as a submit would, without submitting:
   * with its code when this engine has it, else against the registered JSON Schema. An
   * InputError naming each field (or a partition that does not exist).
   */
  async checkInput(record: DefinitionRecord, params: unknown): Promise<void> {
    const code = this.registry.has(record.name) ? this.registry.get(record.name) : null;
    gatesOf(record, this.#checkedParams(code ?? record, params), this.clock.now());
  }

  /**
   * Checks params (a workflow's input) as planning a run checks them, against the zod schema of
   * the definition's code or the JSON Schema it registered, and returns what the check made of
   * them.
   */
  #checkedParams(definition: Definition | DefinitionRecord, params: unknown): unknown {
    if ('graph' in definition) return checkRegisteredInput(definition, params);
    const schema = definition.kind === 'pipeline' ? definition.spec.params : definition.input;
    const what = definition.kind === 'workflow' ? 'input' : 'params';
    return validateInput(`${definition.kind} ${definition.name}: invalid ${what}`, schema, params);
  }

  /** The definition as registered: this engine's own code when it has it, else the store's. */
  async registeredDefinition(name: string): Promise<DefinitionRecord> {
    return this.#registered(name);
  }

  /**
   * A new run that computes again `nodes` of a finished pipeline run and what follows them,
   * reading every other value it needs from the original; with no `nodes`, it retries what
   * failed (failed, skipped and cancelled nodes and what follows them). A workflow run is
   * retried whole, with the same input. `record` is the definition as registered (its graph);
   * default the one in the store.
   */
  async rerun(
    runId: string,
    nodes: readonly string[] = [],
    record?: DefinitionRecord,
  ): Promise<{ run: RunRecord; nodes: string[] }> {
    const original = await this.store.getRun(runId);
    if (!original) throw new NotFoundError('run', runId);
    if (!isTerminalRun(original.status)) {
      throw new ConfigError(
        'run_not_finished',
        `run ${runId} is ${original.status}; cancel it or wait for it to finish before running it again`,
      );
    }
    const definition = record ?? (await this.#registered(original.definition));
    const how = nodes.length ? 'rerun' : 'retry';
    const options: SubmitOptions = {
      trigger: `${how}:${runId}`,
      tags: original.tags,
      priority: original.priority,
    };
    if (definition.kind === 'workflow') {
      if (nodes.length) {
        throw new ConfigError(
          'invalid_rerun',
          `run ${runId} is a workflow run: nodes can be re-run in pipeline runs only; retry it to run the workflow again`,
        );
      }
      // The original's input was checked (and transformed) when it was submitted: it is reused
      // as recorded.
      const { run } = await this.#create(
        'workflow',
        definition.name,
        original.input,
        workflowSteps(definition, original.priority),
        options,
        { partition: null, maxActive: gatesOf(definition, null, 0).maxActive },
      );
      return { run, nodes: [WORKFLOW_STEP_KEY] };
    }
    const plan = await planRerun(this.store, definition, original, nodes);
    // The same partition as the original (checked when it was submitted).
    const gates = {
      partition: original.partition,
      maxActive: gatesOf(definition, null, 0).maxActive,
    };
    const { run } = await this.#create(
      'pipeline',
      definition.name,
      plan.input,
      plan.steps,
      { ...options, ...(original.outputs.length ? { outputs: original.outputs } : {}) },
      gates,
    );
    return { run, nodes: plan.nodes };
  }

  /** The definition as registered: this engine's own code when it has it, else the store's. */
  async #registered(name: string): Promise<DefinitionRecord> {
    if (this.registry.has(name))
      return describeDefinition(this.registry.get(name), this.clock.now());
    const found = (await this.store.listDefinitions()).find((d) => d.name === name);
    if (!found) {
      throw new NotFoundError(
        'definition',
        name,
        'no worker has registered it; start a worker with its code (weft worker <file>)',
      );
    }
    return found;
  }

  #newRun(
    kind: Definition['kind'],
    name: string,
    input: Encoded,
    options: SubmitOptions,
    gates: RunGates,
    now: number,
  ): NewRun {
    return {
      id: newId('run', now),
      kind,
      definition: name,
      input,
      outputs: kind === 'pipeline' && options.outputs ? [...options.outputs] : [],
      trigger: options.trigger ?? 'api',
      parentRunId: options.parentRunId ?? null,
      idempotencyKey: options.idempotencyKey ?? null,
      tags: options.tags ?? [],
      priority: options.priority ?? 0,
      createdAt: now,
      partition: gates.partition,
      maxActive: gates.maxActive,
      serial: options.serial ?? false,
    };
  }

  async #create(
    kind: Definition['kind'],
    name: string,
    input: Encoded,
    steps: NewStep[],
    options: SubmitOptions,
    gates: RunGates,
  ): Promise<{ run: RunRecord; created: boolean }> {
    const now = this.clock.now();
    // A worker with a free slot takes the new run's first steps in the same transaction: they
    // start without a round trip through the queue (and without waking anyone).
    const free = this.#workerEnabled && this.#state === 'running' ? this.#free() : 0;
    this.#reserved += free;
    const { run, created, claimed } = await this.store
      .createRun(
        this.#newRun(kind, name, input, options, gates, now),
        steps,
        free > 0
          ? { workerId: this.workerId, limit: free, leaseMs: this.leaseMs, labels: this.labels }
          : undefined,
      )
      .finally(() => (this.#reserved -= free));
    if (!isTerminalRun(run.status)) this.#ownRuns.add(run.id);
    if (created) this.#tellPeers();
    if (created)
      this.emit({
        type: 'run',
        runId: run.id,
        definition: run.definition,
        status: run.status,
        at: now,
      });
    if (claimed.length > 0) {
      // Started on the next turn of the event loop: a caller that listens right after submit
      // sees the run's first events. Until then the claimed steps keep their slots reserved.
      this.#reserved += claimed.length;
      this.#starting.add(run.id);
      setImmediate(() => {
        this.#reserved -= claimed.length;
        for (const c of claimed) {
          if (this.#state === 'running') this.#launch(c);
        }
        this.#starting.delete(run.id);
      });
    }
    // Others of the new run's steps may wait in the queue: the loop takes them (the steps that
    // wait on nothing, or only on overrides, are queued).
    const preset = new Set(steps.filter((p) => p.override !== undefined).map((p) => p.key));
    const queued = steps.filter(
      (p) => p.override === undefined && p.dependsOn.every((d) => preset.has(d)),
    ).length;
    if ((!created || claimed.length < queued) && !run.held) this.#wake();
    return { run, created };
  }

  /**
   * Replaces the definitions this engine runs (`weft dev`, after the file changed). Steps
   * already running finish with the code they started with; every step started from now on
   * runs the new code. A worker registers the new definitions and tells the store which it runs.
   */
  async reload(
    definitions: Iterable<Definition>,
    schedules: Iterable<Schedule> = this.#schedules,
    triggers: Iterable<EventTrigger> = this.#triggers,
    failureHooks: Iterable<FailureHook> = this.#failureHooks,
    sensors: Iterable<Sensor> = this.#sensors,
  ): Promise<void> {
    const list = [...schedules];
    const onEvents = [...triggers];
    const hooks = [...failureHooks];
    const sensing = sensorsOf(sensors);
    const targets = [...list, ...onEvents, ...hooks, ...sensing].map((s) => s.target);
    this.registry.replace([...definitions, ...targets].filter(unique()));
    this.#schedules = list;
    this.#triggers = onEvents;
    this.#failureHooks = hooks;
    this.#sensors = sensing;
    if (!this.#workerEnabled || this.#state !== 'running') return;
    await this.#registerWorker();
    await this.#registerDefinitions();
    this.#wake();
  }

  /** Registers the definitions this worker runs, its schedules and its sensors. */
  async #registerDefinitions(): Promise<void> {
    const now = this.clock.now();
    // A definition's event triggers and failure webhooks are registered with its graph
    // (`eventTriggers`, `failureWebhooks`).
    const records = describeDefinitions(this.registry, now).map((record) => {
      const of = (t: { target: { name: string } }) => t.target.name === record.name;
      const triggers = this.#triggers.filter(of);
      const hooks = this.#failureHooks.filter(of);
      if (triggers.length === 0 && hooks.length === 0) return record;
      const graph: Record<string, unknown> = { ...(record.graph as object) };
      if (triggers.length) {
        graph.eventTriggers = triggers.map(({ name, event, params }) => ({ name, event, params }));
      }
      if (hooks.length) graph.failureWebhooks = [...new Set(hooks.map((h) => h.webhook))];
      return { ...record, graph };
    });
    await this.store.registerDefinitions(records);
    if (this.#schedules.length) {
      await this.store.upsertSchedules(
        this.#schedules.map((s) => ({
          name: s.name,
          target: s.target.name,
          spec: s.spec,
          source: 'code' as const,
          now,
        })),
      );
    }
    if (this.#sensors.length) {
      await this.store.upsertSensors(
        this.#sensors.map((s) => ({
          name: s.name,
          target: s.target.name,
          intervalMs: s.intervalMs,
          now,
        })),
      );
    }
  }

  /**
   * Slots free for new claims: not running a step, nor reserved by a claim in flight. A step
   * whose result is being committed runs nothing: its slot is free, but steps held at once
   * (running or committing) stay under twice the concurrency.
   */
  #free(): number {
    const running = this.#active.size - this.#committing;
    return Math.max(
      0,
      Math.min(
        this.concurrency - running - this.#reserved,
        2 * this.concurrency - this.#active.size - this.#reserved,
      ),
    );
  }

  /** Resolves with the run once it has finished (succeeded, failed or cancelled). */
  async wait(runId: string): Promise<RunRecord> {
    // Listening before reading: a run that finishes while the read is under way settles the
    // waiter (the finish is not missed between the read and the listening).
    let settle!: (run: RunRecord) => void;
    const settled = new Promise<RunRecord>((resolve) => (settle = resolve));
    const list = this.#waiters.get(runId) ?? [];
    list.push(settle);
    this.#waiters.set(runId, list);
    const forget = () => {
      const left = (this.#waiters.get(runId) ?? []).filter((w) => w !== settle);
      if (left.length) this.#waiters.set(runId, left);
      else this.#waiters.delete(runId);
    };
    // A run this worker is at work on has not finished: however it finishes (a transition of
    // this worker, a cancel or a worker elsewhere, which notify), the waiter hears of it.
    if (this.#state === 'running' && this.#atWork(runId)) return settled;
    let run: RunRecord | null;
    try {
      run = await this.store.getRun(runId);
    } catch (error) {
      forget();
      throw error;
    }
    if (!run) {
      forget();
      throw new NotFoundError('run', runId);
    }
    if (isTerminalRun(run.status)) {
      forget();
      return run;
    }
    if (this.#state !== 'running') {
      forget();
      throw new ConfigError(
        'invalid_state',
        `cannot wait for run ${runId}: the engine is ${this.#state}`,
      );
    }
    return settled;
  }

  /**
   * The outputs of a finished run, decoded, by node name (the requested outputs, or every node).
   * Rejects with `RunFailedError` (listing each failed step and its error) or `RunCancelledError`.
   */
  async outputs(runId: string): Promise<Record<string, unknown>> {
    return (await this.#finished(runId)).outputs;
  }

  /** A finished run with what it produced (rejects as {@link outputs} describes). */
  async #finished(runId: string): Promise<{ run: RunRecord; outputs: Record<string, unknown> }> {
    const run = await this.store.getRun(runId);
    if (!run) throw new NotFoundError('run', runId);
    if (run.status === 'failed') {
      const steps = await this.store.listSteps(runId);
      throw new RunFailedError(
        runId,
        steps
          .filter((s) => s.status === 'failed' && s.error)
          .map((s) => ({ step: s.key, error: s.error! })),
      );
    }
    if (run.status === 'cancelled') throw new RunCancelledError(runId);
    if (run.status !== 'succeeded') {
      throw new WeftError(
        'run_not_finished',
        `run ${runId} is ${run.status}; wait for it to finish first`,
      );
    }
    if (run.kind === 'workflow') {
      return { run, outputs: { result: await this.#workflowResult(runId) } };
    }
    const definition = this.registry.get(run.definition);
    if (definition.kind !== 'pipeline') {
      throw new WeftError(
        'definition_mismatch',
        `run ${runId}: ${run.definition} is not a pipeline here`,
      );
    }
    const context = new RunContext(this.store, run, definition.spec);
    // As in-process: the outputs asked for, else the pipeline's default outputs (every node of
    // a Hamilton-style pipeline, the returned references of an explicit one).
    const names = run.outputs.length ? run.outputs : definition.spec.defaultOutputs;
    const out: Record<string, unknown> = {};
    for (const name of names) out[name] = await context.value(name);
    return { run, outputs: out };
  }

  /**
   * What a finished run produced: a workflow's return value, or a pipeline's outputs (as
   * {@link outputs}). Rejects like {@link outputs} for a failed or cancelled run.
   */
  async result(runId: string): Promise<unknown> {
    const { run, outputs } = await this.#finished(runId);
    return run.kind === 'workflow' ? outputs.result : outputs;
  }

  async #workflowResult(runId: string): Promise<unknown> {
    const step = await this.store.getStep(runId, WORKFLOW_STEP_KEY);
    return step?.output == null ? undefined : decode(step.output);
  }

  /**
   * Sends an event: wakes workflow runs waiting for it (see `ctx.waitForEvent`). With an
   * `idempotencyKey` already used, nothing happens again and the first event is returned.
   */
  async sendEvent(
    type: string,
    payload?: unknown,
    options: { key?: string; idempotencyKey?: string } = {},
  ): Promise<{ event: EventRecord; created: boolean; woken: string[] }> {
    if (typeof type !== 'string' || type.length === 0) {
      throw new ConfigError('invalid_event', 'an event needs a type (a non-empty string)');
    }
    const now = this.clock.now();
    const result = await this.store.sendEvent({
      id: newId('evt', now),
      type,
      key: options.key ?? null,
      payload: encode(payload, `payload of event ${type}`),
      idempotencyKey: options.idempotencyKey ?? null,
      sentAt: now,
    });
    if (result.woken.length) {
      this.#wake();
      this.#tellPeers();
    }
    return result;
  }

  /** Submits, waits, and returns the outputs (or rejects like {@link outputs}). */
  async run(
    target: Definition | string,
    options: SubmitOptions = {},
  ): Promise<{ runId: string; outputs: Record<string, unknown> }> {
    const run = await this.submit(target, options);
    await this.wait(run.id);
    return { runId: run.id, outputs: await this.outputs(run.id) };
  }

  /** Cancels a run: unfinished steps are cancelled, running ones here receive an abort. */
  async cancel(runId: string, reason = 'cancelled by request'): Promise<RunRecord> {
    const existing = await this.store.getRun(runId);
    if (!existing) throw new NotFoundError('run', runId);
    const { running } = await this.store.cancelRun(runId, this.clock.now(), reason);
    this.#wake();
    this.#tellPeers();
    for (const key of running)
      this.#active.get(activeId(runId, key))?.controller.abort(new CancelledError(`step ${key}`));
    // Child runs were cancelled with it: abort what this process runs of them too.
    const others = new Set([...this.#active.values()].map((a) => a.claimed.runId));
    others.delete(runId);
    for (const other of others) {
      const r = await this.store.getRun(other);
      if (r?.status === 'cancelled') this.#runSettled(other, 'cancelled', r.definition);
    }
    const run = (await this.store.getRun(runId))!;
    this.#runSettled(runId, run.status, run.definition);
    return run;
  }

  /**
   * Resumes an interrupted run: steps held by workers that are gone go back to the queue at
   * once (instead of when their lease expires), and this worker picks them up.
   */
  async resume(runId: string): Promise<RunRecord> {
    const run = await this.store.getRun(runId);
    if (!run) throw new NotFoundError('run', runId);
    if (isTerminalRun(run.status)) return run;
    this.#ownRuns.add(runId);
    await this.recoverDeadWorkers();
    this.#wake();
    return run;
  }

  /** Gives back the leases of workers that died (process gone on this host, or heartbeat stale). */
  async recoverDeadWorkers(): Promise<number> {
    const now = this.clock.now();
    const dead = (await this.store.listWorkers()).filter(
      (w) => w.id !== this.workerId && isWorkerDead(w, now, this.leaseMs * 2),
    );
    if (dead.length === 0) return 0;
    const count = await this.store.requeueExpired(
      now,
      dead.map((w) => w.id),
    );
    for (const w of dead) await this.store.removeWorker(w.id);
    if (count > 0) this.#wake();
    return count;
  }

  // -------------------------------------------------------------------------------------------
  // The worker loop

  /** Another process (or an engine sharing this store) may have queued work or finished a run. */
  #hear(): void {
    this.#notified = true;
    this.#wake();
  }

  /** Wakes the other engines on this store object: something changed they may care about. */
  #tellPeers(): void {
    for (const peer of peers.get(this.store) ?? []) if (peer !== this) peer.#hear();
  }

  /** @internal Wakes the loop: work may be available or a slot freed. */
  #wake(): void {
    this.#backlog = true;
    this.#wakes++;
    this.#kickLoop();
  }

  /**
   * Runs the loop once more without news of work: a slot freed. The loop then claims only if
   * work may be waiting ({@link #backlog}), and otherwise recomputes when to look again.
   */
  #kickLoop(): void {
    this.#kicked = true;
    const k = this.#kick;
    if (k) {
      this.#kick = null;
      k();
    }
  }

  /** A client engine's loop: settles waiters of runs other processes finish. */
  async #runWaitLoop(): Promise<void> {
    while (this.#state === 'running') {
      this.#kicked = false;
      if (this.#waiters.size > 0) {
        try {
          await this.#checkWaiters();
        } catch (error) {
          this.#reportLoopError(error);
        }
      }
      if (this.#kicked || this.#state !== 'running') continue;
      const timer = new AbortController();
      await Promise.race([
        new Promise<void>((resolve) => (this.#kick = resolve)),
        this.clock.sleep(this.pollMs, timer.signal).catch(() => undefined),
      ]);
      timer.abort(SLEEP_ENDED);
      this.#kick = null;
    }
  }

  async #runLoop(): Promise<void> {
    while (this.#state === 'running') {
      // Read each time: `submit` registers definitions it meets (a workflow's child runs).
      const definitions = this.registry.names();
      this.#kicked = false;
      if (this.#notified) {
        // Another process may have finished a run this one waits on.
        this.#notified = false;
        if (this.#waiters.size > 0) {
          try {
            await this.#checkWaiters();
          } catch (error) {
            this.#reportLoopError(error);
          }
        }
      }
      const free = this.#free();
      let claimed: ClaimedStep[] = [];
      // Look at least once per poll interval, even while freed slots keep the loop turning:
      // other processes' work may come with no notification (SQLite) or one that was lost.
      if (this.clock.now() - this.#claimedAt >= this.pollMs) this.#backlog = true;
      if (free > 0 && this.#backlog) {
        const wakes = this.#wakes;
        this.#claimedAt = this.clock.now();
        this.#reserved += free;
        try {
          claimed = await this.#claim(free, definitions);
        } catch (error) {
          this.#reportLoopError(error);
        } finally {
          this.#reserved -= free;
        }
        for (const c of claimed) this.#launch(c);
        if (claimed.length === free) continue;
        // The queue had less than asked and nothing new came meanwhile: until news of work
        // (or the poll), a freed slot is no reason to ask again.
        if (this.#wakes === wakes) this.#backlog = false;
      }
      if (this.#kicked || this.#state !== 'running') continue;
      await this.#idle(definitions);
    }
  }

  async #claim(limit: number, definitions: string[]): Promise<ClaimedStep[]> {
    const base = {
      workerId: this.workerId,
      now: this.clock.now(),
      leaseMs: this.leaseMs,
      definitions,
      labels: this.labels,
    };
    if (this.#scope === 'all') return this.store.claimSteps({ ...base, limit });
    const claimed: ClaimedStep[] = [];
    for (const runId of this.#ownRuns) {
      if (claimed.length >= limit) break;
      claimed.push(
        ...(await this.store.claimSteps({ ...base, limit: limit - claimed.length, runId })),
      );
    }
    return claimed;
  }

  async #idle(definitions: string[]): Promise<void> {
    const now = this.clock.now();
    let delay = this.pollMs;
    try {
      const next = await this.store.nextWakeAt(now, definitions);
      if (next !== null) delay = Math.min(delay, Math.max(0, next - now));
    } catch (error) {
      this.#reportLoopError(error);
    }
    if (this.#kicked || this.#state !== 'running') return;
    const timer = new AbortController();
    const timedOut = await Promise.race([
      new Promise<boolean>((resolve) => (this.#kick = () => resolve(false))),
      this.clock.sleep(delay, timer.signal).then(
        () => true,
        () => false,
      ),
    ]);
    timer.abort(SLEEP_ENDED);
    this.#kick = null;
    if (timedOut) {
      // Time passed: retries and sleeps may be due, other processes may have queued work.
      this.#backlog = true;
      try {
        await this.#checkWaiters();
      } catch (error) {
        this.#reportLoopError(error);
      }
    }
  }

  async #runHeartbeat(): Promise<void> {
    const signal = this.#stopController.signal;
    const every = Math.max(10, Math.floor(this.leaseMs / 3));
    while (!signal.aborted) {
      try {
        await this.clock.sleep(every, signal);
      } catch {
        return;
      }
      try {
        await this.#beat();
      } catch (error) {
        this.#reportLoopError(error);
      }
    }
  }

  /**
   * Writes the log lines of steps still running, so they show up (`weft show`, the UI's live
   * logs) while the step runs. A step that ends soon records its lines with its result, in the
   * same transaction: only lines older than one interval are written on their own.
   */
  async #runLogFlush(): Promise<void> {
    const signal = this.#stopController.signal;
    while (!signal.aborted) {
      try {
        await this.clock.sleep(LOG_FLUSH_MS, signal);
      } catch {
        return;
      }
      const due = this.clock.now() - LOG_FLUSH_MS;
      for (const a of [...this.#active.values()]) {
        const first = a.logs[0];
        if (first === undefined || first.at > due) continue;
        try {
          await a.flushLogs();
        } catch (error) {
          this.#reportLoopError(error);
        }
      }
    }
  }

  async #beat(): Promise<void> {
    await this.#registerWorker();
    const held = [...this.#active.values()].filter((a) => a.leased);
    if (held.length) {
      // Times read just before each call: a call may have waited out a database outage.
      const lost = await this.store.renewLeases(
        this.workerId,
        held.map((a) => ({ runId: a.claimed.runId, key: a.claimed.key })),
        this.clock.now() + this.leaseMs,
      );
      for (const l of lost) {
        // Only the attempt the renewal was for: it may have finished meanwhile, and the same
        // step's next attempt (claimed since) holds a lease of its own.
        const id = activeId(l.runId, l.key);
        const asked = held.find((a) => activeId(a.claimed.runId, a.claimed.key) === id);
        if (asked && this.#active.get(id) === asked) {
          asked.controller.abort(new CancelledError(`step ${l.key} (lease lost)`));
        }
      }
    }
    for (const a of this.#active.values()) await a.flushLogs();
    if ((await this.store.requeueExpired(this.clock.now())) > 0) this.#wake();
    await this.recoverDeadWorkers();
  }

  async #registerWorker(): Promise<void> {
    const now = this.clock.now();
    // Every heartbeat writes the whole row: the start time is the first one's.
    this.#startedAt ??= now;
    await this.store.upsertWorker({
      id: this.workerId,
      host: thisHost(),
      pid: process.pid,
      startedAt: this.#startedAt,
      heartbeatAt: now,
      definitions: this.registry.names(),
      labels: [...this.labels],
    });
    this.#heartbeatAt = now;
  }

  #launch(claimed: ClaimedStep): void {
    this.#announced.delete(claimed.runId);
    const id = activeId(claimed.runId, claimed.key);
    const active: ActiveStep = {
      claimed,
      controller: new LazyAbortController(),
      leased: true,
      done: false,
      logs: [],
      flushLogs: async () => {
        if (active.logs.length === 0) return;
        const lines = active.logs.splice(0);
        try {
          await this.store.appendLogs(lines);
        } catch (error) {
          // Kept for the next try (or the step's completion, which records what is left).
          active.logs.unshift(...lines);
          throw error;
        }
      },
    };
    this.#active.set(id, active);
    let ofRun = this.#activeByRun.get(claimed.runId);
    if (!ofRun) this.#activeByRun.set(claimed.runId, (ofRun = new Set()));
    ofRun.add(active);
    void this.#execute(active).then((outcome) => {
      // The step may have been claimed here again meanwhile (its lease lapsed, or a crash of
      // Postgres lost the claim): that attempt is not this one's to forget.
      if (this.#active.get(id) === active) this.#active.delete(id);
      ofRun.delete(active);
      if (ofRun.size === 0 && this.#activeByRun.get(claimed.runId) === ofRun) {
        this.#activeByRun.delete(claimed.runId);
      }
      if (this.#active.size === 0 && this.#settled) this.#settled();
      // A step whose completion claimed its successor handed its slot on: the loop has
      // nothing new to do. One that finished its run scheduled nothing later (what it woke or
      // let in was woken in afterTransition): its slot is worth a look only with a backlog.
      // Otherwise (a retry, a park, an error) the loop looks for work and when to wake.
      if (outcome === 'other' || (outcome === 'finished' && this.#backlog)) this.#kickLoop();
    });
  }

  /**
   * Runs a claimed step: `handed` when its transition claimed follow-up work for this worker,
   * `finished` when it finished its run.
   */
  async #execute(active: ActiveStep): Promise<'handed' | 'finished' | 'other'> {
    const { claimed } = active;
    try {
      let result: TransitionResult | null;
      if (claimed.kind === 'workflow') {
        const definition = this.registry.get(claimed.definition);
        if (definition.kind !== 'workflow') {
          throw new WeftError(
            'definition_mismatch',
            `${claimed.definition} is not a workflow here`,
          );
        }
        this.#seen(claimed.runId, claimed.definition);
        result = await runWorkflowStep(this, active, definition);
      } else {
        const context = this.#context(claimed);
        result = await runPipelineStep(
          this,
          context instanceof RunContext ? context : await context,
          active,
        );
      }
      if (!result) return 'other';
      active.done = result.applied;
      this.afterTransition(claimed.runId, result);
      if (result.claimed.length > 0 && !result.queuedMore) return 'handed';
      return result.applied && isTerminalRun(result.runStatus) ? 'finished' : 'other';
    } catch (error) {
      this.#reportLoopError(error);
      return 'other';
    }
  }

  /** Whether the run's definition (as this engine has its code) caps its active runs. */
  #gated(runId: string): boolean {
    const name = this.#runsSeen.get(runId);
    if (name === undefined || !this.registry.has(name)) return false;
    return gatesOf(this.registry.get(name), null, 0).maxActive !== null;
  }

  /** @internal Whether somebody in this process waits on the run (see `returnRun`). */
  waitedOn(runId: string): boolean {
    return this.#waiters.has(runId);
  }

  /** @internal A workflow this worker parks waits on `childRunId`. */
  awaitChild(childRunId: string): void {
    this.#awaitedChildren.add(childRunId);
  }

  /** @internal Acts on what a transition changed: launch claimed steps, settle finished runs. */
  afterTransition(runId: string, result: TransitionResult): void {
    for (const c of result.claimed) {
      if (this.#state === 'running') this.#launch(c);
    }
    // A child run finishing wakes its parked parent: look for it if this worker parked it.
    const wokeParent = isTerminalRun(result.runStatus) && this.#awaitedChildren.delete(runId);
    // A run of a definition with max active runs finishing may have let a held run in.
    const admitted = isTerminalRun(result.runStatus) && this.#gated(runId);
    if (result.queuedMore || wokeParent || admitted) this.#wake();
    if (result.applied && (result.queuedMore || isTerminalRun(result.runStatus))) this.#tellPeers();
    if (isTerminalRun(result.runStatus)) {
      this.#runSettled(
        runId,
        result.runStatus,
        this.#runsSeen.get(runId) ?? '',
        result.finishedRun,
      );
    }
  }

  /** Notes a run this process works on; the first time, reports it running. */
  #seen(runId: string, definition: string): void {
    if (this.#runsSeen.has(runId)) return;
    this.#runsSeen.set(runId, definition);
    this.emit({ type: 'run', runId, definition, status: 'running', at: this.clock.now() });
  }

  /**
   * The context of the run of `claimed`: the one known here, or a new one from the run's input
   * (read from the store only when the claim did not bring it).
   */
  #context(claimed: ClaimedStep): RunContext | Promise<RunContext> {
    const known = this.#contexts.get(claimed.runId);
    if (known) return known;
    if (claimed.input !== undefined) return this.#newContext(claimed, claimed.input);
    return this.store.getRun(claimed.runId).then((run) => {
      if (!run) throw new NotFoundError('run', claimed.runId);
      return this.#contexts.get(claimed.runId) ?? this.#newContext(claimed, run.input);
    });
  }

  #newContext(claimed: ClaimedStep, input: string): RunContext {
    const definition = this.registry.get(claimed.definition);
    if (definition.kind !== 'pipeline') {
      throw new WeftError('definition_mismatch', `${claimed.definition} is not a pipeline here`);
    }
    const context = new RunContext(this.store, { id: claimed.runId, input }, definition.spec);
    this.#contexts.set(claimed.runId, context);
    this.#seen(claimed.runId, claimed.definition);
    return context;
  }

  #runSettled(runId: string, status: RunStatus, definition: string, run?: RunRecord): void {
    if (!isTerminalRun(status)) return;
    this.#ownRuns.delete(runId);
    this.#contexts.delete(runId);
    const hadContext = this.#runsSeen.delete(runId);
    // Steps of the run still at work here stop; one whose transition ended the run is done.
    // Either way nothing of them is left to do (see #atWork).
    for (const a of this.#activeByRun.get(runId) ?? []) {
      if (!a.done) a.controller.abort(new CancelledError(`step ${a.claimed.key}`));
      a.done = true;
    }
    this.#starting.delete(runId);
    if ((hadContext || this.#waiters.has(runId)) && !this.#announced.has(runId)) {
      this.#announced.add(runId);
      if (this.#announced.size > ANNOUNCED_KEPT) {
        this.#announced.delete(this.#announced.values().next().value!);
      }
      this.emit({ type: 'run', runId, definition, status, at: this.clock.now() });
    }
    const waiters = this.#waiters.get(runId);
    if (waiters) {
      this.#waiters.delete(runId);
      // The run as the transition finished it, when the store returned it: no read back.
      if (run) {
        for (const w of waiters) w(run);
        return;
      }
      void this.store.getRun(runId).then(
        (run) => {
          if (run) for (const w of waiters) w(run);
        },
        (error: unknown) => this.#reportLoopError(error),
      );
    }
  }

  /** Whether this worker holds a step of the run that is not done, or is about to start one. */
  #atWork(runId: string): boolean {
    if (this.#starting.has(runId)) return true;
    for (const a of this.#activeByRun.get(runId) ?? []) if (!a.done) return true;
    return false;
  }

  /**
   * Settles the waiters of runs that finished elsewhere (another process, a cancel): one read
   * per {@link WAIT_READ} runs waited on.
   */
  async #checkWaiters(): Promise<void> {
    const ids = [...this.#waiters.keys()];
    for (let from = 0; from < ids.length; from += WAIT_READ) {
      const finished = await this.store.getFinishedRuns(ids.slice(from, from + WAIT_READ));
      for (const run of finished) this.#runSettled(run.id, run.status, run.definition, run);
    }
  }

  #reportLoopError(error: unknown): void {
    // A store error in the loop must not kill the worker: report it and carry on; leases and
    // the reaper put any step whose result could not be recorded back in the queue.
    process.emitWarning(
      `weft worker ${this.workerId}: ${(error as Error)?.stack ?? String(error)}`,
    );
  }

  /**
   * @internal Records a step's result, in a group commit with the results that arrive in the
   * same turn of the event loop (see {@link GroupCommit}).
   */
  commitCompletion(input: Omit<CompleteStep, 'claimNext'>): Promise<TransitionResult> {
    return this.#committed(input.claim ? 0 : 1, this.#commits.submit(input));
  }

  /**
   * @internal Records a workflow run's journal entries (as `recordEntries`), in a group commit
   * with other runs' (see {@link JournalCommit}).
   */
  recordJournal(inputs: readonly RecordEntry[]): Promise<{ applied: boolean }> {
    return this.#journal.submit(inputs);
  }

  /** @internal Records several results (a step and the steps run ahead of it) in one batch. */
  commitCompletions(
    inputs: readonly Omit<CompleteStep, 'claimNext'>[],
  ): Promise<TransitionResult[]> {
    const held = inputs.filter((i) => !i.claim).length;
    return this.#committed(held, this.#commits.submitAll(inputs));
  }

  /**
   * @internal Runs a transition of a step this worker holds with a budget to claim work it
   * makes ready: the free slots and the step's own, reserved meanwhile so that the loop does
   * not claim them too. No budget once the worker is stopping.
   */
  async withClaim<T>(transition: (claim: CreateClaim | undefined) => Promise<T>): Promise<T> {
    const budget = this.#state === 'running' ? this.#free() + 1 : 0;
    this.#reserved += budget;
    try {
      return await transition(
        budget > 0
          ? { workerId: this.workerId, limit: budget, leaseMs: this.leaseMs, labels: this.labels }
          : undefined,
      );
    } finally {
      this.#reserved -= budget;
    }
  }

  /**
   * `held` steps of this worker wait for `commit`: their slots are free meanwhile, and the
   * loop may claim more while the batch commits.
   */
  #committed<T>(held: number, commit: Promise<T>): Promise<T> {
    if (held === 0) return commit;
    this.#committing += held;
    // With work waiting in the queue, the freed slots take it now (else the loop looks again
    // once the commit is done, as after any step).
    if (this.#backlog && this.#free() > 0) this.#kickLoop();
    return commit.finally(() => {
      this.#committing -= held;
    });
  }

  /** @internal Encodes a step output under this engine's size limit. */
  encodeOutput(value: unknown, what: string): Encoded {
    return encode(
      value,
      what,
      this.maxOutputBytes === undefined ? undefined : { maxBytes: this.maxOutputBytes },
    );
  }
}

function activeId(runId: string, key: string): string {
  return `${runId}\u0000${key}`;
}

/** A filter that keeps the first of each value (by identity). */
function unique<T>(): (value: T) => boolean {
  const seen = new Set<T>();
  return (value) => {
    if (seen.has(value)) return false;
    seen.add(value);
    return true;
  };
}
