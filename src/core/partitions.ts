/**
 * Partitions of a pipeline, as JSON: the slices of data a run can target (one day of orders,
 * one region), each named by a key that is one of the pipeline's params. Time partitions follow
 * a calendar (hourly, daily, weekly, monthly) in a time zone from a start date; a static set is
 * a fixed list of keys. Declared in code (`pipeline(…, { partitions })`) and registered with the
 * pipeline's graph, so a server without the code lists the keys and checks a run's key.
 *
 * ```ts
 * const spec = timePartitions({ granularity: 'daily', param: 'day', start: '2026-01-01', timezone: 'Europe/Berlin' });
 * partitionKeys(spec, now, { limit: 7 }); // the last seven complete days
 * checkPartitionKey(spec, params.day, now); // InputError naming the param and the valid range
 * partitionWindow(spec, '2026-03-29'); // { start, end }: 23 hours, the clocks jump that night
 * ```
 *
 * Keys are wall-clock times in the spec's time zone, so they sort as text in time order:
 * - hourly `YYYY-MM-DDTHH:00` (`2026-01-01T13:00`). Partitions are real hours, each starting
 *   where the local clock reads a whole hour, as an hourly cron (`0 * * * *`) ticks: an hour the
 *   clocks skip has no partition (no `2026-03-29T02:00` in Europe/Berlin), and an hour they
 *   repeat has two. The first occurrence keeps the plain key; the repeat adds its UTC offset
 *   (`2026-10-25T02:00` then `2026-10-25T02:00+01:00` in Europe/Berlin, `2026-11-01T01:00`
 *   then `2026-11-01T01:00-05:00` in America/New_York), which sorts between the two plain keys
 *   around it. A URL must encode the `+` (`encodeURIComponent`), as any key.
 * - daily `YYYY-MM-DD`: from midnight to midnight, 23 or 25 hours on a DST day.
 * - weekly `YYYY-MM-DD`, the Monday an ISO week starts on.
 * - monthly `YYYY-MM`.
 *
 * A day, week or month starts at local midnight; where clocks skip midnight (some zones switch
 * at 00:00), at the moment they jump, and where they repeat it, at its first occurrence: the
 * same instants a daily cron (`0 0 * * *`) fires at. A day the calendar skips altogether
 * (Pacific/Apia, 2011-12-30) has no partition.
 *
 * Which partitions exist at a time `now`: those whose window has ended by `now`, plus `endOffset`
 * more (1 adds the current, unfinished one; -1 leaves out the latest complete one), never one
 * starting at or after `end`. Static keys always all exist.
 *
 * Pure and fast: times are milliseconds passed in, and the time-zone arithmetic reads each
 * zone's offsets once per year (see `wall-clock.ts`), so ten years of hourly keys take a few
 * hundred milliseconds at most.
 */
import { ConfigError, InputError } from './errors.js';
import type { TimeLike } from './schedule-spec.js';
import { calendarOf, wallOf } from './partition-calendar.js';
import { isTimeZone, ZoneClock } from './wall-clock.js';

/** The calendar of time partitions. */
export type Granularity = 'hourly' | 'daily' | 'weekly' | 'monthly';

export const GRANULARITIES: readonly Granularity[] = ['hourly', 'daily', 'weekly', 'monthly'];

export type PartitionsSpec =
  | {
      kind: 'time';
      granularity: Granularity;
      /** The param whose value is the partition key. */
      param: string;
      /** Start of the first partition (ms). */
      start: number;
      /** No partition starts at or after this time (ms), or null. */
      end: number | null;
      /** IANA time zone the calendar is read in. Default `UTC`. */
      timezone: string;
      /**
       * Partitions whose window has not ended yet that count as existing: 0 (default) lists only
       * complete ones, 1 adds the current one.
       */
      endOffset: number;
    }
  | {
      kind: 'static';
      param: string;
      /** The keys, in the order the grid shows them. */
      keys: string[];
    };

/** Time partitions: a calendar in a time zone. */
export type TimePartitionsSpec = Extract<PartitionsSpec, { kind: 'time' }>;
/** A static set of keys. */
export type StaticPartitionsSpec = Extract<PartitionsSpec, { kind: 'static' }>;
type TimeSpec = TimePartitionsSpec;

/** A run's partition, as its task context shows it: the key and, for time partitions, its window. */
export interface Partition {
  key: string;
  /** Start of the partition's window (ms), or null for a static key. */
  start: number | null;
  /** End of the window (ms, exclusive), or null for a static key. */
  end: number | null;
}

// ---------------------------------------------------------------------------------------------
// Limits

/** The most keys one call returns without a `limit`: a century of hourly partitions. */
export const MAX_PARTITION_KEYS = 1_000_000;

/** The most keys a static set holds; past that, a plain param serves better. */
export const MAX_STATIC_KEYS = 10_000;

/** The longest static key. */
export const MAX_KEY_LENGTH = 128;

/** How far `endOffset` reaches, in partitions, either way. */
export const MAX_END_OFFSET = 10_000;

/** Keys of time partitions have four-digit years: starts and ends lie in this span. */
const MIN_TIME = Date.UTC(1900, 0, 1);
const MAX_TIME = Date.UTC(9999, 0, 1);

/**
 * What a static key may hold: the unreserved characters of URLs (RFC 3986) and `:`, so a key
 * goes into a path, a query string or a file name as it is.
 */
const STATIC_KEY = /^[A-Za-z0-9._~:-]+$/;

const calendarOfSpec = (spec: TimeSpec) => calendarOf(spec.granularity, spec.timezone);

/** How a key of the granularity is written, for messages and forms. */
export function partitionKeyFormat(granularity: Granularity): string {
  switch (granularity) {
    case 'hourly':
      return 'YYYY-MM-DDTHH:00';
    case 'daily':
      return 'YYYY-MM-DD';
    case 'weekly':
      return 'YYYY-MM-DD (a Monday)';
    case 'monthly':
      return 'YYYY-MM';
  }
}

// ---------------------------------------------------------------------------------------------
// Building and checking specs

/** A value as the user wrote it: `NaN` stays `NaN`, strings keep their quotes. */
function show(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value instanceof Date) return `Date(${String(value.getTime())})`;
  return JSON.stringify(value) ?? String(value);
}

function iso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

function fail(label: string, message: string): never {
  throw new ConfigError('invalid_partitions', `${label}: ${message}`);
}

export interface TimePartitionsOptions {
  granularity: Granularity;
  /** The pipeline param whose value is the partition key (a string param). */
  param: string;
  /**
   * The first partition: the one containing this time. A date or time without an offset
   * (`'2026-01-01'`, `'2026-01-01T06:00'`) is read on the wall clock of `timezone`; a `Date`,
   * an ISO time with an offset (`'2026-01-01T00:00:00Z'`) or epoch ms is an instant.
   */
  start: TimeLike;
  /** No partition starts at or after this time (read like `start`). */
  end?: TimeLike | null;
  /** IANA time zone of the calendar (`'Europe/Berlin'`). Default `'UTC'`. */
  timezone?: string;
  /**
   * Partitions past the latest complete one that exist too: 1 adds the current, unfinished
   * one (a run may compute today so far), -1 leaves out the latest complete one. Default 0.
   */
  endOffset?: number;
}

export interface StaticPartitionsOptions {
  /** The pipeline param whose value is the partition key (a string param). */
  param: string;
}

function checkParam(label: string, param: unknown): string {
  if (typeof param !== 'string' || param === '') {
    fail(
      label,
      `param ${show(param)} is invalid; name the pipeline param that holds the key (param: 'day')`,
    );
  }
  return param;
}

/** The timezone's canonical name (`europe/berlin` → `Europe/Berlin`). */
function checkTimeZone(label: string, timezone: unknown): string {
  if (!isTimeZone(timezone)) {
    fail(
      label,
      `timezone ${show(timezone)} is not a known IANA time zone; use a name such as "UTC", "Europe/Berlin" or "America/New_York"`,
    );
  }
  return new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone;
}

const LOCAL_TIME =
  /^(\d{4})-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?)?$/;
const ZONED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/** The instant of a time option, read on `timezone`'s wall clock when it has no offset. */
function instantOption(label: string, option: string, value: unknown, timezone: string): number {
  let ms = NaN;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'number') ms = Math.floor(value);
  else if (typeof value === 'string') {
    const local = LOCAL_TIME.exec(value);
    if (local) {
      const [, y, mo, d, h, mi, s, frac] = local;
      const wall = wallOf(+y!, +mo!, +(d ?? 1), +(h ?? 0), +(mi ?? 0), +(s ?? 0));
      if (wall !== null) {
        ms = ZoneClock.of(timezone).instantOf(wall + Number((frac ?? '').padEnd(3, '0')));
      }
    } else if (ZONED_TIME.test(value)) {
      ms = Date.parse(value);
    }
  }
  if (!Number.isFinite(ms)) {
    fail(
      label,
      `${option} ${show(value)} is not a time; give a date such as "2026-01-01" (read in the time zone), an ISO time with an offset such as "2026-01-01T00:00:00Z", a Date, or epoch milliseconds`,
    );
  }
  if (ms < MIN_TIME || ms >= MAX_TIME) {
    fail(label, `${option} ${show(value)} is out of range; use a time from 1900 to 9998`);
  }
  return ms;
}

function checkEndOffset(label: string, endOffset: unknown): number {
  if (
    typeof endOffset !== 'number' ||
    !Number.isInteger(endOffset) ||
    Math.abs(endOffset) > MAX_END_OFFSET
  ) {
    fail(
      label,
      `endOffset ${show(endOffset)} is invalid; use a whole number of partitions (0 lists complete ones only, 1 adds the current one)`,
    );
  }
  return endOffset;
}

/**
 * Time partitions from their options, checked: a bad granularity, time zone, start or end throws
 * a {@link ConfigError} naming the option. A start inside a partition is moved back to where
 * that partition starts (`start: '2026-01-01T06:00'` with `daily` starts at midnight).
 */
export function timePartitions(options: TimePartitionsOptions): TimePartitionsSpec {
  if (typeof options !== 'object' || options === null) {
    fail('partitions', 'options must be an object, e.g. { param: "day", start: "2026-01-01" }');
  }
  const granularity = options.granularity;
  if (!GRANULARITIES.includes(granularity)) {
    fail(
      'partitions',
      `granularity ${show(granularity)} is unknown; use one of ${GRANULARITIES.join(', ')}`,
    );
  }
  const label = `${granularity} partitions`;
  const param = checkParam(label, options.param);
  const timezone = checkTimeZone(label, options.timezone ?? 'UTC');
  if (options.start === undefined || options.start === null) {
    fail(label, `start is missing; give the first partition's date (start: '2026-01-01')`);
  }
  const at = instantOption(label, 'start', options.start, timezone);
  const start = calendarOf(granularity, timezone).floor(at);
  const end =
    options.end === undefined || options.end === null
      ? null
      : instantOption(label, 'end', options.end, timezone);
  const spec: TimePartitionsSpec = {
    kind: 'time',
    granularity,
    param,
    start,
    end,
    timezone,
    endOffset: checkEndOffset(label, options.endOffset ?? 0),
  };
  checkPartitionsSpec(spec, label);
  return spec;
}

/**
 * A static set of keys, checked: at least one, no duplicates, each 1 to
 * {@link MAX_KEY_LENGTH} characters of letters, digits and `-_.~:`.
 */
export function staticPartitions(
  keys: readonly string[],
  options: StaticPartitionsOptions,
): StaticPartitionsSpec {
  if (typeof options !== 'object' || options === null) {
    fail(
      'static partitions',
      `options must be an object naming the param, e.g. { param: 'region' }`,
    );
  }
  const spec: StaticPartitionsSpec = {
    kind: 'static',
    param: checkParam('static partitions', options.param),
    keys: Array.isArray(keys) ? [...(keys as string[])] : (keys as never),
  };
  checkPartitionsSpec(spec, 'static partitions');
  return spec;
}

/**
 * Throws a {@link ConfigError} (`invalid_partitions`) naming the first problem of a spec, as
 * built by hand or read back as JSON; `label` starts the message.
 */
export function checkPartitionsSpec(
  spec: unknown,
  label = 'partitions',
): asserts spec is PartitionsSpec {
  if (typeof spec !== 'object' || spec === null) {
    fail(
      label,
      'expected a partitions spec; build one with partitions.daily(…) or partitions.static(…)',
    );
  }
  const s = spec as Record<string, unknown>;
  checkParam(label, s.param);
  if (s.kind === 'static') {
    const keys = s.keys;
    if (!Array.isArray(keys) || keys.length === 0) {
      fail(label, `keys must be a non-empty list of strings, e.g. ['eu', 'us']`);
    }
    if (keys.length > MAX_STATIC_KEYS) {
      fail(
        label,
        `${keys.length} keys are too many (at most ${MAX_STATIC_KEYS}); use a plain param instead`,
      );
    }
    const seen = new Set<string>();
    for (const key of keys as unknown[]) {
      if (
        typeof key !== 'string' ||
        key.length > MAX_KEY_LENGTH ||
        !STATIC_KEY.test(key) ||
        key === '.' ||
        key === '..'
      ) {
        fail(
          label,
          `key ${show(key)} is invalid; use 1 to ${MAX_KEY_LENGTH} letters, digits and - _ . ~ : (a key goes into URLs and file names as it is)`,
        );
      }
      if (seen.has(key)) fail(label, `key ${show(key)} is listed twice; list each key once`);
      seen.add(key);
    }
    return;
  }
  if (s.kind !== 'time') {
    fail(label, `kind ${show(s.kind)} is unknown; a spec is of kind 'time' or 'static'`);
  }
  if (!GRANULARITIES.includes(s.granularity as Granularity)) {
    fail(
      label,
      `granularity ${show(s.granularity)} is unknown; use one of ${GRANULARITIES.join(', ')}`,
    );
  }
  if (!isTimeZone(s.timezone)) checkTimeZone(label, s.timezone);
  for (const field of ['start', 'end'] as const) {
    const value = s[field];
    if (field === 'end' && value === null) continue;
    if (
      typeof value !== 'number' ||
      !Number.isSafeInteger(value) ||
      value < MIN_TIME ||
      value >= MAX_TIME
    ) {
      fail(
        label,
        `${field} ${show(value)} is not a time; use whole milliseconds since the epoch, from 1900 to 9998`,
      );
    }
  }
  checkEndOffset(label, s.endOffset);
  const time = s as TimeSpec;
  const calendar = calendarOfSpec(time);
  if (calendar.floor(time.start) !== time.start) {
    fail(
      label,
      `start (${iso(time.start)}) is not where a ${time.granularity} partition starts in ${time.timezone}; build the spec with timePartitions(), which moves it back to ${iso(calendar.floor(time.start))}`,
    );
  }
  if (time.end !== null && time.end <= time.start) {
    fail(
      label,
      `end (${iso(time.end)}) is not after the first partition's start (${iso(time.start)}); move end later or leave it out`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Keys

/** Start of the latest partition that exists at `now`, or null when none does yet. */
function lastStart(spec: TimeSpec, now: number): number | null {
  if (typeof now !== 'number' || Number.isNaN(now)) {
    throw new ConfigError('invalid_option', `now ${show(now)} is not a time; pass epoch ms`);
  }
  const calendar = calendarOfSpec(spec);
  // The partition under way at `now`: its predecessor is the latest complete one.
  let last = calendar.floor(Math.min(Math.max(now, MIN_TIME), MAX_TIME));
  const ahead = spec.endOffset - 1;
  for (let i = 0; i < ahead; i++) last = calendar.next(last);
  for (let i = 0; i > ahead && last >= spec.start; i--) last = calendar.floor(last - 1);
  if (spec.end !== null && last >= spec.end) last = calendar.floor(spec.end - 1);
  return last >= spec.start ? last : null;
}

/** The keys of the partitions starting from `from` to `to`, oldest first; the latest `limit`. */
function walk(spec: TimeSpec, from: number, to: number, limit: number | undefined): string[] {
  const calendar = calendarOfSpec(spec);
  const keys: string[] = [];
  if (limit !== undefined) {
    for (let s = to; s >= from && keys.length < limit; s = calendar.floor(s - 1)) {
      keys.push(calendar.keyOf(s));
    }
    return keys.reverse();
  }
  for (let s = from; s <= to; s = calendar.next(s)) {
    if (keys.length >= MAX_PARTITION_KEYS) {
      throw new ConfigError(
        'too_many_partitions',
        `more than ${MAX_PARTITION_KEYS} ${spec.granularity} partitions from ${calendar.keyOf(from)} to ${calendar.keyOf(to)}; pass a limit or a narrower range`,
      );
    }
    keys.push(calendar.keyOf(s));
  }
  return keys;
}

function checkLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new ConfigError('invalid_option', `limit ${show(limit)} must be a whole number >= 0`);
  }
  return limit;
}

/**
 * Every key that exists at `now`, oldest first (static keys in their order). With `limit`, the
 * latest `limit` of them. Without one, more than {@link MAX_PARTITION_KEYS} throw.
 */
export function partitionKeys(
  spec: PartitionsSpec,
  now: number,
  options: { limit?: number } = {},
): string[] {
  const limit = checkLimit(options.limit);
  if (spec.kind === 'static') {
    return limit === undefined ? [...spec.keys] : spec.keys.slice(spec.keys.length - limit);
  }
  const last = lastStart(spec, now);
  return last === null ? [] : walk(spec, spec.start, last, limit);
}

/** What a key must look like and which keys exist (at `now`, or ever when null), for messages. */
function expected(spec: PartitionsSpec, now: number | null): string {
  if (spec.kind === 'static') {
    const shown = spec.keys.slice(0, 10).join(', ');
    return `use one of the partition keys: ${shown}${spec.keys.length > 10 ? `, … (${spec.keys.length} keys)` : ''}`;
  }
  const calendar = calendarOfSpec(spec);
  const what: Record<Granularity, string> = {
    hourly: `an hour as YYYY-MM-DDTHH:00 on the clock of ${spec.timezone} (the second of a repeated hour adds its UTC offset: YYYY-MM-DDTHH:00±HH:MM)`,
    daily: `a day as YYYY-MM-DD in ${spec.timezone}`,
    weekly: `a week as YYYY-MM-DD, the Monday it starts on, in ${spec.timezone}`,
    monthly: `a month as YYYY-MM in ${spec.timezone}`,
  };
  const first = calendar.keyOf(spec.start);
  if (now === null) {
    const to = spec.end === null ? '' : ` to ${calendar.keyOf(calendar.floor(spec.end - 1))}`;
    return `expected ${what[spec.granularity]}, from ${first}${to}`;
  }
  const last = lastStart(spec, now);
  const range =
    last === null
      ? `no partition exists yet: the first, ${first}, ends at ${iso(calendar.next(spec.start))}`
      : `from ${first} to ${calendar.keyOf(last)}`;
  return `expected ${what[spec.granularity]}, ${range}`;
}

function keyError(spec: PartitionsSpec, message: string): InputError {
  return new InputError('invalid partition key', [{ path: [spec.param], message }]);
}

/** The start of a time key's partition, or an InputError for a key the spec never has. */
function startOf(spec: TimeSpec, key: unknown, now: number | null): number {
  if (typeof key !== 'string') {
    throw keyError(
      spec,
      `the partition key must be a string, got ${show(key)}; ${expected(spec, now)}`,
    );
  }
  const calendar = calendarOfSpec(spec);
  const start = calendar.parse(key);
  if (typeof start !== 'number') throw keyError(spec, `${start.error}; ${expected(spec, now)}`);
  if (start < spec.start) {
    throw keyError(spec, `${show(key)} is before the first partition; ${expected(spec, now)}`);
  }
  if (spec.end !== null && start >= spec.end) {
    throw keyError(spec, `${show(key)} is after the last partition; ${expected(spec, now)}`);
  }
  return start;
}

/**
 * Throws an {@link InputError} (its issue's path is the partition param) unless `key` is a
 * partition that exists at `now`; the message names the key, the format and the valid range.
 * With `now` null, any key of the spec passes, whether it exists yet or not.
 */
export function checkPartitionKey(spec: PartitionsSpec, key: unknown, now: number | null): void {
  if (spec.kind === 'static') {
    if (typeof key !== 'string' || !spec.keys.includes(key)) {
      throw keyError(spec, `${show(key)} is not a partition; ${expected(spec, now)}`);
    }
    return;
  }
  const start = startOf(spec, key, now);
  if (now === null) return;
  const last = lastStart(spec, now);
  if (last === null || start > last) {
    const end = calendarOfSpec(spec).next(start);
    throw keyError(
      spec,
      `${show(key)} does not exist yet (it ends at ${iso(end)}${spec.endOffset > 0 ? `, and ${spec.endOffset} more may be under way` : ''}); ${expected(spec, now)}`,
    );
  }
}

/**
 * The keys from `from` to `to`, both included and both existing at `now`; a missing `from` is
 * the first key, a missing `to` the latest. Throws an {@link InputError} for a key that does
 * not exist or a `from` after `to`, and past {@link MAX_PARTITION_KEYS} keys.
 */
export function partitionRange(
  spec: PartitionsSpec,
  from: string | null | undefined,
  to: string | null | undefined,
  now: number,
): string[] {
  const given = (key: string | null | undefined): key is string =>
    key !== undefined && key !== null;
  if (given(from)) checkPartitionKey(spec, from, now);
  if (given(to)) checkPartitionKey(spec, to, now);
  const reversed = () =>
    keyError(spec, `from ${show(from)} is after to ${show(to)}; give the earlier key first`);
  if (spec.kind === 'static') {
    const a = given(from) ? spec.keys.indexOf(from) : 0;
    const b = given(to) ? spec.keys.indexOf(to) : spec.keys.length - 1;
    if (a > b) throw reversed();
    return spec.keys.slice(a, b + 1);
  }
  const a = given(from) ? startOf(spec, from, now) : spec.start;
  const b = given(to) ? startOf(spec, to, now) : lastStart(spec, now);
  if (b === null) return [];
  if (a > b) throw reversed();
  return walk(spec, a, b, undefined);
}

/**
 * The window `[start, end)` of a time key (ms); null for a static spec. Throws an
 * {@link InputError} for a key the spec never has (whatever the time: this is no check that it
 * exists yet). The last partition's window runs to its calendar end, even past the spec's `end`.
 */
export function partitionWindow(
  spec: PartitionsSpec,
  key: string,
): { start: number; end: number } | null {
  if (spec.kind === 'static') return null;
  const start = startOf(spec, key, null);
  return { start, end: calendarOfSpec(spec).next(start) };
}

/** The first key of a spec (a time spec's first partition, a static set's first key). */
export function firstPartitionKey(spec: PartitionsSpec): string {
  return spec.kind === 'static' ? spec.keys[0]! : calendarOfSpec(spec).keyOf(spec.start);
}

/**
 * The key a run started at `at` targets by default: the latest partition existing at `at`, the
 * latest complete one unless the spec has an `endOffset` (a daily schedule firing at 00:05
 * computes yesterday). Null before the first partition, and for static keys.
 */
export function partitionAt(spec: PartitionsSpec, at: number): string | null {
  if (spec.kind === 'static') return null;
  const last = lastStart(spec, at);
  return last === null ? null : calendarOfSpec(spec).keyOf(last);
}

/**
 * A run's partition from its params (`params[spec.param]`), for its task context: null when the
 * spec is absent or the param holds no string; a time key the spec does not know (its code
 * changed since the run began) keeps its key with no window.
 */
export function partitionOf(
  spec: PartitionsSpec | null | undefined,
  params: Record<string, unknown> | null | undefined,
): Partition | null {
  if (!spec) return null;
  const key = params?.[spec.param];
  if (typeof key !== 'string') return null;
  if (spec.kind === 'static') return { key, start: null, end: null };
  try {
    const window = partitionWindow(spec, key);
    return { key, start: window?.start ?? null, end: window?.end ?? null };
  } catch {
    return { key, start: null, end: null };
  }
}

/**
 * One line for the CLI and the UI: `daily from 2026-01-01 (Europe/Berlin)`,
 * `hourly from 2026-01-01T00:00 to 2026-12-31T23:00 (UTC), endOffset 1`,
 * `3 static keys: eu, us, apac`.
 */
export function describePartitions(spec: PartitionsSpec): string {
  if (spec.kind === 'static') {
    const n = spec.keys.length;
    const shown = spec.keys.slice(0, 8).join(', ');
    return `${n} static key${n === 1 ? '' : 's'}: ${shown}${n > 8 ? ', …' : ''}`;
  }
  const calendar = calendarOfSpec(spec);
  let text = `${spec.granularity} from ${calendar.keyOf(spec.start)}`;
  if (spec.end !== null) text += ` to ${calendar.keyOf(calendar.floor(spec.end - 1))}`;
  text += ` (${spec.timezone})`;
  if (spec.endOffset !== 0) text += `, endOffset ${spec.endOffset}`;
  return text;
}
