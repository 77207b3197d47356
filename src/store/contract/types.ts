/**
 * Domain types of the store. Rows never leave a store implementation: everything above it
 * sees these types only. Values (params, outputs) are codec-encoded text (`Encoded`).
 */
import type { Encoded } from '../../core/codec.js';
import type { SerializedError } from '../../core/errors.js';
import type { LogLevel } from '../../core/log.js';
import type { PartitionsSpec } from '../../core/partitions.js';
import type { ScheduleSpec } from '../../core/schedule-spec.js';
import type { RunStatus, StepStatus } from '../../core/states.js';

export type RunKind = 'pipeline' | 'workflow';

export type StepKind = 'node' | 'run' | 'step' | 'sleep' | 'event' | 'child';

/** The key of the step that runs a workflow's function; its journal entries are the others. */
export const WORKFLOW_STEP_KEY = '$run';

/** What a parked workflow waits for. */
export type WaitInfo =
  | { kind: 'sleep'; entry: string; until: number }
  | {
      kind: 'event';
      entry: string;
      event: string;
      key: string | null;
      match: Record<string, unknown> | null;
      /** Events sent from this time on match (keyed events match whenever sent). */
      since: number;
      /** When the wait gives up, or null for never. */
      until: number | null;
    }
  | { kind: 'child'; entry: string; childRunId: string }
  | { kind: 'retry'; entry: string; until: number };

export interface EventRecord {
  id: string;
  type: string;
  /** Routes the event to waits that ask for this key, even waits that start later. */
  key: string | null;
  payload: Encoded;
  idempotencyKey: string | null;
  sentAt: number;
}

export interface NewEvent {
  id: string;
  type: string;
  key?: string | null;
  payload: Encoded;
  idempotencyKey?: string | null;
  sentAt: number;
}

export interface EventQuery {
  type: string;
  key: string | null;
  match: Record<string, unknown> | null;
  /** Unkeyed waits see only events sent at or after this time. */
  since: number;
  /** Events already delivered to this run, never delivered again. */
  exclude: readonly string[];
}

/** A workflow journal entry, written by the worker holding the run's `$run` step. */
export interface JournalEntry {
  key: string;
  name: string;
  kind: Exclude<StepKind, 'node' | 'run'>;
  seq: number;
  status: StepStatus;
  /** Encoded result (step output, event, child result) or the wait's details. */
  output: Encoded | null;
  error: SerializedError | null;
  attempt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface RunRecord {
  id: string;
  kind: RunKind;
  /** Name of the pipeline or workflow. */
  definition: string;
  status: RunStatus;
  /** Encoded params / input. */
  input: Encoded;
  /** Outputs asked for (node names); empty means every node of the plan. */
  outputs: string[];
  /** What started it: `cli`, `api`, `schedule:<id>`, `parent`… */
  trigger: string;
  parentRunId: string | null;
  idempotencyKey: string | null;
  tags: string[];
  priority: number;
  /** Why it failed or was cancelled. */
  error: SerializedError | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
  /** What a parked workflow run waits for (status `waiting`), else null. */
  waitingFor: WaitInfo | null;
  /** The partition it computes (the key of its partitioned pipeline), or null. */
  partition: string | null;
  /**
   * Queued behind other runs: its definition has `maxActive` unfinished runs already, or (a
   * schedule's overlap `queue`) a run with its trigger is unfinished. None of its steps can be
   * claimed until a finishing run lets it in (oldest first, by priority).
   */
  held: boolean;
}

export interface StepRecord {
  runId: string;
  /** Unique in the run: the node name, or `node[3]` / `node[3][1]` for fan-out items. */
  key: string;
  /** The node (or workflow step name) this step runs. */
  node: string;
  /** For a fan-out item: the map step it belongs to. */
  parentKey: string | null;
  /** For a fan-out item: its position among the map's items (0-based, flat). */
  index: number | null;
  status: StepStatus;
  /** Attempts started so far. */
  attempt: number;
  /** Encoded output, once succeeded (null for a map step: its output is its items'). */
  output: Encoded | null;
  error: SerializedError | null;
  /** Unfinished dependencies (pending steps) or unfinished items (a running map step). */
  waitingOn: number;
  /** Earliest time a queued step may be claimed (retry backoff). */
  availableAt: number;
  priority: number;
  /** Worker holding the step while running, and until when. */
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  /** Where the value came from when not computed: `override`. */
  origin: 'run' | 'override';
  /** What the step is: a pipeline node (or fan-out item), or in a workflow run its `$run`
   *  step (the workflow function itself) or a journal entry (step, sleep, event wait, child run). */
  kind: StepKind;
  /** A journal entry's position in its workflow's journal (0-based), else null. */
  seq: number | null;
  queuedAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
}

export type AttemptStatus = 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

export interface AttemptRecord {
  runId: string;
  stepKey: string;
  attempt: number;
  status: AttemptStatus;
  workerId: string | null;
  startedAt: number;
  finishedAt: number;
  error: SerializedError | null;
}

export interface LogRecord {
  /** Increasing per store: a cursor for following logs. */
  seq: number;
  runId: string;
  stepKey: string | null;
  attempt: number | null;
  at: number;
  level: LogLevel;
  message: string;
}

export interface WorkerRecord {
  id: string;
  host: string;
  pid: number;
  startedAt: number;
  heartbeatAt: number;
  /** Definitions this worker can run. */
  definitions: string[];
  /** The worker's labels: it takes steps whose required labels it all has. */
  labels: string[];
}

export type { CatchUp, Overlap, ScheduleSpec } from '../../core/schedule-spec.js';
export type { Granularity, PartitionsSpec } from '../../core/partitions.js';

/** A schedule: it starts runs of `target` at the ticks of its spec. */
export interface ScheduleRecord {
  /** Unique: names the schedule in the API, the CLI and its runs' idempotency keys. */
  name: string;
  /** The pipeline or workflow it starts. */
  target: string;
  spec: ScheduleSpec;
  /** Declared in code (registered by workers), or created through the API or the CLI. */
  source: 'code' | 'api';
  paused: boolean;
  /**
   * The latest tick handled (fired or skipped), in ms; null before the first. Ticks after it
   * are due; the scheduler moves it forward only from the value it read (compare and set).
   */
  cursor: number | null;
  /** When it was first registered or created. */
  createdAt: number;
  /** When its spec or pause last changed. */
  updatedAt: number;
}

/** A schedule as registered or created: the store keeps `paused` and `cursor` of an existing one. */
export interface NewSchedule {
  name: string;
  target: string;
  spec: ScheduleSpec;
  source: 'code' | 'api';
  now: number;
}

// Registered graphs (written by the engine's `describeDefinition`, read by servers and the UI)

/** An event trigger as registered with its target's graph. */
export interface RegisteredEventTrigger {
  name: string;
  event: string;
  /** Fixed params, or null: the event's payload. */
  params: unknown;
}

/** A pipeline node as registered. */
export interface NodeDescription {
  name: string;
  kind: 'node' | 'map';
  /** Nodes and params it reads. */
  deps: string[];
  /** For a map: the node or param it maps over. */
  over: string | null;
  task: string | null;
  description: string | null;
  labels: string[];
  retries: number;
  timeoutMs: number | null;
  concurrency: number | null;
  /** Claim priority of its steps (higher first). */
  priority: number;
  /** The node function's source, shown in the UI. */
  source: string;
}

export interface PipelineGraph {
  kind: 'pipeline';
  description: string | null;
  params: string[];
  nodes: NodeDescription[];
  defaultOutputs: string[];
  failFast: boolean;
  /** The params' schema converts or holds what JSON can't (transforms, dates): only the code checks them. */
  inputNeedsCode: boolean;
  /** Event triggers registered with it (`onEvent()`). */
  eventTriggers?: RegisteredEventTrigger[];
  /** Failure webhooks registered with it (`onFailure()`). */
  failureWebhooks?: string[];
  /** Its partitions, when runs target one (`pipeline(…, { partitions })`). */
  partitions?: PartitionsSpec;
  /** Most runs active at once (`maxActiveRuns`); more wait held. */
  maxActiveRuns?: number;
}

export interface WorkflowGraph {
  kind: 'workflow';
  description: string | null;
  labels: string[];
  retries: number;
  timeoutMs: number | null;
  source: string;
  /** As a pipeline's: the input's schema needs the code to check it. */
  inputNeedsCode: boolean;
  /** Event triggers registered with it (`onEvent()`). */
  eventTriggers?: RegisteredEventTrigger[];
  /** Failure webhooks registered with it (`onFailure()`). */
  failureWebhooks?: string[];
  /** Most runs active at once (`maxActiveRuns`); more wait held. */
  maxActiveRuns?: number;
}

/**
 * What a worker registered about a definition it can run, so that servers and the UI can show
 * and describe it without loading user code.
 */
export interface DefinitionRecord {
  name: string;
  kind: RunKind;
  /** JSON: a pipeline's nodes and their dependencies, or a workflow's description. */
  graph: unknown;
  /** JSON Schema of the params / input, or null when it has none. */
  inputSchema: unknown;
  /** Hash of the definition's code: workers with different code show up as different hashes. */
  codeHash: string;
  /** Labels a worker needs to run it (the union over its nodes for a pipeline). */
  labels: string[];
  /** When a worker last registered it. */
  registeredAt: number;
}

/** Leadership of a name across processes (the scheduler, the reaper): one holder at a time. */
export interface Leadership {
  /** Aborted when leadership is lost (the connection holding it broke). */
  readonly lost: AbortSignal;
  /** Gives leadership up. */
  release(): Promise<void>;
}

/** A global concurrency slot a running step asks for (see `Store.acquireSlot`). */
export interface AcquireSlot extends StepRef {
  /** The slot: `task:<name>` or `task:<name>:<key>`; steps sharing it share its limit. */
  slot: string;
  limit: number;
  now: number;
}

/** A claimed step that cannot start yet (its slot is full) goes back to the queue. */
export interface DeferStep extends StepRef {
  slot: string;
  now: number;
  /** Look again at this time at the latest (a freed slot wakes it earlier). */
  retryAt: number;
}

// ---------------------------------------------------------------------------------------------
// Inputs.

export interface NewRun {
  id: string;
  kind: RunKind;
  definition: string;
  input: Encoded;
  outputs: string[];
  trigger: string;
  parentRunId?: string | null;
  idempotencyKey?: string | null;
  tags?: string[];
  priority?: number;
  createdAt: number;
  /** The partition key it computes. */
  partition?: string | null;
  /**
   * At most this many unfinished runs of the definition may be active (not held): the run is
   * created held when that many are, or when older runs of it are held already.
   */
  maxActive?: number | null;
  /** At most one unfinished run with this run's trigger may be active (overlap `queue`). */
  serial?: boolean;
}

export interface NewStep {
  key: string;
  node: string;
  /** Keys of the steps this one waits for (all must be in the same run). */
  dependsOn: string[];
  priority?: number;
  /** Default `node`; a workflow run is created with one step of kind `run` ({@link WORKFLOW_STEP_KEY}). */
  kind?: StepKind;
  /** Pre-set value (an override): inserted `succeeded` with `origin: 'override'`. */
  override?: Encoded;
  /** Labels a worker must all have to claim this step. */
  labels?: string[];
}

export interface NewLog {
  runId: string;
  stepKey: string | null;
  attempt: number | null;
  at: number;
  level: LogLevel;
  message: string;
}

/** A step a worker now holds, with what it needs to run it. */
export interface ClaimedStep {
  runId: string;
  key: string;
  node: string;
  parentKey: string | null;
  index: number | null;
  attempt: number;
  kind: RunKind;
  definition: string;
  leaseExpiresAt: number;
  /** The run's input, when the claim read it (`claimSteps` does): spares reading the run. */
  input?: Encoded;
}

/** A worker claiming the first steps of the run it creates, in the same transaction. */
export type CreateClaim = Omit<ClaimOptions, 'runId' | 'definitions' | 'now'>;

export interface ClaimOptions {
  workerId: string;
  /** Most steps to claim. */
  limit: number;
  now: number;
  leaseMs: number;
  /** Only steps of runs of these definitions (a worker claims what it can run). */
  definitions?: readonly string[];
  /** Only steps of this run. */
  runId?: string;
  /** The worker's labels: steps that require a label it lacks are left to others. */
  labels?: readonly string[];
}

export interface StepRef {
  runId: string;
  key: string;
  /** The attempt the caller ran; a result for an older attempt is refused (fencing). */
  attempt: number;
  workerId: string;
}

export interface CompleteStep extends StepRef {
  output: Encoded | null;
  now: number;
  logs?: NewLog[];
  /** Also claim up to this many of the steps this completion makes ready. */
  claimNext?: { limit: number; leaseMs: number; labels?: readonly string[] };
  /**
   * The worker ran this step ahead of holding it (the next node of a chain, run on in memory
   * and committed in the same batch as its predecessor): claim it first — it must be `queued`
   * with `attempt - 1` attempts so far, as an earlier input of the batch left it — then record
   * its result. `startedAt` is when its work began.
   */
  claim?: { leaseMs: number; startedAt: number };
  /** The global concurrency slot the step held: one step deferred for it becomes available. */
  slot?: string;
  /**
   * A hint: the step has no dependents and is no fan-out item, so its success may finish the
   * run (a single task, a pipeline's last node, a workflow's `$run`). A store may then try to
   * finish the run with the same statement.
   */
  mayFinish?: boolean;
  /**
   * A hint: somebody in the caller's process waits on the run. A store that can return the run
   * as this completion finished it (`finishedRun`) should then; without the hint it may spare
   * the work (the Postgres store does for a batch of results). The caller reads the run back
   * when it needs it and has none.
   */
  returnRun?: boolean;
  /**
   * A workflow's `$run` step: journal entries of the run (same holder) recorded first, as
   * `recordEntries` would, in the same transaction — its last results commit with its end.
   */
  journal?: readonly RecordEntry[];
}

export interface FailStep extends StepRef {
  error: SerializedError;
  now: number;
  /** Queue the step again at this time (a retry) instead of failing it. */
  retryAt: number | null;
  /** On a final failure, cancel every other unfinished step of the run. */
  failFast: boolean;
  logs?: NewLog[];
  /** The global concurrency slot the step held: one step deferred for it becomes available. */
  slot?: string;
}

export interface ExpandStep extends StepRef {
  now: number;
  /** One entry per item, in order: its key. */
  items: string[];
  /**
   * The expanding worker takes the first `limit` items itself, in the same transaction: they
   * are inserted running (attempt 1, leased to it) and returned in `claimed`; the others are
   * queued. None when the map's items need a label the worker lacks.
   */
  claim?: CreateClaim;
}

/** What a step transition changed, for the caller to act on. */
export interface TransitionResult {
  /** False when the caller no longer held the step (lease lost, run cancelled): nothing changed. */
  applied: boolean;
  /** The run's status after the transition. */
  runStatus: RunStatus;
  /** Steps claimed for the caller (with `claimNext`). */
  claimed: ClaimedStep[];
  /** Whether steps became ready that were not claimed (others should be woken). */
  queuedMore: boolean;
  /** The run as this transition finished it, when it did and the store had it at hand. */
  finishedRun?: RunRecord;
}

export interface ListRunsQuery {
  status?: RunStatus;
  definition?: string;
  kind?: RunKind;
  /** Runs created at or after this time (ms). */
  since?: number;
  /** Runs created before this time (ms). */
  until?: number;
  /** Runs whose id starts with this text, or that have this tag. */
  search?: string;
  /** Runs created before this run id (the cursor of the previous page). */
  before?: string;
  limit?: number;
}

/**
 * The least string above every string that starts with `prefix`, in code point order (which is
 * the bytewise order of UTF-8 that both stores sort ids in): `id >= prefix AND id < end` is
 * "starts with", read as a range of the primary key. Null when there is none (every string
 * from `prefix` on starts with it).
 */
export function prefixEnd(prefix: string): string | null {
  const points = [...prefix].map((c) => c.codePointAt(0)!);
  while (points.length) {
    let last = points.pop()!;
    if (last === 0x10ffff) continue;
    last += 1;
    if (last >= 0xd800 && last <= 0xdfff) last = 0xe000; // no surrogates in well-formed text
    return String.fromCodePoint(...points, last);
  }
  return null;
}

/** Fenced by the `$run` step's lease: refused when the worker no longer holds the run. */
export interface RecordEntry {
  runId: string;
  workerId: string;
  /** The attempt of the `$run` step the worker holds. */
  runAttempt: number;
  entry: JournalEntry;
  now: number;
  /** An attempt of a step entry that just ended (succeeded or failed). */
  attemptRow?: {
    attempt: number;
    status: AttemptStatus;
    startedAt: number;
    error: SerializedError | null;
  };
  logs?: NewLog[];
}

export interface ParkRun {
  runId: string;
  workerId: string;
  runAttempt: number;
  now: number;
  /** When to resume even if nothing wakes the run earlier (null: only a wake-up resumes it). */
  wakeAt: number | null;
  waitingFor: WaitInfo;
  /**
   * For an event wait: the events already delivered to this run, as in {@link EventQuery}.
   * Given, the park checks for an event that came after the worker's last `findEvent` (else
   * such an event, sent while the run was not yet waiting, would wake nothing). Without it,
   * no check is made: a keyed wait would find the events it was already given.
   */
  exclude?: readonly string[];
  logs?: NewLog[];
}

// Partitions, backfills, sensors ---------------------------------------------------------------

/**
 * A partition's status: that of its latest run, or `missing` when it has none (in a backfill:
 * its run in that backfill, `missing` when not launched yet).
 */
export type PartitionStatus = RunStatus | 'missing';

/** A partition as the API, the CLI and the UI show it. */
export interface PartitionState {
  key: string;
  status: PartitionStatus;
  /** Its latest run, or null. */
  runId: string | null;
  finishedAt: number | null;
}

/** The latest run of one partition key of a partitioned definition. */
export interface PartitionRun {
  partition: string;
  runId: string;
  status: RunStatus;
  createdAt: number;
  finishedAt: number | null;
}

/**
 * A backfill: runs of a partitioned pipeline over a list of partition keys, at most
 * `maxConcurrent` unfinished at a time, launched in key order by the elected maintenance loop.
 *
 * Lifecycle (`BackfillStatus`): running ⇄ paused; running|paused → cancelled; running →
 * succeeded | failed once every key has a finished run (failed when any run failed).
 */
export type BackfillStatus = 'running' | 'paused' | 'cancelled' | 'succeeded' | 'failed';

export interface BackfillRecord {
  /** `bf_…`: its runs have trigger `backfill:<id>` and idempotency key `backfill:<id>:<key>`. */
  id: string;
  /** The partitioned pipeline. */
  target: string;
  /** The partition keys, in launch order. */
  partitions: string[];
  /** The runs' other params (the partition param is set per run), as plain JSON. */
  params: unknown;
  maxConcurrent: number;
  status: BackfillStatus;
  /** How many keys (from the start of `partitions`) have had their run created. */
  launched: number;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface NewBackfill {
  id: string;
  target: string;
  partitions: string[];
  params: unknown;
  maxConcurrent: number;
  now: number;
}

/** A change to a backfill, applied only if it still has the `status` and `launched` read. */
export interface UpdateBackfill {
  id: string;
  from: { status: BackfillStatus; launched: number };
  status?: BackfillStatus;
  launched?: number;
  now: number;
}

/**
 * A sensor: a function (in the code of the workers that registered it) evaluated every
 * `intervalMs` that returns run requests and a new cursor. The store keeps its cursor and the
 * outcome of its last evaluation.
 */
export interface SensorRecord {
  name: string;
  /** The pipeline or workflow its requests start. */
  target: string;
  intervalMs: number;
  paused: boolean;
  /** What the last successful evaluation returned, given to the next; null before the first. */
  cursor: string | null;
  /** When it was last evaluated (successfully or not), or null. */
  evaluatedAt: number | null;
  /** Why the last evaluation failed, or null when it succeeded. */
  lastError: string | null;
  /** Runs the last successful evaluation requested. */
  lastRequested: number;
  createdAt: number;
  updatedAt: number;
}

export interface NewSensor {
  name: string;
  target: string;
  intervalMs: number;
  now: number;
}

/** The outcome of an evaluation, recorded only if the cursor is still `from`. */
export interface SensorEvaluation {
  name: string;
  from: string | null;
  /** The new cursor (unchanged on failure). */
  cursor: string | null;
  at: number;
  error: string | null;
  requested: number;
}
