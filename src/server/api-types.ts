/**
 * The shapes the HTTP API answers with, route by route. Handlers are typed against them and the
 * typed client (`src/client`) and the web UI import them as types only, so the server is the one
 * place they are written down. See docs/api.md.
 */
import type { SerializedError } from '../core/errors.js';
import type { LogLevel } from '../core/log.js';
import type { Overlap } from '../core/schedule-spec.js';
import type { RunStatus, StepStatus } from '../core/states.js';
import type {
  AttemptRecord,
  BackfillRecord,
  BackfillStatus,
  DefinitionRecord,
  LogRecord,
  NodeDescription,
  PartitionState,
  PartitionStatus,
  PartitionsSpec,
  PipelineGraph,
  RunKind,
  RunRecord,
  ScheduleRecord,
  SensorRecord,
  StepKind,
  StepRecord,
  WaitInfo,
  WorkflowGraph,
} from '../store/contract/types.js';

export type { RunStatus, StepStatus, RunKind, StepKind, WaitInfo, SerializedError, LogLevel };
export type { Overlap, PartitionsSpec, PartitionState, PartitionStatus, BackfillStatus };

/** A run; `input` is decoded (plain JSON unless `?values=tagged`). */
export interface RunView extends Omit<RunRecord, 'input'> {
  input: unknown;
}

/**
 * A step. Its `output` is decoded when its encoded form is at most
 * {@link OUTPUT_PREVIEW_BYTES}; a larger one is left out (`outputOmitted`) and read whole from
 * `GET /api/runs/:id/steps/:key/output`.
 */
export interface StepView extends Omit<StepRecord, 'output'> {
  output: unknown;
  /** Size of the encoded output in bytes, or null when there is none. */
  outputBytes: number | null;
  /** The output is larger than a preview: fetch it from the output route. */
  outputOmitted: boolean;
}

/** Largest encoded output sent inline with a step (16 KiB). */
export const OUTPUT_PREVIEW_BYTES = 16 * 1024;

export type AttemptView = AttemptRecord;
export type LogView = LogRecord;

export interface EventView {
  id: string;
  type: string;
  key: string | null;
  payload: unknown;
  idempotencyKey: string | null;
  sentAt: number;
}

export interface WorkerView {
  id: string;
  host: string;
  pid: number;
  startedAt: number;
  heartbeatAt: number;
  definitions: string[];
  labels: string[];
  /** Its heartbeat is recent enough to count it as alive. */
  alive: boolean;
  /** Steps it holds right now (running under its lease). */
  running: number;
}

/** A pipeline node, a pipeline's and a workflow's graph, as workers registered them. */
export type NodeView = NodeDescription;
export type PipelineGraphView = PipelineGraph;
export type WorkflowGraphView = WorkflowGraph;

/** A definition: `graph` is a pipeline's nodes or a workflow's description. */
export interface DefinitionView extends Omit<DefinitionRecord, 'graph'> {
  graph: PipelineGraphView | WorkflowGraphView;
  /**
   * Whether a run can be triggered through this server: it has the definition's code (`weft
   * dev`), or the registered JSON Schema says all the input's checks (no transforms).
   */
  triggerable: boolean;
  /**
   * Live workers (recent heartbeat) that run it. 0: none does now — its runs wait for one (a
   * definition removed from the code stays registered until its name is reused).
   */
  workers: number;
}

// ---------------------------------------------------------------------------------------------
// Routes

export interface HealthResponse {
  ok: true;
  dialect: 'sqlite' | 'postgres';
  version: string;
  leader: boolean;
}

/** `GET /api/runs` */
export interface RunsQuery {
  status?: RunStatus;
  definition?: string;
  kind?: RunKind;
  /** Runs created at or after this time (ms). */
  since?: number;
  /** Runs created before this time (ms). */
  until?: number;
  /** A run id (or its start), or a tag. */
  q?: string;
  before?: string;
  limit?: number;
}
export interface RunsResponse {
  runs: RunView[];
  next: string | null;
}

/** `GET /api/runs/:id` */
export interface RunDetailResponse {
  run: RunView;
  steps: StepView[];
  /** Runs it started (a workflow's child runs), oldest first. */
  children: RunView[];
}

/** `POST /api/runs` */
export interface TriggerRequest {
  definition: string;
  /** A pipeline's params, a workflow's input. */
  params?: unknown;
  /** Pipeline outputs to compute (node names); default its default outputs. */
  outputs?: string[];
  tags?: string[];
  priority?: number;
  idempotencyKey?: string;
}
export interface TriggerResponse {
  run: RunView;
  /** False when the idempotency key was used already: `run` is that first run. */
  created: boolean;
}

/** `POST /api/runs/:id/retry` (failed nodes and what follows) and `/rerun` (given nodes). */
export interface RerunRequest {
  nodes: string[];
}
export interface RerunResponse {
  run: RunView;
  /** Nodes the new run computes; the others it reads from the original run. */
  nodes: string[];
}

export interface CancelResponse {
  run: RunView;
  cancelled: boolean;
}

export interface AttemptsResponse {
  attempts: AttemptView[];
}

export interface LogsResponse {
  logs: LogView[];
  next: number;
}

/** `GET /api/runs/:id/steps/:key/output` */
export interface OutputResponse {
  key: string;
  output: unknown;
  outputBytes: number | null;
}

export interface SendEventRequest {
  type: string;
  key?: string;
  payload?: unknown;
  idempotencyKey?: string;
}
export interface SendEventResponse {
  event: EventView;
  created: boolean;
  woken: string[];
}

export interface EventsResponse {
  events: EventView[];
}

export interface WorkersResponse {
  workers: WorkerView[];
}

export interface DefinitionsResponse {
  definitions: DefinitionView[];
}

export interface DefinitionResponse {
  definition: DefinitionView;
}

/** A schedule, with when it fires next (null: never again, or paused) and a summary. */
export interface ScheduleView extends ScheduleRecord {
  /** `cron 30 2 * * * (Europe/Berlin)`, `every 15m`. */
  description: string;
  nextTick: number | null;
}

export interface SchedulesResponse {
  schedules: ScheduleView[];
}

export interface ScheduleResponse {
  schedule: ScheduleView;
}

/** `POST /api/schedules`: a schedule made through the API (`source: 'api'`). */
export interface CreateScheduleRequest {
  name: string;
  /** The pipeline or workflow to start. */
  target: string;
  cron?: string;
  /** `'15m'`, `'1h'`, or milliseconds. */
  every?: string | number;
  timezone?: string;
  params?: unknown;
  /** ISO time or epoch ms. */
  start?: string | number;
  end?: string | number;
  jitter?: string | number;
  catchUp?: 'none' | 'latest' | 'all';
  maxCatchUp?: number;
  overlap?: Overlap;
}

/** `GET /api/definitions/:name/partitions?limit=N`: the status of each partition. */
export interface PartitionsQuery {
  /** The latest this many partitions (default 1000, at most 100000); `counts` covers all. */
  limit?: number;
}
export interface PartitionsResponse {
  definition: string;
  /** `daily from 2026-01-01 (UTC), param day`. */
  description: string;
  spec: PartitionsSpec;
  /** The latest `limit` partitions, in key order; `missing`: no run yet. */
  partitions: PartitionState[];
  /** How many partitions (all of them, not only those listed) have each status. */
  counts: Partial<Record<PartitionStatus, number>>;
  /** Partitions that exist in all. */
  total: number;
}

/**
 * A backfill with its progress: `counts` holds its partitions by the status of their run in
 * this backfill (`missing`: not launched yet), `total` their number.
 */
export interface BackfillView extends BackfillRecord {
  counts: Partial<Record<PartitionStatus, number>>;
  total: number;
}

/** `GET /api/backfills`, newest first. */
export interface BackfillsQuery {
  status?: BackfillStatus;
  /** The partitioned pipeline. */
  target?: string;
  limit?: number;
}
export interface BackfillsResponse {
  backfills: BackfillView[];
}

/** `POST /api/backfills` (answers 201 with the `BackfillView`). */
export interface CreateBackfillRequest {
  /** The partitioned pipeline. */
  target: string;
  /** First partition key (default the first partition). */
  from?: string;
  /** Last partition key, included (default the latest partition). */
  to?: string;
  /** Or exactly these keys, in this order (not with from/to). */
  partitions?: string[];
  /** The runs' other params; the partition param is set per run. */
  params?: Record<string, unknown>;
  /** Most runs unfinished at once (1–1000, default 4). */
  maxConcurrent?: number;
}

/** `GET /api/backfills/:id` */
export interface BackfillDetailResponse {
  backfill: BackfillView;
  /** Each partition of the backfill, in launch order, with the status of its run. */
  partitions: PartitionState[];
}

/** A sensor, as the store keeps it (cursor and the outcome of its last evaluation). */
export type SensorView = SensorRecord;

export interface SensorsResponse {
  sensors: SensorView[];
}

/**
 * What `GET /api/stream` sends, one server-sent event each (`event:` is the `type`, `data:` the
 * JSON). With `?run=<id>` the stream carries that run, its steps and its log lines; without, the
 * transitions of every run.
 */
export type StreamMessage =
  | { type: 'run'; run: RunView }
  | { type: 'step'; step: StepView }
  | { type: 'log'; log: LogView }
  /** The stream fell behind (or the server restarted): reload what is shown. */
  | { type: 'reset' };

/** The body of every error response. */
export interface ErrorResponse {
  code: string;
  message: string;
  /**
   * With `invalid_input` (a trigger's params or a workflow's input the schema refuses): each
   * problem with the path of its field (`["limit"]`, `["rows", 2, "id"]`).
   */
  issues?: { path: (string | number)[]; message: string }[];
}
