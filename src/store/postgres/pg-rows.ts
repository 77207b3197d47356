/**
 * Postgres rows and their mapping to the store's domain types. Column names stop here: nothing
 * outside `store/postgres` sees them. The pool parses BIGINT as a JS number (times, log seqs:
 * all below 2^53), text[] as arrays and jsonb as values, so the mapping only renames.
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
  outputs: string[];
  trigger: string;
  parent_run_id: string | null;
  idempotency_key: string | null;
  tags: string[];
  priority: number;
  error: SerializedError | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  waiting_for: WaitInfo | null;
  partition_key: string | null;
  held: boolean;
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
  error: SerializedError | null;
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
  error: SerializedError | null;
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
  definitions: string[];
  labels: string[];
}

export interface DefinitionRow {
  name: string;
  kind: RunKind;
  graph: unknown;
  input_schema: unknown;
  code_hash: string;
  labels: string[];
  registered_at: number;
}

export interface ScheduleRow {
  name: string;
  target: string;
  spec: ScheduleSpec;
  source: ScheduleRecord['source'];
  paused: boolean;
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

/** A jsonb parameter: pg would send a JS array as a Postgres array, so JSON goes as text. */
export function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

export function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    kind: row.kind,
    definition: row.definition,
    status: row.status,
    input: row.input,
    outputs: row.outputs,
    trigger: row.trigger,
    parentRunId: row.parent_run_id,
    idempotencyKey: row.idempotency_key,
    tags: row.tags,
    priority: row.priority,
    error: row.error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
    waitingFor: row.waiting_for,
    partition: row.partition_key,
    held: row.held,
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
    error: row.error,
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
    error: row.error,
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
    definitions: row.definitions,
    labels: row.labels,
  };
}

export function toDefinition(row: DefinitionRow): DefinitionRecord {
  return {
    name: row.name,
    kind: row.kind,
    graph: row.graph,
    inputSchema: row.input_schema,
    codeHash: row.code_hash,
    labels: row.labels,
    registeredAt: row.registered_at,
  };
}

export function toSchedule(row: ScheduleRow): ScheduleRecord {
  return {
    name: row.name,
    target: row.target,
    spec: row.spec,
    source: row.source,
    paused: row.paused,
    cursor: row.cursor,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toClaimed(row: ClaimRow, leaseExpiresAt: number, input?: string): ClaimedStep {
  const claimed: ClaimedStep = {
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
  if (input !== undefined) claimed.input = input;
  return claimed;
}
