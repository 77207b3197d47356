/**
 * Domain types of the store. Rows never leave a store implementation: everything above it
 * sees these types only. Values (params, outputs) are codec-encoded text (`Encoded`).
 */
import type { Encoded } from '../../core/codec.js';
import type { SerializedError } from '../../core/errors.js';
import type { LogLevel } from '../../core/log.js';
import type { RunStatus, StepStatus } from '../../core/states.js';

export type RunKind = 'pipeline' | 'workflow';

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
}

export interface NewStep {
  key: string;
  node: string;
  /** Keys of the steps this one waits for (all must be in the same run). */
  dependsOn: string[];
  priority?: number;
  /** Pre-set value (an override): inserted `succeeded` with `origin: 'override'`. */
  override?: Encoded;
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
}

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
  claimNext?: { limit: number; leaseMs: number };
}

export interface FailStep extends StepRef {
  error: SerializedError;
  now: number;
  /** Queue the step again at this time (a retry) instead of failing it. */
  retryAt: number | null;
  /** On a final failure, cancel every other unfinished step of the run. */
  failFast: boolean;
  logs?: NewLog[];
}

export interface ExpandStep extends StepRef {
  now: number;
  /** One entry per item, in order: its key. */
  items: string[];
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
}

export interface ListRunsQuery {
  status?: RunStatus;
  definition?: string;
  /** Runs created before this run id (the cursor of the previous page). */
  before?: string;
  limit?: number;
}
