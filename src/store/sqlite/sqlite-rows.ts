/**
 * SQLite rows and their mapping to the store's domain types. Column names stop here: nothing
 * outside `store/sqlite` sees them.
 */
import type { SerializedError } from '../../core/errors.js';
import type { LogLevel } from '../../core/log.js';
import type { RunStatus, StepStatus } from '../../core/states.js';
import type {
  AttemptRecord,
  AttemptStatus,
  ClaimedStep,
  DefinitionRecord,
  EventRecord,
  LogRecord,
  RunKind,
  RunRecord,
  ScheduleRecord,
  ScheduleSpec,
  StepKind,
  StepRecord,
  WaitInfo,
  WorkerRecord,
} from '../contract/types.js';

export interface RunRow {
  id: string;
  kind: RunKind;
  definition: string;
  status: RunStatus;
  input: string;
  outputs: string;
  trigger: string;
  parent_run_id: string | null;
  idempotency_key: string | null;
  tags: string;
  priority: number;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  /** JSON WaitInfo while the run is parked. */
  waiting_for: string | null;
  /** A parked event wait's event type and key, for sendEvent to find it by index. */
  wait_event: string | null;
  wait_key: string | null;
  partition_key: string | null;
  /** 0 or 1. */
  held: number;
  max_active: number | null;
  /** 0 or 1. */
  serial: number;
}

export interface StepRow {
  run_id: string;
  key: string;
  node: string;
  parent_key: string | null;
  idx: number | null;
  status: StepStatus;
  attempt: number;
  output: string | null;
  error: string | null;
  waiting_on: number;
  available_at: number;
  priority: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  origin: 'run' | 'override';
  kind: StepKind;
  seq: number | null;
  queued_at: number | null;
  started_at: number | null;
  finished_at: number | null;
}

export interface AttemptRow {
  run_id: string;
  step_key: string;
  attempt: number;
  status: AttemptStatus;
  worker_id: string | null;
  started_at: number;
  finished_at: number;
  error: string | null;
}

export interface LogRow {
  seq: number;
  run_id: string;
  step_key: string | null;
  attempt: number | null;
  at: number;
  level: LogLevel;
  message: string;
}

export interface EventRow {
  id: string;
  type: string;
  key: string | null;
  payload: string;
  idempotency_key: string | null;
  sent_at: number;
}

export interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  started_at: number;
  heartbeat_at: number;
  definitions: string;
  labels: string;
}

export interface DefinitionRow {
  name: string;
  kind: RunKind;
  graph: string;
  input_schema: string | null;
  code_hash: string;
  labels: string;
  registered_at: number;
}

export interface ScheduleRow {
  name: string;
  target: string;
  /** Canonical JSON ({@link specToText}). */
  spec: string;
  source: ScheduleRecord['source'];
  /** 0 or 1. */
  paused: number;
  cursor: number | null;
  created_at: number;
  updated_at: number;
}

/** What a claim reads of a step and its run. */
export interface ClaimRow {
  run_id: string;
  key: string;
  node: string;
  parent_key: string | null;
  idx: number | null;
  attempt: number;
  kind: RunKind;
  definition: string;
}

export function errorToText(error: SerializedError | null | undefined): string | null {
  return error ? JSON.stringify(error) : null;
}

function errorFromText(text: string | null): SerializedError | null {
  return text === null ? null : (JSON.parse(text) as SerializedError);
}

export function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    kind: row.kind,
    definition: row.definition,
    status: row.status,
    input: row.input,
    outputs: JSON.parse(row.outputs) as string[],
    trigger: row.trigger,
    parentRunId: row.parent_run_id,
    idempotencyKey: row.idempotency_key,
    tags: JSON.parse(row.tags) as string[],
    priority: row.priority,
    error: errorFromText(row.error),
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
    waitingFor: row.waiting_for === null ? null : (JSON.parse(row.waiting_for) as WaitInfo),
    partition: row.partition_key,
    held: row.held !== 0,
  };
}

export function toStep(row: StepRow): StepRecord {
  return {
    runId: row.run_id,
    key: row.key,
    node: row.node,
    parentKey: row.parent_key,
    index: row.idx,
    status: row.status,
    attempt: row.attempt,
    output: row.output,
    error: errorFromText(row.error),
    waitingOn: row.waiting_on,
    availableAt: row.available_at,
    priority: row.priority,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    origin: row.origin,
    kind: row.kind,
    seq: row.seq,
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export function toAttempt(row: AttemptRow): AttemptRecord {
  return {
    runId: row.run_id,
    stepKey: row.step_key,
    attempt: row.attempt,
    status: row.status,
    workerId: row.worker_id,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    error: errorFromText(row.error),
  };
}

export function toLog(row: LogRow): LogRecord {
  return {
    seq: row.seq,
    runId: row.run_id,
    stepKey: row.step_key,
    attempt: row.attempt,
    at: row.at,
    level: row.level,
    message: row.message,
  };
}

export function toEvent(row: EventRow): EventRecord {
  return {
    id: row.id,
    type: row.type,
    key: row.key,
    payload: row.payload,
    idempotencyKey: row.idempotency_key,
    sentAt: row.sent_at,
  };
}

export function toWorker(row: WorkerRow): WorkerRecord {
  return {
    id: row.id,
    host: row.host,
    pid: row.pid,
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    definitions: JSON.parse(row.definitions) as string[],
    labels: JSON.parse(row.labels) as string[],
  };
}

export function toDefinition(row: DefinitionRow): DefinitionRecord {
  return {
    name: row.name,
    kind: row.kind,
    graph: JSON.parse(row.graph) as unknown,
    inputSchema: row.input_schema === null ? null : (JSON.parse(row.input_schema) as unknown),
    codeHash: row.code_hash,
    labels: JSON.parse(row.labels) as string[],
    registeredAt: row.registered_at,
  };
}

/**
 * A schedule's spec as canonical JSON: object keys sorted at every depth. The store compares
 * specs as this text to tell whether one registered again changed, so the same value must
 * always give the same text, whatever order its keys were built in.
 */
export function specToText(spec: ScheduleSpec): string {
  return JSON.stringify(spec, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((k) => [k, (value as Record<string, unknown>)[k]]),
        )
      : value,
  );
}

export function toSchedule(row: ScheduleRow): ScheduleRecord {
  return {
    name: row.name,
    target: row.target,
    spec: JSON.parse(row.spec) as ScheduleSpec,
    source: row.source,
    paused: row.paused !== 0,
    cursor: row.cursor,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toClaimed(row: ClaimRow, leaseExpiresAt: number): ClaimedStep {
  return {
    runId: row.run_id,
    key: row.key,
    node: row.node,
    parentKey: row.parent_key,
    index: row.idx,
    attempt: row.attempt,
    kind: row.kind,
    definition: row.definition,
    leaseExpiresAt,
  };
}
