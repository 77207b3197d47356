/**
 * The API described as an OpenAPI 3.1 document, served at `GET /api/openapi.json` for client
 * generators and API explorers. It mirrors `api-types.ts` (the shapes handlers are typed
 * against) and the route table; a test checks that every route of the server is described here
 * and that nothing here is missing from the server.
 */
import { LOG_LEVELS } from '../core/log.js';
import { GRANULARITIES } from '../core/partitions.js';
import { OVERLAP_POLICIES } from '../core/schedule-spec.js';
import { RUN_STATUSES, STEP_STATUSES } from '../core/states.js';
import type { ApiContext } from './api-context.js';
import { OUTPUT_PREVIEW_BYTES } from './api-types.js';
import { reply, type Route } from './router.js';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const num: Schema = { type: 'number' };
const bool: Schema = { type: 'boolean' };
const strings: Schema = { type: 'array', items: str };
/** A type or null. */
const orNull = (schema: Schema): Schema => ({ anyOf: [schema, { type: 'null' }] });
const time: Schema = { type: 'integer', description: 'milliseconds since the Unix epoch' };
const anyValue: Schema = {
  description:
    'a decoded value: plain JSON, or the codec’s tagged JSON with `?values=tagged` (see docs/api.md)',
};

/** An object whose listed properties are all required. */
function object(properties: Record<string, Schema>, optional: string[] = []): Schema {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
  };
}

const schemas: Record<string, Schema> = {
  ErrorResponse: object({
    code: {
      type: 'string',
      description: 'stable, machine-readable: `not_found`, `invalid_query`…',
    },
    message: { type: 'string', description: 'what went wrong and what to do about it' },
  }),
  SerializedError: object(
    {
      name: str,
      message: str,
      stack: str,
      code: str,
      retryable: bool,
      cause: ref('SerializedError'),
    },
    ['stack', 'code', 'retryable', 'cause'],
  ),
  RunStatus: { type: 'string', enum: [...RUN_STATUSES] },
  StepStatus: { type: 'string', enum: [...STEP_STATUSES] },
  RunKind: { type: 'string', enum: ['pipeline', 'workflow'] },
  StepKind: { type: 'string', enum: ['node', 'run', 'step', 'sleep', 'event', 'child'] },
  WaitInfo: {
    oneOf: [
      object({ kind: { const: 'sleep' }, entry: str, until: time }),
      object({
        kind: { const: 'event' },
        entry: str,
        event: str,
        key: orNull(str),
        match: orNull({ type: 'object' }),
        since: time,
        until: orNull(time),
      }),
      object({ kind: { const: 'child' }, entry: str, childRunId: str }),
      object({ kind: { const: 'retry' }, entry: str, until: time }),
    ],
  },
  RunView: object({
    id: str,
    kind: ref('RunKind'),
    definition: str,
    status: ref('RunStatus'),
    input: anyValue,
    outputs: strings,
    trigger: str,
    parentRunId: orNull(str),
    idempotencyKey: orNull(str),
    tags: strings,
    priority: num,
    error: orNull(ref('SerializedError')),
    createdAt: time,
    startedAt: orNull(time),
    finishedAt: orNull(time),
    updatedAt: time,
    waitingFor: orNull(ref('WaitInfo')),
    partition: {
      ...orNull(str),
      description: 'the partition key it computes (a partitioned pipeline’s run), or null',
    },
    held: {
      ...bool,
      description:
        'queued behind other runs (the definition’s maxActiveRuns, or a schedule’s overlap `queue`): none of its steps start until a finishing run lets it in',
    },
  }),
  StepView: {
    ...object({
      runId: str,
      key: str,
      node: str,
      parentKey: orNull(str),
      index: orNull(int),
      status: ref('StepStatus'),
      attempt: int,
      output: anyValue,
      outputBytes: orNull(int),
      outputOmitted: bool,
      error: orNull(ref('SerializedError')),
      waitingOn: int,
      availableAt: time,
      priority: num,
      leaseOwner: orNull(str),
      leaseExpiresAt: orNull(time),
      origin: { type: 'string', enum: ['run', 'override'] },
      kind: ref('StepKind'),
      seq: orNull(int),
      queuedAt: orNull(time),
      startedAt: orNull(time),
      finishedAt: orNull(time),
    }),
    description: `\`output\` is inline when its encoded form is at most ${OUTPUT_PREVIEW_BYTES} bytes; a larger one is null with \`outputOmitted\`, read from GET /api/runs/{id}/steps/{key}/output.`,
  },
  AttemptView: object({
    runId: str,
    stepKey: str,
    attempt: int,
    status: { type: 'string', enum: ['succeeded', 'failed', 'cancelled', 'interrupted'] },
    workerId: orNull(str),
    startedAt: time,
    finishedAt: time,
    error: orNull(ref('SerializedError')),
  }),
  LogView: object({
    seq: int,
    runId: str,
    stepKey: orNull(str),
    attempt: orNull(int),
    at: time,
    level: { type: 'string', enum: [...LOG_LEVELS] },
    message: str,
  }),
  EventView: object({
    id: str,
    type: str,
    key: orNull(str),
    payload: anyValue,
    idempotencyKey: orNull(str),
    sentAt: time,
  }),
  WorkerView: object({
    id: str,
    host: str,
    pid: int,
    startedAt: time,
    heartbeatAt: time,
    definitions: strings,
    labels: strings,
    alive: bool,
    running: int,
  }),
  NodeView: object({
    name: str,
    kind: { type: 'string', enum: ['node', 'map'] },
    deps: strings,
    over: orNull(str),
    task: orNull(str),
    description: orNull(str),
    labels: strings,
    retries: int,
    timeoutMs: orNull(int),
    concurrency: orNull(int),
    priority: num,
    source: str,
  }),
  PipelineGraphView: object(
    {
      kind: { const: 'pipeline' },
      description: orNull(str),
      params: strings,
      nodes: { type: 'array', items: ref('NodeView') },
      defaultOutputs: strings,
      failFast: bool,
      partitions: ref('PartitionsSpec'),
      maxActiveRuns: int,
    },
    ['partitions', 'maxActiveRuns'],
  ),
  WorkflowGraphView: object(
    {
      kind: { const: 'workflow' },
      description: orNull(str),
      labels: strings,
      retries: int,
      timeoutMs: orNull(int),
      source: str,
      maxActiveRuns: int,
    },
    ['maxActiveRuns'],
  ),
  DefinitionView: object({
    name: str,
    kind: ref('RunKind'),
    graph: { oneOf: [ref('PipelineGraphView'), ref('WorkflowGraphView')] },
    inputSchema: { description: 'JSON Schema of the params or input, or null' },
    codeHash: str,
    labels: strings,
    registeredAt: time,
    triggerable: bool,
    workers: int,
  }),
  HealthResponse: object({
    ok: { const: true },
    dialect: { type: 'string', enum: ['sqlite', 'postgres'] },
    version: str,
    leader: bool,
  }),
  RunsResponse: object({ runs: { type: 'array', items: ref('RunView') }, next: orNull(str) }),
  RunDetailResponse: object({
    run: ref('RunView'),
    steps: { type: 'array', items: ref('StepView') },
    children: { type: 'array', items: ref('RunView') },
  }),
  TriggerRequest: object(
    {
      definition: str,
      params: { description: 'a pipeline’s params, a workflow’s input' },
      outputs: strings,
      tags: strings,
      priority: num,
      idempotencyKey: str,
    },
    ['params', 'outputs', 'tags', 'priority', 'idempotencyKey'],
  ),
  TriggerResponse: object({ run: ref('RunView'), created: bool }),
  RerunRequest: object({ nodes: strings }),
  RerunResponse: object({ run: ref('RunView'), nodes: strings }),
  CancelRequest: object({ reason: str }, ['reason']),
  CancelResponse: object({ run: ref('RunView'), cancelled: bool }),
  AttemptsResponse: object({ attempts: { type: 'array', items: ref('AttemptView') } }),
  LogsResponse: object({ logs: { type: 'array', items: ref('LogView') }, next: int }),
  OutputResponse: object({ key: str, output: anyValue, outputBytes: orNull(int) }),
  SendEventRequest: object({ type: str, key: str, payload: {}, idempotencyKey: str }, [
    'key',
    'payload',
    'idempotencyKey',
  ]),
  SendEventResponse: object({ event: ref('EventView'), created: bool, woken: strings }),
  EventsResponse: object({ events: { type: 'array', items: ref('EventView') } }),
  WorkersResponse: object({ workers: { type: 'array', items: ref('WorkerView') } }),
  DefinitionsResponse: object({ definitions: { type: 'array', items: ref('DefinitionView') } }),
  DefinitionResponse: object({ definition: ref('DefinitionView') }),
  ScheduleSpec: object({
    cron: orNull(str),
    everyMs: orNull(int),
    timezone: str,
    params: {},
    start: orNull(time),
    end: orNull(time),
    jitterMs: int,
    catchUp: { type: 'string', enum: ['none', 'latest', 'all'] },
    maxCatchUp: int,
    overlap: { type: 'string', enum: [...OVERLAP_POLICIES] },
  }),
  ScheduleView: object({
    name: str,
    target: str,
    spec: ref('ScheduleSpec'),
    source: { type: 'string', enum: ['code', 'api'] },
    paused: bool,
    cursor: orNull(time),
    createdAt: time,
    updatedAt: time,
    description: str,
    nextTick: orNull(time),
  }),
  SchedulesResponse: object({ schedules: { type: 'array', items: ref('ScheduleView') } }),
  ScheduleResponse: object({ schedule: ref('ScheduleView') }),
  CreateScheduleRequest: object(
    {
      name: str,
      target: str,
      cron: str,
      every: { anyOf: [str, int] },
      timezone: str,
      params: {},
      start: { anyOf: [str, int] },
      end: { anyOf: [str, int] },
      jitter: { anyOf: [str, int] },
      catchUp: { type: 'string', enum: ['none', 'latest', 'all'] },
      maxCatchUp: int,
      overlap: { type: 'string', enum: [...OVERLAP_POLICIES] },
    },
    [
      'cron',
      'every',
      'timezone',
      'params',
      'start',
      'end',
      'jitter',
      'catchUp',
      'maxCatchUp',
      'overlap',
    ],
  ),
  DeletedResponse: object({ deleted: bool }),
  PartitionsSpec: {
    description:
      'A partitioned pipeline’s partitions: a calendar of time windows, or a fixed set of keys. See docs/partitions.md.',
    oneOf: [
      object({
        kind: { const: 'time' },
        granularity: { type: 'string', enum: [...GRANULARITIES] },
        param: { ...str, description: 'the param whose value is the partition key' },
        start: time,
        end: orNull(time),
        timezone: str,
        endOffset: int,
      }),
      object({ kind: { const: 'static' }, param: str, keys: strings }),
    ],
  },
  PartitionStatus: {
    type: 'string',
    enum: [...RUN_STATUSES, 'missing'],
    description: 'the status of the partition’s latest run, or `missing` when it has none',
  },
  PartitionState: object({
    key: str,
    status: ref('PartitionStatus'),
    runId: orNull(str),
    finishedAt: orNull(time),
  }),
  PartitionCounts: {
    type: 'object',
    description: 'how many partitions have each status (statuses with none are left out)',
    additionalProperties: int,
  },
  PartitionsResponse: object({
    definition: str,
    description: str,
    spec: ref('PartitionsSpec'),
    partitions: { type: 'array', items: ref('PartitionState') },
    counts: ref('PartitionCounts'),
    total: int,
  }),
  BackfillStatus: {
    type: 'string',
    enum: ['running', 'paused', 'cancelled', 'succeeded', 'failed'],
  },
  BackfillView: object({
    id: str,
    target: str,
    partitions: { ...strings, description: 'the partition keys, in launch order' },
    params: { type: 'object', description: 'the runs’ other params, as plain JSON' },
    maxConcurrent: int,
    status: ref('BackfillStatus'),
    launched: { ...int, description: 'how many keys have had their run created' },
    createdAt: time,
    updatedAt: time,
    finishedAt: orNull(time),
    counts: ref('PartitionCounts'),
    total: int,
  }),
  BackfillsResponse: object({ backfills: { type: 'array', items: ref('BackfillView') } }),
  BackfillDetailResponse: object({
    backfill: ref('BackfillView'),
    partitions: { type: 'array', items: ref('PartitionState') },
  }),
  CreateBackfillRequest: object(
    {
      target: str,
      from: str,
      to: str,
      partitions: strings,
      params: { type: 'object' },
      maxConcurrent: { type: 'integer', minimum: 1, maximum: 1000, default: 4 },
    },
    ['from', 'to', 'partitions', 'params', 'maxConcurrent'],
  ),
  SensorView: object({
    name: str,
    target: str,
    intervalMs: int,
    paused: bool,
    cursor: orNull(str),
    evaluatedAt: orNull(time),
    lastError: orNull(str),
    lastRequested: int,
    createdAt: time,
    updatedAt: time,
  }),
  SensorsResponse: object({ sensors: { type: 'array', items: ref('SensorView') } }),
  StreamMessage: {
    description:
      'One server-sent event: `event:` is the message’s `type`, `data:` the message as JSON.',
    oneOf: [
      object({ type: { const: 'run' }, run: ref('RunView') }),
      object({ type: { const: 'step' }, step: ref('StepView') }),
      object({ type: { const: 'log' }, log: ref('LogView') }),
      object({ type: { const: 'reset' } }),
    ],
  },
};

// Parameters and responses -------------------------------------------------------------------

function query(name: string, schema: Schema, description: string): Schema {
  return { name, in: 'query', required: false, schema, description };
}
function path(name: string, description: string): Schema {
  return { name, in: 'path', required: true, schema: str, description };
}
const values = query(
  'values',
  { type: 'string', enum: ['json', 'tagged'], default: 'json' },
  'values as plain JSON, or as the codec’s tagged JSON (lossless)',
);
const runId = path('id', 'the run id');

function json(schemaName: string, description: string): Schema {
  return { description, content: { 'application/json': { schema: ref(schemaName) } } };
}
function body(schemaName: string, required = true): Schema {
  return { required, content: { 'application/json': { schema: ref(schemaName) } } };
}
const error = (description: string): Schema => json('ErrorResponse', description);
const errors = {
  '400': error('a query value or body field is invalid (`invalid_query`, `invalid_body`…)'),
  '401': error('a token is needed and missing or wrong (`unauthorized`)'),
  '503': error('the database cannot be reached right now (`store_unavailable`)'),
};
const notFound = { '404': error('no such run, step or definition (`not_found`)') };

const backfillId = path('id', 'the backfill id (`bf_…`)');
const backfillChange = {
  '200': json('BackfillView', 'the backfill'),
  '409': error(
    'the backfill’s status does not allow it (`invalid_backfill_state`): it is finished, or paused already…',
  ),
  ...errors,
  ...notFound,
};

interface Operation {
  summary: string;
  description?: string;
  parameters?: Schema[];
  requestBody?: Schema;
  responses: Record<string, Schema>;
  public?: boolean;
}

/** `method path` (paths as in the route table, `:id`) → operation. */
const operations: Record<string, Operation> = {
  'GET /api/health': {
    summary: 'Whether the server is up (never touches the database)',
    public: true,
    responses: { '200': json('HealthResponse', 'the server is up') },
  },
  'GET /api/openapi.json': {
    summary: 'This document',
    public: true,
    responses: {
      '200': { description: 'the OpenAPI document', content: { 'application/json': {} } },
    },
  },
  'GET /api/runs': {
    summary: 'Runs, newest first, a page at a time',
    parameters: [
      query('status', ref('RunStatus'), 'only runs in this status'),
      query('definition', str, 'only runs of this pipeline or workflow'),
      query('kind', ref('RunKind'), 'only pipeline runs or only workflow runs'),
      query('since', time, 'only runs created at or after this time'),
      query('until', time, 'only runs created before this time'),
      query('q', str, 'runs whose id starts with this text, or that have this tag'),
      query('before', str, 'runs created before this run id: the previous page’s `next`'),
      query('limit', { type: 'integer', minimum: 1, maximum: 500, default: 50 }, 'page size'),
      values,
    ],
    responses: { '200': json('RunsResponse', 'a page of runs'), ...errors },
  },
  'POST /api/runs': {
    summary: 'Triggers a run of a registered definition',
    parameters: [values],
    requestBody: body('TriggerRequest'),
    responses: {
      '201': json('TriggerResponse', 'the run was created'),
      '200': json('TriggerResponse', 'the idempotency key was used already: the first run'),
      ...errors,
      ...notFound,
    },
  },
  'GET /api/runs/:id': {
    summary: 'A run with its steps and the runs it started',
    parameters: [runId, values],
    responses: { '200': json('RunDetailResponse', 'the run'), ...errors, ...notFound },
  },
  'GET /api/runs/:id/attempts': {
    summary: 'Every attempt of every step of a run',
    parameters: [runId],
    responses: { '200': json('AttemptsResponse', 'the attempts'), ...errors, ...notFound },
  },
  'GET /api/runs/:id/logs': {
    summary: 'Log lines of a run, in order',
    parameters: [
      runId,
      query('step', str, 'only the lines of this step key'),
      query('after', { type: 'integer', minimum: 0 }, 'only lines after this cursor (a `seq`)'),
      query('limit', { type: 'integer', minimum: 1, maximum: 10_000, default: 1000 }, 'most lines'),
    ],
    responses: {
      '200': json('LogsResponse', 'the lines and the next cursor'),
      ...errors,
      ...notFound,
    },
  },
  'GET /api/runs/:id/steps/:key/output': {
    summary: 'The whole output of a step',
    parameters: [runId, path('key', 'the step key (`report`, `totals[2]`, `$run`)'), values],
    responses: { '200': json('OutputResponse', 'the output'), ...errors, ...notFound },
  },
  'POST /api/runs/:id/cancel': {
    summary: 'Cancels a run that has not finished',
    parameters: [runId, values],
    requestBody: body('CancelRequest', false),
    responses: {
      '200': json('CancelResponse', 'the run, and whether this request cancelled it'),
      ...errors,
      ...notFound,
    },
  },
  'POST /api/runs/:id/retry': {
    summary: 'Runs a failed run again from its failed nodes (a new run)',
    parameters: [runId, values],
    responses: { '201': json('RerunResponse', 'the new run'), ...errors, ...notFound },
  },
  'POST /api/runs/:id/rerun': {
    summary: 'Runs the given nodes of a run again, and what follows them (a new run)',
    parameters: [runId, values],
    requestBody: body('RerunRequest'),
    responses: { '201': json('RerunResponse', 'the new run'), ...errors, ...notFound },
  },
  'GET /api/events': {
    summary: 'Events, newest first',
    parameters: [
      query('type', str, 'only events of this type'),
      query('limit', { type: 'integer', minimum: 1, maximum: 500, default: 50 }, 'most events'),
      values,
    ],
    responses: { '200': json('EventsResponse', 'the events'), ...errors },
  },
  'POST /api/events': {
    summary: 'Sends an event, waking the workflow runs waiting for it',
    parameters: [values],
    requestBody: body('SendEventRequest'),
    responses: {
      '201': json('SendEventResponse', 'the event was recorded'),
      '200': json('SendEventResponse', 'the idempotency key was used already: the first event'),
      '413': error('the body is over the limit (`body_too_large`)'),
      ...errors,
    },
  },
  'GET /api/workers': {
    summary: 'The workers registered in the database',
    responses: { '200': json('WorkersResponse', 'the workers'), ...errors },
  },
  'GET /api/definitions': {
    summary: 'The pipelines and workflows workers registered',
    responses: { '200': json('DefinitionsResponse', 'the definitions, by name'), ...errors },
  },
  'GET /api/definitions/:name': {
    summary: 'One registered definition',
    parameters: [path('name', 'the pipeline or workflow name')],
    responses: { '200': json('DefinitionResponse', 'the definition'), ...errors, ...notFound },
  },
  'GET /api/schedules': {
    summary: 'The schedules, by name, with when each fires next',
    responses: { '200': json('SchedulesResponse', 'the schedules'), ...errors },
  },
  'GET /api/schedules/:name': {
    summary: 'One schedule',
    parameters: [path('name', 'the schedule name')],
    responses: { '200': json('ScheduleResponse', 'the schedule'), ...errors, ...notFound },
  },
  'POST /api/schedules': {
    summary: 'Makes a schedule (cron or interval) of a registered pipeline or workflow',
    requestBody: body('CreateScheduleRequest'),
    responses: {
      '201': json('ScheduleResponse', 'the new schedule'),
      '409': error('a schedule has this name already (`schedule_exists`)'),
      ...errors,
      ...notFound,
    },
  },
  'POST /api/schedules/:name/pause': {
    summary: 'Pauses a schedule: its ticks are not fired until it is resumed',
    parameters: [path('name', 'the schedule name')],
    responses: { '200': json('ScheduleResponse', 'the schedule'), ...errors, ...notFound },
  },
  'POST /api/schedules/:name/resume': {
    summary: 'Resumes a paused schedule (missed ticks follow its catch-up policy)',
    parameters: [path('name', 'the schedule name')],
    responses: { '200': json('ScheduleResponse', 'the schedule'), ...errors, ...notFound },
  },
  'DELETE /api/schedules/:name': {
    summary: 'Deletes a schedule made through the API (its runs stay)',
    parameters: [path('name', 'the schedule name')],
    responses: {
      '200': json('DeletedResponse', 'deleted'),
      '409': error('the schedule is declared in code (`declared_in_code`): pause it instead'),
      ...errors,
      ...notFound,
    },
  },
  'GET /api/definitions/:name/partitions': {
    summary: 'The status of each partition of a partitioned pipeline',
    parameters: [
      path('name', 'the pipeline name'),
      query(
        'limit',
        { type: 'integer', minimum: 1, maximum: 100_000, default: 1000 },
        'the latest this many partitions (`counts` and `total` cover all)',
      ),
    ],
    responses: {
      '200': json('PartitionsResponse', 'the partitions, in key order'),
      ...errors,
      ...notFound,
    },
  },
  'GET /api/backfills': {
    summary: 'Backfills, newest first, with their progress',
    parameters: [
      query('status', ref('BackfillStatus'), 'only backfills in this status'),
      query('target', str, 'only backfills of this pipeline'),
      query('limit', { type: 'integer', minimum: 1, maximum: 500, default: 50 }, 'most backfills'),
    ],
    responses: { '200': json('BackfillsResponse', 'the backfills'), ...errors },
  },
  'POST /api/backfills': {
    summary: 'Starts a backfill: runs of a partitioned pipeline over a range of partitions',
    description:
      'Give `from`/`to` (both optional: default the first and the latest partition) or `partitions`. The runs start at the cluster’s next maintenance pass, at most `maxConcurrent` unfinished at once.',
    requestBody: body('CreateBackfillRequest'),
    responses: {
      '201': json('BackfillView', 'the new backfill'),
      ...errors,
      ...notFound,
    },
  },
  'GET /api/backfills/:id': {
    summary: 'A backfill with the status of each of its partitions',
    parameters: [backfillId],
    responses: {
      '200': json('BackfillDetailResponse', 'the backfill'),
      ...errors,
      ...notFound,
    },
  },
  'POST /api/backfills/:id/pause': {
    summary: 'Pauses a running backfill: no more runs start (those started go on)',
    parameters: [backfillId],
    responses: backfillChange,
  },
  'POST /api/backfills/:id/resume': {
    summary: 'Resumes a paused backfill',
    parameters: [backfillId],
    responses: backfillChange,
  },
  'POST /api/backfills/:id/cancel': {
    summary: 'Cancels a backfill and its unfinished runs',
    parameters: [backfillId],
    responses: backfillChange,
  },
  'GET /api/sensors': {
    summary: 'The sensors, by name, with their cursor and last evaluation',
    responses: { '200': json('SensorsResponse', 'the sensors'), ...errors },
  },
  'POST /api/sensors/:name/pause': {
    summary: 'Pauses a sensor: it is not evaluated until resumed',
    parameters: [path('name', 'the sensor name')],
    responses: { '200': json('SensorView', 'the sensor'), ...errors, ...notFound },
  },
  'POST /api/sensors/:name/resume': {
    summary: 'Resumes a paused sensor',
    parameters: [path('name', 'the sensor name')],
    responses: { '200': json('SensorView', 'the sensor'), ...errors, ...notFound },
  },
  'GET /api/stream': {
    summary: 'Live changes, as server-sent events',
    description:
      'With `run`, that run, its steps and its log lines (the run and its steps as they are come first); without, the transitions of every run. Each event’s `data` is a StreamMessage; a `: ping` comment comes every 15 s.',
    parameters: [query('run', str, 'the run to follow'), values],
    responses: {
      '200': {
        description: 'the stream, open until the client leaves or the server stops',
        content: { 'text/event-stream': { schema: ref('StreamMessage') } },
      },
      ...errors,
      ...notFound,
    },
  },
};

/** `/api/runs/:id` as OpenAPI writes it: `/api/runs/{id}`. */
export function openApiPath(routePath: string): string {
  return routePath.replace(/:([A-Za-z_]\w*)/g, '{$1}');
}

/** The OpenAPI 3.1 document of the API. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [key, op] of Object.entries(operations)) {
    const [method, routePath] = key.split(' ') as [string, string];
    const { public: isPublic, ...rest } = op;
    (paths[openApiPath(routePath)] ??= {})[method.toLowerCase()] = {
      operationId: `${method.toLowerCase()}${openApiPath(routePath)
        .replace(/^\/api/, '')
        .replace(/[{}]/g, '')
        .split(/[/._-]/)
        .filter(Boolean)
        .map((w) => w[0]!.toUpperCase() + w.slice(1))
        .join('')}`,
      ...rest,
      ...(isPublic ? { security: [] } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Weft API',
      version,
      description:
        'Runs, steps, logs, events, workers, definitions, schedules, backfills and sensors of a Weft cluster. Times are milliseconds since the Unix epoch; errors are `{ code, message }`. See docs/api.md.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'the token given to `weft server` (`--token` or `WEFT_TOKEN`), when it has one',
        },
      },
    },
  };
}

export function openApiRoutes(api: ApiContext): Route[] {
  let document: Record<string, unknown> | undefined;
  return [
    {
      method: 'GET',
      path: '/api/openapi.json',
      public: true,
      async handler() {
        return reply((document ??= openApiDocument(api.version)));
      },
    },
  ];
}
