/**
 * A typed client of Weft's HTTP API, for scripts, the CLI's `--server` mode and the web UI. It
 * runs wherever `fetch` does (Node 20+, browsers) and imports the API's types from the server,
 * never its code.
 *
 * ```ts
 * const api = createClient({ baseUrl: 'http://localhost:8080', token: process.env.WEFT_TOKEN });
 * const { run } = await api.trigger({ definition: 'daily', params: { day: '2026-01-01' } });
 * ```
 */
import type {
  AttemptsResponse,
  BackfillDetailResponse,
  BackfillsQuery,
  BackfillsResponse,
  BackfillView,
  CancelResponse,
  CreateBackfillRequest,
  DefinitionResponse,
  DefinitionsResponse,
  ErrorResponse,
  EventsResponse,
  HealthResponse,
  LogsResponse,
  OutputResponse,
  PartitionsQuery,
  PartitionsResponse,
  RerunResponse,
  RunDetailResponse,
  RunsQuery,
  RunsResponse,
  CreateScheduleRequest,
  ScheduleResponse,
  SchedulesResponse,
  SendEventRequest,
  SendEventResponse,
  SensorsResponse,
  SensorView,
  StreamMessage,
  TriggerRequest,
  TriggerResponse,
  WorkersResponse,
} from '../server/api-types.js';

export type * from '../server/api-types.js';

/** A field an `invalid_input` error is about: its path in the input, and what is wrong. */
export type InputIssue = NonNullable<ErrorResponse['issues']>[number];

/** An error answered by the API (`status` and its `{ code, message }`), or a network failure. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** With `invalid_input`: each field's problem (empty otherwise). */
  readonly issues: readonly InputIssue[];
  constructor(status: number, code: string, message: string, issues: readonly InputIssue[] = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.issues = issues;
  }
}

export interface ClientOptions {
  /** Where the server is: `http://localhost:8080`, or `''` for the page's own origin. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Default the global `fetch`. */
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | undefined>;

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  return text ? `?${text}` : '';
}

const enc = encodeURIComponent;

export type WeftClient = ReturnType<typeof createClient>;

/**
 * How values (inputs, outputs, payloads) come back: plain JSON (default), or the codec's tagged
 * JSON that keeps Dates, Maps, BigInts… (see docs/api.md).
 */
export interface ValuesOption {
  values?: 'json' | 'tagged';
}

export function createClient(options: ClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...extra,
  });

  async function request<T>(
    method: string,
    path: string,
    init: { query?: Query; body?: unknown; signal?: AbortSignal } = {},
  ): Promise<T> {
    const url = `${base}${path}${queryString(init.query)}`;
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers: headers(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ApiError(
        0,
        'unreachable',
        `cannot reach the Weft server at ${base || 'this origin'}: ${(error as Error).message}`,
      );
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const err = body as Partial<ErrorResponse> | undefined;
      throw new ApiError(
        res.status,
        typeof err?.code === 'string' ? err.code : `http_${res.status}`,
        typeof err?.message === 'string' ? err.message : `${method} ${path}: HTTP ${res.status}`,
        Array.isArray(err?.issues) ? err.issues : [],
      );
    }
    return body as T;
  }

  return {
    health: () => request<HealthResponse>('GET', '/api/health'),
    runs: (query: RunsQuery & ValuesOption = {}) =>
      request<RunsResponse>('GET', '/api/runs', { query: { ...query } }),
    run: (id: string, query: ValuesOption = {}) =>
      request<RunDetailResponse>('GET', `/api/runs/${enc(id)}`, { query: { ...query } }),
    attempts: (id: string) => request<AttemptsResponse>('GET', `/api/runs/${enc(id)}/attempts`),
    logs: (id: string, query: { step?: string; after?: number; limit?: number } = {}) =>
      request<LogsResponse>('GET', `/api/runs/${enc(id)}/logs`, { query }),
    output: (id: string, key: string, query: ValuesOption = {}) =>
      request<OutputResponse>('GET', `/api/runs/${enc(id)}/steps/${enc(key)}/output`, {
        query: { ...query },
      }),
    trigger: (body: TriggerRequest, query: ValuesOption = {}) =>
      request<TriggerResponse>('POST', '/api/runs', { body, query: { ...query } }),
    cancel: (id: string, reason?: string) =>
      request<CancelResponse>('POST', `/api/runs/${enc(id)}/cancel`, {
        body: reason === undefined ? {} : { reason },
      }),
    retry: (id: string) => request<RerunResponse>('POST', `/api/runs/${enc(id)}/retry`, {}),
    rerun: (id: string, nodes: string[]) =>
      request<RerunResponse>('POST', `/api/runs/${enc(id)}/rerun`, { body: { nodes } }),
    sendEvent: (body: SendEventRequest) =>
      request<SendEventResponse>('POST', '/api/events', { body }),
    events: (query: { type?: string; limit?: number } = {}) =>
      request<EventsResponse>('GET', '/api/events', { query }),
    workers: () => request<WorkersResponse>('GET', '/api/workers'),
    definitions: () => request<DefinitionsResponse>('GET', '/api/definitions'),
    definition: (name: string) =>
      request<DefinitionResponse>('GET', `/api/definitions/${enc(name)}`),
    schedules: () => request<SchedulesResponse>('GET', '/api/schedules'),
    schedule: (name: string) => request<ScheduleResponse>('GET', `/api/schedules/${enc(name)}`),
    createSchedule: (body: CreateScheduleRequest) =>
      request<ScheduleResponse>('POST', '/api/schedules', { body }),
    pauseSchedule: (name: string) =>
      request<ScheduleResponse>('POST', `/api/schedules/${enc(name)}/pause`, {}),
    resumeSchedule: (name: string) =>
      request<ScheduleResponse>('POST', `/api/schedules/${enc(name)}/resume`, {}),
    deleteSchedule: (name: string) =>
      request<{ deleted: boolean }>('DELETE', `/api/schedules/${enc(name)}`),
    /** The status of each partition of a partitioned pipeline (the latest `limit`, default 1000). */
    partitions: (name: string, query: PartitionsQuery = {}) =>
      request<PartitionsResponse>('GET', `/api/definitions/${enc(name)}/partitions`, {
        query: { ...query },
      }),
    backfills: (query: BackfillsQuery = {}) =>
      request<BackfillsResponse>('GET', '/api/backfills', { query: { ...query } }),
    backfill: (id: string) => request<BackfillDetailResponse>('GET', `/api/backfills/${enc(id)}`),
    /** Starts a backfill; its runs start at the cluster's next maintenance pass. */
    createBackfill: (body: CreateBackfillRequest) =>
      request<BackfillView>('POST', '/api/backfills', { body }),
    pauseBackfill: (id: string) =>
      request<BackfillView>('POST', `/api/backfills/${enc(id)}/pause`, {}),
    resumeBackfill: (id: string) =>
      request<BackfillView>('POST', `/api/backfills/${enc(id)}/resume`, {}),
    cancelBackfill: (id: string) =>
      request<BackfillView>('POST', `/api/backfills/${enc(id)}/cancel`, {}),
    sensors: () => request<SensorsResponse>('GET', '/api/sensors'),
    pauseSensor: (name: string) =>
      request<SensorView>('POST', `/api/sensors/${enc(name)}/pause`, {}),
    resumeSensor: (name: string) =>
      request<SensorView>('POST', `/api/sensors/${enc(name)}/resume`, {}),

    /**
     * Follows `GET /api/stream` (one run's changes with `run`, else every run's transitions),
     * calling `onMessage` for each message until `signal` aborts. Resolves when the stream ends;
     * rejects with an {@link ApiError} when it cannot be opened.
     */
    async stream(
      query: { run?: string },
      onMessage: (message: StreamMessage) => void,
      signal?: AbortSignal,
    ): Promise<void> {
      const url = `${base}/api/stream${queryString(query)}`;
      let res: Response;
      try {
        res = await doFetch(url, {
          headers: headers({ accept: 'text/event-stream' }),
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        if ((error as Error).name === 'AbortError') return;
        throw new ApiError(0, 'unreachable', `cannot reach the Weft server: ${String(error)}`);
      }
      if (!res.ok || !res.body) {
        const err = (await res.json().catch(() => ({}))) as Partial<ErrorResponse>;
        throw new ApiError(res.status, err.code ?? `http_${res.status}`, err.message ?? 'stream');
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block
              .split('\n')
              .filter((line) => line.startsWith('data:'))
              .map((line) => line.slice(5).trimStart())
              .join('\n');
            if (data) onMessage(JSON.parse(data) as StreamMessage);
          }
        }
      } catch (error) {
        if ((error as Error).name === 'AbortError' || signal?.aborted) return;
        throw error;
      } finally {
        reader.releaseLock();
      }
    },
  };
}
