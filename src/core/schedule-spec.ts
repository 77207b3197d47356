/**
 * What a schedule is, as JSON: when it fires (a cron expression in a time zone, or a fixed
 * interval), between which dates, with which params, and what it does after a downtime or
 * while its previous run still runs. Declared in code with `schedule(target, …)` or sent to
 * the API; the store keeps it as is (see `ScheduleRecord` in the store contract).
 */

import { parseDuration, type Duration } from './duration.js';
import { ConfigError } from './errors.js';
import { checkScheduleSpec } from './schedule-time.js';

/** What to do with ticks missed while no scheduler ran (a downtime). */
export type CatchUp = 'none' | 'latest' | 'all';

/** What a tick does while the schedule's previous run has not finished. */
export type Overlap = 'allow' | 'skip' | 'queue' | 'cancel-previous';

export const CATCH_UP_POLICIES: readonly CatchUp[] = ['none', 'latest', 'all'];
export const OVERLAP_POLICIES: readonly Overlap[] = ['allow', 'skip', 'queue', 'cancel-previous'];

export interface ScheduleSpec {
  /** A cron expression (5 fields, or 6 with seconds first); or null with `everyMs`. */
  cron: string | null;
  /** A fixed interval in ms, counted from `start` (or the Unix epoch); or null with `cron`. */
  everyMs: number | null;
  /** IANA time zone the cron expression is read in (`Europe/Berlin`). Default `UTC`. */
  timezone: string;
  /** The runs' params (a pipeline's) or input (a workflow's), as plain JSON. */
  params: unknown;
  /** No tick before this time (ms), or null. */
  start: number | null;
  /** No tick at or after this time (ms), or null. */
  end: number | null;
  /** Each tick's run starts up to this long after the tick (a fixed delay per tick), or 0. */
  jitterMs: number;
  catchUp: CatchUp;
  /** With `catchUp: 'all'`: the most ticks fired at once after a downtime (the latest ones). */
  maxCatchUp: number;
  overlap: Overlap;
}

/** A time as a `Date`, an ISO string (`2026-01-01T00:00:00Z`) or epoch milliseconds. */
export type TimeLike = Date | string | number;

/** How a schedule is written: in code (`schedule(target, …)`) or sent to the API. */
export interface ScheduleSpecOptions {
  /** A cron expression: 5 fields, or 6 with seconds first (`*\/15 * * * * *`). */
  cron?: string;
  /** Or a fixed interval (`'15m'`, `'1h'`, ms), counted from `start` (or the epoch). */
  every?: Duration;
  /** The IANA time zone the cron expression is read in. Default `UTC`. */
  timezone?: string;
  /** Params of each run (a workflow's input): plain JSON. */
  params?: unknown;
  /** No tick before this time. */
  start?: TimeLike;
  /** No tick at or after this time. */
  end?: TimeLike;
  /** Start each tick's run up to this long after the tick (fixed per tick), spreading load. */
  jitter?: Duration;
  /**
   * Ticks missed while no scheduler ran: `none` skips them, `latest` (default) fires the
   * latest one, `all` fires them all (at most `maxCatchUp`, the latest ones).
   */
  catchUp?: CatchUp;
  /** With `catchUp: 'all'`. Default 100. */
  maxCatchUp?: number;
  /**
   * A tick while the schedule's previous run is unfinished: `allow` (default) starts another,
   * `skip` starts none, `queue` creates it held until the previous runs finish (one at a
   * time, in tick order), `cancel-previous` cancels the previous run and starts the new one.
   */
  overlap?: Overlap;
}

/** Milliseconds of a time option, or a ConfigError naming it. */
function timeOf(name: string, option: string, value: TimeLike | undefined): number | null {
  if (value === undefined) return null;
  const ms =
    value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new ConfigError(
      'invalid_schedule',
      `schedule ${JSON.stringify(name)}: ${option} ${JSON.stringify(value)} is not a time; give a Date, an ISO string such as 2026-01-01T00:00:00Z, or epoch milliseconds`,
    );
  }
  return ms;
}

function oneOf<T extends string>(
  name: string,
  option: string,
  value: T | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) {
    throw new ConfigError(
      'invalid_schedule',
      `schedule ${JSON.stringify(name)}: ${option} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * The spec of a schedule from its options, checked (a bad cron expression, time zone or date
 * throws a ConfigError naming it). Shared by `schedule()` and the API's schedule creation.
 */
export function scheduleSpec(name: string, options: ScheduleSpecOptions): ScheduleSpec {
  const spec: ScheduleSpec = {
    cron: options.cron ?? null,
    everyMs: options.every === undefined ? null : parseDuration(options.every, `${name}: every`),
    timezone: options.timezone ?? 'UTC',
    params: options.params === undefined ? {} : jsonOnly(name, options.params),
    start: timeOf(name, 'start', options.start),
    end: timeOf(name, 'end', options.end),
    jitterMs: options.jitter === undefined ? 0 : parseDuration(options.jitter, `${name}: jitter`),
    catchUp: oneOf(name, 'catchUp', options.catchUp, CATCH_UP_POLICIES, 'latest'),
    maxCatchUp: options.maxCatchUp ?? 100,
    overlap: oneOf(name, 'overlap', options.overlap, OVERLAP_POLICIES, 'allow'),
  };
  checkScheduleSpec(spec, `schedule ${JSON.stringify(name)}`);
  return spec;
}

/** Params go to the store as JSON: a value JSON would change is refused now, not at a tick. */
function jsonOnly(name: string, params: unknown): unknown {
  if (!isPlainJson(params)) {
    throw new ConfigError(
      'invalid_schedule',
      `schedule ${JSON.stringify(name)}: params must be plain JSON (strings, finite numbers, booleans, null, arrays, plain objects); a Date goes as an ISO string`,
    );
  }
  return JSON.parse(JSON.stringify(params)) as unknown;
}

function isPlainJson(value: unknown, depth = 0): boolean {
  if (depth > 100) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isPlainJson(v, depth + 1));
  if (typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(value).every((v) => isPlainJson(v, depth + 1));
}
