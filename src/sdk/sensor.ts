/**
 * Sensors: a function evaluated at an interval that looks at the outside world (a bucket, a
 * table, an API) and asks for runs of its target:
 *
 * ```ts
 * export const newFiles = sensor(ingest, {
 *   every: '30s',
 *   async evaluate({ cursor, signal }) {
 *     const files = await listFilesAfter(cursor, { signal });
 *     return {
 *       runs: files.map((f) => ({ key: f.name, params: { path: f.path } })),
 *       cursor: files.at(-1)?.name ?? cursor,
 *     };
 *   },
 * });
 * ```
 *
 * Workers that load the file register it; one of them (elected), or `weft dev`, evaluates it
 * (see `engine/sensors.ts`). The cursor an evaluation returns is kept in the store and given
 * to the next, also in another process after a restart. Each request's run has the
 * idempotency key `sensor:<name>:<key>`: a request made again starts no second run.
 */
import { parseDuration, type Duration } from '../core/duration.js';
import { ConfigError } from '../core/errors.js';
import { brand, hasBrand } from './brand.js';
import type { Logger } from './context.js';
import type { AnyPipeline, ParamsOf } from './pipeline.js';
import type { AnyWorkflow, Workflow } from './workflow.js';

const SENSOR = Symbol.for('weft.sensor');

/** Default time between two evaluations. */
export const DEFAULT_SENSOR_INTERVAL_MS = 30_000;
/** The shortest interval a sensor may have. */
export const MIN_SENSOR_INTERVAL_MS = 1000;
/** The longest an evaluation may take by default (when the interval is longer). */
export const MAX_DEFAULT_SENSOR_TIMEOUT_MS = 60_000;
/** The longest request key (the run's idempotency key is `sensor:<name>:<key>`). */
export const MAX_SENSOR_KEY_LENGTH = 200;
/** The longest cursor kept in the store. */
export const MAX_SENSOR_CURSOR_LENGTH = 65_536;

type InputOfTarget<T> =
  T extends Workflow<infer I, unknown> ? I : T extends AnyPipeline ? ParamsOf<T> : never;

/** What `evaluate` receives. */
export interface SensorContext {
  /** What the last successful evaluation returned as its cursor; null before the first. */
  readonly cursor: string | null;
  /** The time of this evaluation (ms since the epoch). */
  readonly now: number;
  /** Aborts at the sensor's timeout, or when this process stops evaluating sensors. */
  readonly signal: AbortSignal;
  /** Lines go to the output of the process that evaluates the sensor. */
  readonly log: Logger;
}

/** One run a sensor asks for. */
export interface SensorRunRequest<P = unknown> {
  /**
   * Identifies the request (1 to 200 characters): the run's idempotency key is
   * `sensor:<name>:<key>`, so a request made again starts no second run.
   */
  key: string;
  /** The run's params (a workflow's input), checked against the target's schema. */
  params?: P;
  tags?: string[];
}

/** What `evaluate` returns. */
export interface SensorResult<P = unknown> {
  /** The runs to start; `[]` for none. */
  runs: readonly SensorRunRequest<P>[];
  /** The cursor given to the next evaluation; left out, the cursor stays as it is. */
  cursor?: string | null;
}

export interface SensorOptions<P> {
  /** Names the sensor (unique, 1 to 200 characters). Default `<target> sensor`. */
  name?: string;
  /** Time between two evaluations (at least 1 s). Default 30 s. */
  every?: Duration;
  /**
   * How long an evaluation may take before it is aborted and counted as failed. Default the
   * interval, at most 60 s.
   */
  timeout?: Duration;
  evaluate(context: SensorContext): SensorResult<P> | Promise<SensorResult<P>>;
}

export interface Sensor {
  readonly kind: 'sensor';
  readonly name: string;
  /** The pipeline or workflow its requests start. */
  readonly target: AnyPipeline | AnyWorkflow;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly evaluate: (context: SensorContext) => unknown;
}

export function isSensor(value: unknown): value is Sensor {
  return hasBrand(value, SENSOR);
}

/** Declares a sensor of `target`; export it from the file workers load. */
export function sensor<T extends AnyPipeline | AnyWorkflow>(
  target: T,
  options: SensorOptions<InputOfTarget<T>>,
): Sensor {
  const of = target as AnyPipeline | AnyWorkflow | undefined;
  if (!of || (of.kind !== 'pipeline' && of.kind !== 'workflow')) {
    throw new ConfigError(
      'invalid_sensor',
      'sensor(target, options): target must be a pipeline or a workflow',
    );
  }
  const name = options.name ?? `${of.name} sensor`;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
    throw new ConfigError(
      'invalid_sensor',
      `sensor of ${of.name}: give it a name of 1 to 200 characters (name: '…')`,
    );
  }
  const label = `sensor ${JSON.stringify(name)}`;
  if (typeof options.evaluate !== 'function') {
    throw new ConfigError(
      'invalid_sensor',
      `${label}: give the function that looks for new work (evaluate({ cursor }) { return { runs: [...], cursor } })`,
    );
  }
  const intervalMs = parseDuration(options.every ?? DEFAULT_SENSOR_INTERVAL_MS, `${label}: every`);
  if (intervalMs < MIN_SENSOR_INTERVAL_MS) {
    throw new ConfigError(
      'invalid_sensor',
      `${label}: every must be at least 1s, got ${intervalMs}ms`,
    );
  }
  const timeoutMs =
    options.timeout === undefined
      ? Math.min(intervalMs, MAX_DEFAULT_SENSOR_TIMEOUT_MS)
      : parseDuration(options.timeout, `${label}: timeout`);
  if (timeoutMs <= 0) {
    throw new ConfigError('invalid_sensor', `${label}: timeout must be more than 0`);
  }
  const evaluate = options.evaluate.bind(options) as (context: SensorContext) => unknown;
  return brand(
    { kind: 'sensor' as const, name, target: of, intervalMs, timeoutMs, evaluate },
    SENSOR,
  );
}

/**
 * The sensors among `values` (a module's exports), in order; two with one name are an error (a
 * name identifies a sensor in the store).
 */
export function sensorsOf(values: Iterable<unknown>): Sensor[] {
  const byName = new Map<string, Sensor>();
  for (const value of values) {
    if (!isSensor(value)) continue;
    const existing = byName.get(value.name);
    if (existing && existing !== value) {
      throw new ConfigError(
        'duplicate_sensor',
        `two sensors are named "${value.name}"; give each a unique name (sensor(target, { name: '…' }))`,
      );
    }
    byName.set(value.name, value);
  }
  return [...byName.values()];
}

/** An evaluation's result, checked: the requests to submit and the cursor (undefined: keep). */
export interface CheckedSensorResult {
  runs: { key: string; params: unknown; tags: string[] }[];
  cursor: string | null | undefined;
}

const SHAPE = `return { runs: [{ key: 'a-unique-key', params: { … } }], cursor: '…' } (runs: [] for none)`;

/**
 * Checks what a sensor's `evaluate` returned; a ConfigError naming the sensor and what to
 * return when it is not a result.
 */
export function checkSensorResult(name: string, value: unknown): CheckedSensorResult {
  const label = `sensor ${JSON.stringify(name)}`;
  const refuse = (what: string): never => {
    throw new ConfigError('invalid_sensor_result', `${label} returned ${what}; ${SHAPE}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    refuse(describe(value));
  }
  const result = value as { runs?: unknown; cursor?: unknown };
  if (!Array.isArray(result.runs)) {
    refuse(result.runs === undefined ? 'no runs' : `runs that are ${describe(result.runs)}`);
  }
  const cursor =
    result.cursor === undefined || result.cursor === null || typeof result.cursor === 'string'
      ? result.cursor
      : refuse(
          `a cursor that is ${describe(result.cursor)} (a cursor is a string: JSON.stringify it)`,
        );
  if (typeof cursor === 'string' && cursor.length > MAX_SENSOR_CURSOR_LENGTH) {
    refuse(`a cursor of ${cursor.length} characters (at most ${MAX_SENSOR_CURSOR_LENGTH})`);
  }
  const runs = (result.runs as unknown[]).map((request, i) => {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      return refuse(`runs[${i}] that is ${describe(request)}`);
    }
    const { key, params, tags } = request as { key?: unknown; params?: unknown; tags?: unknown };
    if (typeof key !== 'string' || key === '' || key.length > MAX_SENSOR_KEY_LENGTH) {
      return refuse(
        `runs[${i}] with ${key === undefined ? 'no key' : `the key ${describe(key)}`} (a key is a string of 1 to ${MAX_SENSOR_KEY_LENGTH} characters that identifies the request)`,
      );
    }
    if (tags !== undefined && !(Array.isArray(tags) && tags.every((t) => typeof t === 'string'))) {
      return refuse(`runs[${i}] (key ${JSON.stringify(key)}) with tags that are not strings`);
    }
    return { key, params, tags: tags === undefined ? [] : [...tags] };
  });
  return { runs, cursor };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  }
  if (typeof value === 'undefined') return 'nothing';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${value}`;
  }
  return `a ${typeof value}`;
}
