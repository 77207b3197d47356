/**
 * The time arithmetic of schedules: which instants a schedule ticks at, which ticks are due
 * now, and what a scheduler fires after a downtime. Pure: times are milliseconds since the
 * epoch, passed in, so the scheduler reads its clock once and tests need none.
 *
 * ```ts
 * checkScheduleSpec(spec); // throws ConfigError naming the field and the fix
 * const { fire, skipped, cursor, wakeAt } = dueTicks(spec, record.cursor, clock.now(), {
 *   createdAt: record.createdAt,
 *   graceMs: 60_000,
 *   seed: record.name,
 * });
 * ```
 *
 * Ticks:
 * - `cron` is read by croner in `timezone`: 5 fields (minute hour day-of-month month
 *   day-of-week), or 6 with seconds first, or a nickname (`@daily`, `@hourly`…). Day of month
 *   and day of week combine with OR, as in Vixie cron.
 * - `everyMs` ticks at `start + k·everyMs` (k ≥ 0), or at `k·everyMs` from the epoch when
 *   `start` is null: a fixed grid, so a restart never shifts it.
 * - No tick before `start`, none at or after `end`.
 *
 * Daylight saving time (croner's rule, as in Vixie cron; checked by the tests):
 * - A fixed time of day (`30 2 * * *`, and lists or ranges of hours such as `0 2,14 * * *`) that
 *   does not exist on a spring-forward day fires once, at the moment the clock jumps (03:00
 *   local in Europe/Berlin on 2026-03-29, in America/New_York on 2026-03-08). One that exists
 *   twice on a fall-back day (02:30 in Berlin on 2026-10-25, 01:30 in New York on 2026-11-01)
 *   fires once, at its first occurrence. A daily schedule thus fires once every local day.
 * - A pattern with a wildcard or a step in its seconds, minutes or hours (`30 * * * *`,
 *   `*\/15 * * * *`) runs in elapsed time: it skips the local times the jump removes and fires
 *   on both occurrences of a repeated hour, so an hourly schedule fires every real hour.
 * - `everyMs` ignores time zones and DST altogether.
 *
 * Jitter: each tick's run starts {@link jitterOf} after the tick, a delay in `[0, jitterMs]`
 * drawn from a hash of the caller's seed (the schedule's name) and the tick's time. It is the
 * same on every scheduler and after every restart, so a tick's delay never moves, and two
 * schedules on the same cron spread out instead of starting together.
 *
 * Bounded work: a call never walks more than {@link MAX_INTERVAL_STEPS} ticks of an `everyMs`
 * schedule, whose counts are arithmetic anyway, nor more than {@link MAX_CRON_STEPS} croner
 * steps per phase (a step costs tens of microseconds with a time zone). See {@link dueTicks}.
 */
import { Cron } from 'croner';
import { ConfigError } from './errors.js';

/** What to do with ticks missed while no scheduler ran: the store contract's `CatchUp`. */
export type ScheduleCatchUp = 'none' | 'latest' | 'all';

/**
 * The timing part of a schedule's spec. The store contract's `ScheduleSpec` has these fields
 * (and what the runs get), so it is accepted as is.
 */
export interface ScheduleTiming {
  cron: string | null;
  everyMs: number | null;
  timezone: string;
  start: number | null;
  end: number | null;
  jitterMs: number;
  catchUp: ScheduleCatchUp;
  maxCatchUp: number;
}

/** The shortest `everyMs`: a scheduler polls in seconds, and faster belongs in a loop. */
export const MIN_EVERY_MS = 1000;

/** The most per-tick evaluations of an `everyMs` schedule in one {@link dueTicks} call. */
export const MAX_INTERVAL_STEPS = 100_000;

/**
 * The most croner steps per phase of one {@link dueTicks} call. Each step converts through the
 * time zone (about 40µs), so 10,000 keeps a call well under a second; a 1-second cron after a
 * day's downtime reaches it.
 */
export const MAX_CRON_STEPS = 10_000;

const CATCH_UPS: readonly ScheduleCatchUp[] = ['none', 'latest', 'all'];

const CRON_HELP =
  'use 5 fields (minute hour day-of-month month day-of-week, e.g. "30 2 * * *"), 6 with seconds first (e.g. "0 30 2 * * *"), or a nickname such as "@daily"';

// ---------------------------------------------------------------------------------------------
// Validation

function fail(label: string, message: string): never {
  throw new ConfigError('invalid_schedule', `${label}: ${message}`);
}

/** A value as the user wrote it: `NaN` stays `NaN`, strings keep their quotes. */
function show(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

function isTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Throws a {@link ConfigError} (`invalid_schedule`) naming the first problem of `spec` and how to
 * fix it; `label` starts the message (`schedule "nightly"`). A valid spec may still have no tick
 * at all between its `start` and `end`: that is allowed, it simply never fires.
 */
export function checkScheduleSpec(spec: ScheduleTiming, label = 'schedule'): void {
  const hasCron = spec.cron !== null && spec.cron !== undefined;
  const hasEvery = spec.everyMs !== null && spec.everyMs !== undefined;
  if (hasCron === hasEvery) {
    fail(
      label,
      hasCron
        ? 'both cron and everyMs are set; set one of them and the other to null'
        : 'neither cron nor everyMs is set; give a cron expression (e.g. "0 * * * *") or an interval in ms (everyMs >= 1000)',
    );
  }
  if (typeof spec.timezone !== 'string' || !isTimeZone(spec.timezone)) {
    fail(
      label,
      `timezone ${show(spec.timezone)} is not a known IANA time zone; use a name such as "UTC", "Europe/Berlin" or "America/New_York"`,
    );
  }
  if (hasCron) {
    cronOf(spec.cron as string, spec.timezone, label);
  } else if (!isInteger(spec.everyMs) || spec.everyMs < MIN_EVERY_MS) {
    fail(
      label,
      `everyMs ${show(spec.everyMs)} is too short or not whole; use a whole number of milliseconds >= ${MIN_EVERY_MS}, or a cron expression with seconds (e.g. "*/5 * * * * *")`,
    );
  }
  for (const field of ['start', 'end'] as const) {
    const value = spec[field];
    if (value !== null && !isInteger(value)) {
      fail(
        label,
        `${field} ${show(value)} is not a time; use whole milliseconds since the epoch (Date.getTime()) or null`,
      );
    }
  }
  if (spec.start !== null && spec.end !== null && spec.start >= spec.end) {
    fail(
      label,
      `start (${iso(spec.start)}) is not before end (${iso(spec.end)}); move end after start, or set either to null`,
    );
  }
  if (!isInteger(spec.jitterMs) || spec.jitterMs < 0) {
    fail(
      label,
      `jitterMs ${show(spec.jitterMs)} is invalid; use a whole number of milliseconds >= 0 (0 for none)`,
    );
  }
  if (!CATCH_UPS.includes(spec.catchUp)) {
    fail(label, `catchUp ${show(spec.catchUp)} is unknown; use 'none', 'latest' or 'all'`);
  }
  if (!isInteger(spec.maxCatchUp) || spec.maxCatchUp < 1) {
    fail(
      label,
      `maxCatchUp ${show(spec.maxCatchUp)} is invalid; use a whole number >= 1 (the most ticks fired at once after a downtime)`,
    );
  }
  if (hasCron && nextTick({ ...spec, start: null, end: null }, 0) === null) {
    fail(
      label,
      `cron ${JSON.stringify(spec.cron)} never matches a date (e.g. 30 February); check its day-of-month and month fields`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Cron

// Parsing a pattern costs more than a step: keep the few a process uses.
const cronCache = new Map<string, Cron>();
const CRON_CACHE_SIZE = 256;

function cronOf(expr: string, timezone: string, label = 'schedule'): Cron {
  const key = `${timezone}\n${expr}`;
  const cached = cronCache.get(key);
  if (cached) return cached;
  const text = typeof expr === 'string' ? expr.trim() : '';
  const fields = text ? text.split(/\s+/).length : 0;
  if (!text.startsWith('@') && fields !== 5 && fields !== 6) {
    fail(
      label,
      `cron ${JSON.stringify(expr)} has ${fields} field${fields === 1 ? '' : 's'}; ${CRON_HELP}`,
    );
  }
  let cron: Cron;
  try {
    cron = new Cron(text, {
      timezone,
      paused: true,
      mode: '5-or-6-parts',
      // Lists and ranges of hours are fixed times of day too: each fires once on a DST day.
      fixedTimeRule: 'no-wildcard',
    });
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).replace(
      /^CronPattern:\s*/,
      '',
    );
    fail(label, `cron ${JSON.stringify(expr)} is invalid (${reason}); ${CRON_HELP}`);
  }
  if (cronCache.size >= CRON_CACHE_SIZE) cronCache.clear();
  cronCache.set(key, cron);
  return cron;
}

// ---------------------------------------------------------------------------------------------
// Ticks

/** Index k of the first grid point `base + k·every` strictly after `after`. */
function gridIndexAfter(base: number, every: number, after: number): number {
  let k = Math.floor((after - base) / every) + 1;
  // The division is exact for realistic times; these guard the last ulp.
  while (base + (k - 1) * every > after) k--;
  while (base + k * every <= after) k++;
  return k;
}

/** Index of the first `everyMs` tick strictly after `after` (not before `start`). */
function firstIndexAfter(spec: ScheduleTiming, every: number, after: number): number {
  const k = gridIndexAfter(spec.start ?? 0, every, after);
  return spec.start !== null ? Math.max(k, 0) : k;
}

/** Index of the last `everyMs` tick at or before `upTo`, or null when that is before `start`. */
function lastIndexAtOrBefore(spec: ScheduleTiming, every: number, upTo: number): number | null {
  const k = gridIndexAfter(spec.start ?? 0, every, upTo) - 1;
  return spec.start !== null && k < 0 ? null : k;
}

/**
 * The first tick strictly after `after`, or null when there is none (after `end`, or a cron that
 * never matches again).
 */
export function nextTick(spec: ScheduleTiming, after: number): number | null {
  let tick: number;
  if (spec.everyMs !== null) {
    tick = (spec.start ?? 0) + firstIndexAfter(spec, spec.everyMs, after) * spec.everyMs;
  } else {
    // Ticks are whole milliseconds (whole seconds, even), so `> start - 1` is `>= start`.
    const from = spec.start !== null ? Math.max(after, spec.start - 1) : after;
    const next = cronOf(spec.cron ?? '', spec.timezone).nextRun(new Date(Math.floor(from)));
    if (!next) return null;
    tick = next.getTime();
  }
  return spec.end !== null && tick >= spec.end ? null : tick;
}

/**
 * The delay of `tick`'s run after the tick, in `[0, spec.jitterMs]`: deterministic in `seed`
 * and `tick`, spread evenly over the range.
 */
export function jitterOf(
  spec: Pick<ScheduleTiming, 'jitterMs'>,
  seed: string,
  tick: number,
): number {
  if (spec.jitterMs <= 0) return 0;
  return Math.floor((hash32(`${seed}\u0000${tick}`) / 2 ** 32) * (Math.floor(spec.jitterMs) + 1));
}

/** FNV-1a, then murmur3's finalizer: FNV alone barely stirs the high bits for a last digit. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Which ticks of a range the caller needs by value: the last `last`, and all from `since`. */
interface Keep {
  last: number;
  since: number;
}

interface Span {
  /** How many ticks the range holds; a lower bound when `exact` is false. */
  count: number;
  exact: boolean;
  /** The needed ticks, oldest first: a suffix of the range. */
  tail: number[];
  /** The range's latest tick. */
  latest: number | null;
}

/** The suffix of ascending `ticks` that `keep` asks for. */
function keepSuffix(ticks: number[], keep: Keep): number[] {
  let from = Math.max(0, ticks.length - keep.last);
  while (from > 0 && ticks[from - 1]! >= keep.since) from--;
  return ticks.slice(from);
}

/** The ticks in `(after, upTo]`, counted, with the ones `keep` asks for. */
function ticksIn(spec: ScheduleTiming, after: number, upTo: number, keep: Keep): Span {
  const none: Span = { count: 0, exact: true, tail: [], latest: null };
  if (upTo <= after) return none;
  if (spec.everyMs !== null) {
    const every = spec.everyMs;
    const base = spec.start ?? 0;
    const limit = spec.end !== null ? Math.min(upTo, spec.end - 1) : upTo;
    const first = firstIndexAfter(spec, every, after);
    const last = lastIndexAtOrBefore(spec, every, limit);
    if (last === null || last < first) return none;
    const sinceIndex =
      keep.since === Infinity ? Infinity : firstIndexAfter(spec, every, keep.since - 1);
    const from = Math.max(
      first,
      Math.min(last - keep.last + 1, sinceIndex),
      last - MAX_INTERVAL_STEPS + 1,
    );
    const tail: number[] = [];
    for (let k = from; k <= last; k++) tail.push(base + k * every);
    return { count: last - first + 1, exact: true, tail, latest: base + last * every };
  }
  const ticks: number[] = [];
  let tick = nextTick(spec, after);
  while (tick !== null && tick <= upTo && ticks.length < MAX_CRON_STEPS) {
    ticks.push(tick);
    tick = nextTick(spec, tick);
  }
  if (tick === null || tick > upTo) {
    return {
      count: ticks.length,
      exact: true,
      tail: keepSuffix(ticks, keep),
      latest: ticks.at(-1) ?? null,
    };
  }
  // Too many to walk: the ones between what was walked and the needed tail go uncounted.
  const walked = ticks.at(-1)!;
  const later = new Set<number>();
  const limit = spec.end !== null ? Math.min(upTo, spec.end - 1) : upTo;
  const cron = cronOf(spec.cron ?? '', spec.timezone);
  for (const date of cron.previousRuns(
    Math.min(Math.max(keep.last, 1), MAX_CRON_STEPS),
    new Date(limit + 1),
  )) {
    const t = date.getTime();
    if (t > walked && (spec.start === null || t >= spec.start)) later.add(t);
  }
  if (keep.since !== Infinity) {
    let t = nextTick(spec, Math.max(walked, keep.since - 1));
    for (let steps = 0; t !== null && t <= upTo && steps < MAX_CRON_STEPS; steps++) {
      later.add(t);
      t = nextTick(spec, t);
    }
  }
  const rest = [...later].sort((a, b) => a - b);
  return {
    count: ticks.length + rest.length,
    exact: false,
    tail: keepSuffix([...ticks, ...rest], keep),
    latest: rest.at(-1) ?? walked,
  };
}

// ---------------------------------------------------------------------------------------------
// Due ticks

export interface DueTicksOptions {
  /** When the schedule was created: with no cursor, ticks from then on (inclusive) count. */
  createdAt: number;
  /** With `catchUp: 'none'`, how late a tick's run may start and still fire. */
  graceMs: number;
  /** Keys the jitter: the schedule's name, so each schedule gets its own delays. */
  seed: string;
}

export interface DueTicks {
  /** The ticks to start runs for now, oldest first. */
  fire: number[];
  /** How many due ticks are dropped by the catch-up policy (a lower bound when capped). */
  skipped: number;
  /** The new cursor: the latest due tick, or the given cursor when none is due. */
  cursor: number | null;
  /**
   * When the next tick after the new cursor becomes due (its time plus its jitter), or null
   * when the schedule has no more ticks: the time to call again. It may be `<= now` when a
   * call stopped at a cap.
   */
  wakeAt: number | null;
}

/**
 * What a scheduler does now, for one schedule whose ticks up to `cursor` are handled.
 *
 * A tick `t` is due when `t + jitterOf(spec, seed, t) <= now`, and every earlier tick is due
 * too: the cursor only moves over a prefix, so a tick whose jitter is longer than the gap to
 * the next one holds that one back rather than being passed over. Ticks counted are those
 * after `cursor`, or when it is null after `createdAt - 1`: a new schedule fires a tick at its
 * creation instant but none from before it existed.
 *
 * Of the due ticks, the catch-up policy picks what fires (the others are `skipped`):
 * - `'none'`: those on time, whose run would start at most `graceMs` after its due moment
 *   (`now - (t + jitter) <= graceMs`);
 * - `'latest'`: the latest one;
 * - `'all'`: all of them, oldest first, but at most `maxCatchUp`, the latest ones.
 *
 * Bounded work: `everyMs` schedules count arithmetically and walk at most
 * {@link MAX_INTERVAL_STEPS} ticks. A cron schedule walks at most {@link MAX_CRON_STEPS} ticks
 * to count them; beyond that it finds the ticks that can fire directly (croner's
 * `previousRuns`, or a walk from `now - graceMs - jitterMs`) and skips the ones between without
 * counting them, so `skipped` is then a lower bound.
 */
export function dueTicks(
  spec: ScheduleTiming,
  cursor: number | null,
  now: number,
  options: DueTicksOptions,
): DueTicks {
  const after = cursor ?? options.createdAt - 1;
  const jitter = (t: number) => jitterOf(spec, options.seed, t);
  // Every tick up to here is due whatever its jitter; past it, each tick is checked.
  const sure = now - Math.max(0, spec.jitterMs);
  const keep: Keep =
    spec.catchUp === 'none'
      ? { last: 0, since: now - options.graceMs - spec.jitterMs }
      : { last: spec.catchUp === 'latest' ? 1 : spec.maxCatchUp, since: Infinity };
  const span = ticksIn(spec, after, sure, keep);

  const window: number[] = [];
  const maxSteps = spec.everyMs !== null ? MAX_INTERVAL_STEPS : MAX_CRON_STEPS;
  let pending = nextTick(spec, Math.max(after, sure));
  while (pending !== null && pending + jitter(pending) <= now && window.length < maxSteps) {
    window.push(pending);
    pending = nextTick(spec, pending);
  }
  const wakeAt = pending === null ? null : pending + jitter(pending);
  const count = span.count + window.length;
  if (count === 0) return { fire: [], skipped: 0, cursor, wakeAt };

  const tail = [...span.tail, ...window];
  let fire: number[];
  if (spec.catchUp === 'none') {
    fire = tail.filter((t) => now - (t + jitter(t)) <= options.graceMs);
  } else if (spec.catchUp === 'latest') {
    fire = tail.slice(-1);
  } else {
    fire = tail.slice(-spec.maxCatchUp);
  }
  return {
    fire,
    skipped: count - fire.length,
    cursor: window.at(-1) ?? span.latest,
    wakeAt,
  };
}

// ---------------------------------------------------------------------------------------------
// Description

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const NICKNAMES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** `90_000` → `1m30s`; whole units from days down to milliseconds. */
export function formatInterval(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ];
  let rest = ms;
  let text = '';
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) text += `${n}${unit}`;
    rest -= n * size;
  }
  return text || '0ms';
}

const pad = (n: number) => String(n).padStart(2, '0');
const num = (field: string, max: number) =>
  /^\d{1,2}$/.test(field) && Number(field) <= max ? Number(field) : null;

function describeCron(expr: string): string {
  const text = NICKNAMES[expr.trim().toLowerCase()] ?? expr.trim();
  const parts = text.split(/\s+/);
  const [sec, min, hour, dom, month, dow] = parts.length === 5 ? ['0', ...parts] : parts;
  const s = num(sec ?? '', 59);
  const m = num(min ?? '', 59);
  const h = num(hour ?? '', 23);
  const anyDate = dom === '*' && month === '*';
  if (min === '*' && hour === '*' && anyDate && dow === '*') {
    if (sec === '*') return 'every second';
    const step = /^\*\/(\d+)$/.exec(sec ?? '');
    if (step) return `every ${step[1]} seconds`;
  }
  if (s === null || m === null || !anyDate) {
    if (s === 0 && m === null && hour === '*' && anyDate && dow === '*') {
      const step = /^\*\/(\d+)$/.exec(min ?? '');
      if (min === '*') return 'every minute';
      if (step) return `every ${step[1]} minutes`;
    }
    if (s !== null && m !== null && h !== null && month === '*' && dow === '*') {
      const day = num(dom ?? '', 31);
      if (day !== null) return `on day ${day} of every month at ${clock(h, m, s)}`;
    }
    return `cron ${expr.trim()}`;
  }
  if (h === null) {
    return hour === '*' && dow === '*'
      ? `every hour at minute ${m}${s ? ` second ${s}` : ''}`
      : `cron ${expr.trim()}`;
  }
  const at = clock(h, m, s);
  if (dow === '*') return `every day at ${at}`;
  if (dow === '1-5' || dow?.toUpperCase() === 'MON-FRI') return `Monday to Friday at ${at}`;
  const day = num(dow ?? '', 7) ?? DAY_NAMES.indexOf(dow?.toUpperCase() ?? '');
  return day >= 0 ? `every ${DAYS[day % 7]} at ${at}` : `cron ${expr.trim()}`;
}

function clock(h: number, m: number, s: number): string {
  return `${pad(h)}:${pad(m)}${s ? `:${pad(s)}` : ''}`;
}

function iso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

/**
 * A short text for the CLI and the UI: `every day at 02:30 (Europe/Berlin)`, `every 15m`,
 * `cron 0 9 1-7 * MON (UTC)`, with the start and the end when set.
 */
export function describeSpec(spec: ScheduleTiming): string {
  let text =
    spec.everyMs !== null
      ? `every ${formatInterval(spec.everyMs)}`
      : `${describeCron(spec.cron ?? '')} (${spec.timezone})`;
  if (spec.start !== null) text += `, from ${iso(spec.start)}`;
  if (spec.end !== null) text += `, until ${iso(spec.end)}`;
  if (spec.jitterMs > 0) text += `, jitter up to ${formatInterval(spec.jitterMs)}`;
  return text;
}
