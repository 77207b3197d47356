import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError } from '../../src/index.js';
import {
  MAX_CRON_STEPS,
  MAX_INTERVAL_STEPS,
  checkScheduleSpec,
  describeSpec,
  dueTicks,
  formatInterval,
  jitterOf,
  nextTick,
  type ScheduleTiming,
} from '../../src/core/schedule-time.js';
import type { ScheduleSpec } from '../../src/store/contract/types.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const at = (iso: string) => Date.parse(iso);

function spec(overrides: Partial<ScheduleTiming>): ScheduleTiming {
  return {
    cron: null,
    everyMs: null,
    timezone: 'UTC',
    start: null,
    end: null,
    jitterMs: 0,
    catchUp: 'all',
    maxCatchUp: 1_000_000,
    ...overrides,
  };
}

/** Every tick in `[from, to)`, by repeated `nextTick`. */
function ticksBetween(s: ScheduleTiming, from: number, to: number): number[] {
  const ticks: number[] = [];
  for (let t = nextTick(s, from - 1); t !== null && t < to; t = nextTick(s, t)) ticks.push(t);
  return ticks;
}

const formats = new Map<string, Intl.DateTimeFormat>();
/** `2026-03-29 03:00:00 Sun`, the local wall-clock time of `ms` in `timeZone`. */
function local(ms: number, timeZone: string): string {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
      hourCycle: 'h23',
    });
    formats.set(timeZone, format);
  }
  const p = Object.fromEntries(format.formatToParts(ms).map((part) => [part.type, part.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.weekday}`;
}

function errorOf(s: ScheduleTiming): ConfigError {
  try {
    checkScheduleSpec(s, 'schedule "nightly"');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('invalid_schedule');
    return error as ConfigError;
  }
  throw new Error('expected checkScheduleSpec to throw');
}

describe('checkScheduleSpec', () => {
  it('takes the store contract’s ScheduleSpec as is', () => {
    expectTypeOf<ScheduleSpec>().toExtend<ScheduleTiming>();
  });

  it('accepts valid specs', () => {
    for (const s of [
      spec({ cron: '30 2 * * *', timezone: 'Europe/Berlin' }),
      spec({ cron: '*/15 * * * * *' }),
      spec({ cron: '@daily' }),
      spec({ cron: '0 0 29 2 *' }),
      spec({ cron: '0 9 * * MON-FRI', timezone: 'America/New_York' }),
      spec({ everyMs: 1000 }),
      spec({ everyMs: HOUR, start: at('2026-01-01T00:00:00Z'), end: at('2027-01-01T00:00:00Z') }),
      spec({ everyMs: HOUR, jitterMs: 0, catchUp: 'none', maxCatchUp: 1 }),
    ]) {
      expect(() => checkScheduleSpec(s)).not.toThrow();
    }
  });

  it.each<[string, Partial<ScheduleTiming>, string]>([
    [
      'an invalid cron, with croner’s reason',
      { cron: '61 * * * *' },
      'schedule "nightly": cron "61 * * * *" is invalid (Invalid value for minute: 61); use 5 fields (minute hour day-of-month month day-of-week, e.g. "30 2 * * *"), 6 with seconds first (e.g. "0 30 2 * * *"), or a nickname such as "@daily"',
    ],
    [
      'an illegal step',
      { cron: '*/0 * * * *' },
      'cron "*/0 * * * *" is invalid (Syntax error, illegal stepping: 0)',
    ],
    ['too few fields', { cron: '* * *' }, 'cron "* * *" has 3 fields; use 5 fields'],
    [
      'a year field',
      { cron: '0 0 0 1 1 * 2030' },
      'cron "0 0 0 1 1 * 2030" has 7 fields; use 5 fields',
    ],
    [
      'a date instead of a pattern',
      { cron: '2030-01-23T00:00:00' },
      'cron "2030-01-23T00:00:00" has 1 field; use 5 fields',
    ],
    ['an empty cron', { cron: '' }, 'cron "" has 0 fields'],
    ['@reboot', { cron: '@reboot' }, 'cron "@reboot" is invalid (@reboot is not supported'],
    [
      'a cron that never matches',
      { cron: '0 0 30 2 *' },
      'schedule "nightly": cron "0 0 30 2 *" never matches a date (e.g. 30 February); check its day-of-month and month fields',
    ],
    [
      'neither cron nor everyMs',
      {},
      'schedule "nightly": neither cron nor everyMs is set; give a cron expression (e.g. "0 * * * *") or an interval in ms (everyMs >= 1000)',
    ],
    [
      'both cron and everyMs',
      { cron: '* * * * *', everyMs: 60_000 },
      'schedule "nightly": both cron and everyMs are set; set one of them and the other to null',
    ],
    [
      'everyMs < 1000',
      { everyMs: 999 },
      'schedule "nightly": everyMs 999 is too short or not whole; use a whole number of milliseconds >= 1000, or a cron expression with seconds (e.g. "*/5 * * * * *")',
    ],
    ['a fractional everyMs', { everyMs: 1500.5 }, 'everyMs 1500.5 is too short or not whole'],
    [
      'an unknown time zone',
      { cron: '0 * * * *', timezone: 'Mars/Olympus_Mons' },
      'schedule "nightly": timezone "Mars/Olympus_Mons" is not a known IANA time zone; use a name such as "UTC", "Europe/Berlin" or "America/New_York"',
    ],
    [
      'start = end',
      { everyMs: 1000, start: at('2026-05-01T00:00:00Z'), end: at('2026-05-01T00:00:00Z') },
      'schedule "nightly": start (2026-05-01T00:00:00.000Z) is not before end (2026-05-01T00:00:00.000Z); move end after start, or set either to null',
    ],
    [
      'start > end',
      { everyMs: 1000, start: at('2026-06-01T00:00:00Z'), end: at('2026-05-01T00:00:00Z') },
      'start (2026-06-01T00:00:00.000Z) is not before end (2026-05-01T00:00:00.000Z)',
    ],
    [
      'a start that is not a time',
      { everyMs: 1000, start: Number.NaN },
      'schedule "nightly": start NaN is not a time; use whole milliseconds since the epoch (Date.getTime()) or null',
    ],
    [
      'a negative jitter',
      { everyMs: 1000, jitterMs: -1 },
      'schedule "nightly": jitterMs -1 is invalid; use a whole number of milliseconds >= 0 (0 for none)',
    ],
    [
      'maxCatchUp < 1',
      { everyMs: 1000, maxCatchUp: 0 },
      'schedule "nightly": maxCatchUp 0 is invalid; use a whole number >= 1 (the most ticks fired at once after a downtime)',
    ],
    [
      'an unknown catchUp',
      { everyMs: 1000, catchUp: 'some' as never },
      `schedule "nightly": catchUp "some" is unknown; use 'none', 'latest' or 'all'`,
    ],
  ])('rejects %s', (_, overrides, message) => {
    expect(errorOf(spec(overrides)).message).toContain(message);
  });

  it('starts the message with "schedule" when given no label', () => {
    expect(() => checkScheduleSpec(spec({ everyMs: 10 }))).toThrow(/^schedule: everyMs 10 /);
  });
});

describe('nextTick', () => {
  it('returns the first tick strictly after the given time', () => {
    const s = spec({ cron: '0 * * * *' });
    expect(nextTick(s, at('2026-01-01T00:59:59.999Z'))).toBe(at('2026-01-01T01:00:00Z'));
    expect(nextTick(s, at('2026-01-01T01:00:00Z'))).toBe(at('2026-01-01T02:00:00Z'));
    expect(nextTick(s, at('2026-01-01T01:00:00.5Z'))).toBe(at('2026-01-01T02:00:00Z'));
  });

  it('ticks on weekdays at 09:00 local all year, whatever the offset', () => {
    const s = spec({ cron: '0 9 * * 1-5', timezone: 'Europe/Berlin' });
    const ticks = ticksBetween(s, at('2025-12-31T23:00:00Z'), at('2026-12-31T23:00:00Z'));
    // 2026 starts on a Thursday: 52 whole weeks and one more Thursday.
    expect(ticks).toHaveLength(261);
    for (const t of ticks)
      expect(local(t, 'Europe/Berlin')).toMatch(/^2026-..-.. 09:00:00 (Mon|Tue|Wed|Thu|Fri)$/);
    // 09:00 is 08:00 UTC in winter and 07:00 UTC in summer.
    expect(ticks[0]).toBe(at('2026-01-01T08:00:00Z'));
    expect(ticks).toContain(at('2026-07-01T07:00:00Z'));
    expect(ticks.at(-1)).toBe(at('2026-12-31T08:00:00Z'));
  });

  it('ticks on the first of every month at midnight local', () => {
    const s = spec({ cron: '0 0 1 * *', timezone: 'America/New_York' });
    const ticks = ticksBetween(s, at('2026-01-01T05:00:00Z'), at('2027-01-01T05:00:00Z'));
    expect(ticks).toHaveLength(12);
    expect(ticks.map((t) => local(t, 'America/New_York').slice(0, 19))).toEqual(
      Array.from({ length: 12 }, (_, i) => `2026-${String(i + 1).padStart(2, '0')}-01 00:00:00`),
    );
  });

  it('reads a seconds field first', () => {
    const every15s = spec({ cron: '*/15 * * * * *' });
    expect(ticksBetween(every15s, at('2026-01-01T00:00:00Z'), at('2026-01-01T00:01:00Z'))).toEqual(
      [0, 15, 30, 45].map((s) => at('2026-01-01T00:00:00Z') + s * SECOND),
    );
    const daily = spec({ cron: '30 0 9 * * *', timezone: 'Europe/Berlin' });
    expect(nextTick(daily, at('2026-01-01T00:00:00Z'))).toBe(at('2026-01-01T08:00:30Z'));
    expect(nextTick(daily, at('2026-07-01T00:00:00Z'))).toBe(at('2026-07-01T07:00:30Z'));
  });

  it('honours start and end', () => {
    const s = spec({
      cron: '0 * * * *',
      start: at('2026-01-01T10:30:00Z'),
      end: at('2026-01-01T13:00:00Z'),
    });
    expect(nextTick(s, 0)).toBe(at('2026-01-01T11:00:00Z'));
    expect(ticksBetween(s, 0, Infinity)).toEqual([
      at('2026-01-01T11:00:00Z'),
      at('2026-01-01T12:00:00Z'),
    ]);
    // A tick at start counts; one at end does not.
    const exact = { ...s, start: at('2026-01-01T11:00:00Z') };
    expect(nextTick(exact, 0)).toBe(at('2026-01-01T11:00:00Z'));
    expect(nextTick(s, at('2026-01-01T12:00:00Z'))).toBeNull();
    expect(nextTick(s, at('2026-02-01T00:00:00Z'))).toBeNull();
  });

  it('ticks everyMs from the epoch without a start', () => {
    const s = spec({ everyMs: 15 * MINUTE });
    expect(nextTick(s, at('2026-01-01T10:07:00Z'))).toBe(at('2026-01-01T10:15:00Z'));
    expect(nextTick(s, at('2026-01-01T10:15:00Z'))).toBe(at('2026-01-01T10:30:00Z'));
    expect(nextTick(spec({ everyMs: 7 * SECOND }), 20_000)).toBe(21_000);
  });

  it('ticks everyMs from start with one', () => {
    const start = at('2026-01-01T10:07:13Z');
    const s = spec({ everyMs: 15 * MINUTE, start, end: start + HOUR });
    expect(nextTick(s, 0)).toBe(start);
    expect(nextTick(s, start - 1)).toBe(start);
    expect(nextTick(s, start)).toBe(start + 15 * MINUTE);
    expect(nextTick(s, start + 16 * MINUTE)).toBe(start + 30 * MINUTE);
    expect(ticksBetween(s, 0, Infinity)).toEqual([0, 1, 2, 3].map((k) => start + k * 15 * MINUTE));
    expect(nextTick(s, start + 45 * MINUTE)).toBeNull();
  });
});

describe('daylight saving time', () => {
  const daily = (cron: string, timezone: string, from: string, days: number) => {
    const s = spec({ cron, timezone });
    const ticks = ticksBetween(s, at(from), at(from) + days * DAY);
    return ticks.map((t) => `${new Date(t).toISOString()} ${local(t, timezone)}`);
  };

  it('fires a daily 02:30 once at 03:00 when the clock springs forward (Europe/Berlin)', () => {
    expect(daily('30 2 * * *', 'Europe/Berlin', '2026-03-28T00:00:00Z', 3)).toEqual([
      '2026-03-28T01:30:00.000Z 2026-03-28 02:30:00 Sat',
      '2026-03-29T01:00:00.000Z 2026-03-29 03:00:00 Sun',
      '2026-03-30T00:30:00.000Z 2026-03-30 02:30:00 Mon',
    ]);
  });

  it('fires a daily 02:30 once at 03:00 when the clock springs forward (America/New_York)', () => {
    expect(daily('30 2 * * *', 'America/New_York', '2026-03-07T05:00:00Z', 3)).toEqual([
      '2026-03-07T07:30:00.000Z 2026-03-07 02:30:00 Sat',
      '2026-03-08T07:00:00.000Z 2026-03-08 03:00:00 Sun',
      '2026-03-09T06:30:00.000Z 2026-03-09 02:30:00 Mon',
    ]);
  });

  it('fires a daily 02:30 once, at the first one, when the clock falls back (Europe/Berlin)', () => {
    expect(daily('30 2 * * *', 'Europe/Berlin', '2026-10-24T00:00:00Z', 3)).toEqual([
      '2026-10-24T00:30:00.000Z 2026-10-24 02:30:00 Sat',
      '2026-10-25T00:30:00.000Z 2026-10-25 02:30:00 Sun', // CEST; 01:30Z (CET) is not a tick
      '2026-10-26T01:30:00.000Z 2026-10-26 02:30:00 Mon',
    ]);
  });

  it('fires a daily 01:30 once, at the first one, when the clock falls back (America/New_York)', () => {
    expect(daily('30 1 * * *', 'America/New_York', '2026-10-31T04:00:00Z', 3)).toEqual([
      '2026-10-31T05:30:00.000Z 2026-10-31 01:30:00 Sat',
      '2026-11-01T05:30:00.000Z 2026-11-01 01:30:00 Sun', // EDT; 06:30Z (EST) is not a tick
      '2026-11-02T06:30:00.000Z 2026-11-02 01:30:00 Mon',
    ]);
  });

  it('treats a list of hours as fixed times of day too', () => {
    expect(daily('0 2,14 * * *', 'Europe/Berlin', '2026-03-29T00:00:00Z', 1)).toEqual([
      '2026-03-29T01:00:00.000Z 2026-03-29 03:00:00 Sun',
      '2026-03-29T12:00:00.000Z 2026-03-29 14:00:00 Sun',
    ]);
    expect(daily('30 1,2 * * *', 'Europe/Berlin', '2026-10-24T22:00:00Z', 1 / 4)).toEqual([
      '2026-10-24T23:30:00.000Z 2026-10-25 01:30:00 Sun',
      '2026-10-25T00:30:00.000Z 2026-10-25 02:30:00 Sun',
    ]);
  });

  it('runs an hourly cron in elapsed time: skips the missing hour, repeats the doubled one', () => {
    expect(daily('30 * * * *', 'Europe/Berlin', '2026-03-29T00:00:00Z', 1 / 12)).toEqual([
      '2026-03-29T00:30:00.000Z 2026-03-29 01:30:00 Sun',
      '2026-03-29T01:30:00.000Z 2026-03-29 03:30:00 Sun',
    ]);
    expect(daily('30 * * * *', 'Europe/Berlin', '2026-10-25T00:00:00Z', 1 / 8)).toEqual([
      '2026-10-25T00:30:00.000Z 2026-10-25 02:30:00 Sun',
      '2026-10-25T01:30:00.000Z 2026-10-25 02:30:00 Sun',
      '2026-10-25T02:30:00.000Z 2026-10-25 03:30:00 Sun',
    ]);
    expect(daily('0 * * * *', 'America/New_York', '2026-03-08T05:00:00Z', 1)).toHaveLength(24);
  });

  it('fires once on the spring-forward day after a downtime across it', () => {
    const s = spec({
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      catchUp: 'all',
      maxCatchUp: 10,
    });
    const result = dueTicks(s, at('2026-03-28T12:00:00Z'), at('2026-03-29T12:00:00Z'), {
      createdAt: 0,
      graceMs: MINUTE,
      seed: 'nightly',
    });
    expect(result).toEqual({
      fire: [at('2026-03-29T01:00:00Z')],
      skipped: 0,
      cursor: at('2026-03-29T01:00:00Z'),
      wakeAt: at('2026-03-30T00:30:00Z'),
    });
  });
});

describe('dueTicks', () => {
  const opts = { createdAt: 0, graceMs: 10 * MINUTE, seed: 'hourly' };
  const T0 = at('2026-05-10T12:00:00Z');
  const hours = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => T0 + (from + i) * HOUR);

  describe.each([
    ['a cron', { cron: '0 * * * *' }],
    ['everyMs', { everyMs: HOUR }],
  ])('after a 3-day outage, hourly by %s', (_, timing) => {
    const cursor = T0 - 3 * DAY; // 72 ticks after it, the last at T0
    const hourly = (overrides: Partial<ScheduleTiming>) => spec({ ...timing, ...overrides });

    it("'none' fires only the tick that is still on time", () => {
      expect(dueTicks(hourly({ catchUp: 'none' }), cursor, T0 + 5 * MINUTE, opts)).toEqual({
        fire: [T0],
        skipped: 71,
        cursor: T0,
        wakeAt: T0 + HOUR,
      });
      expect(dueTicks(hourly({ catchUp: 'none' }), cursor, T0 + 30 * MINUTE, opts)).toEqual({
        fire: [],
        skipped: 72,
        cursor: T0,
        wakeAt: T0 + HOUR,
      });
    });

    it("'latest' fires the latest tick", () => {
      expect(dueTicks(hourly({ catchUp: 'latest' }), cursor, T0 + 30 * MINUTE, opts)).toEqual({
        fire: [T0],
        skipped: 71,
        cursor: T0,
        wakeAt: T0 + HOUR,
      });
    });

    it("'all' fires the latest maxCatchUp ticks, oldest first", () => {
      expect(
        dueTicks(hourly({ catchUp: 'all', maxCatchUp: 10 }), cursor, T0 + 30 * MINUTE, opts),
      ).toEqual({ fire: hours(-9, 0), skipped: 62, cursor: T0, wakeAt: T0 + HOUR });
      expect(
        dueTicks(hourly({ catchUp: 'all', maxCatchUp: 100 }), cursor, T0 + 30 * MINUTE, opts),
      ).toEqual({ fire: hours(-71, 0), skipped: 0, cursor: T0, wakeAt: T0 + HOUR });
    });

    it('fires nothing and keeps the cursor when nothing is due', () => {
      for (const catchUp of ['none', 'latest', 'all'] as const) {
        expect(dueTicks(hourly({ catchUp }), T0, T0 + HOUR - 1, opts)).toEqual({
          fire: [],
          skipped: 0,
          cursor: T0,
          wakeAt: T0 + HOUR,
        });
      }
    });

    it('fires a tick at its exact instant, and each tick once', () => {
      const s = hourly({ catchUp: 'none' });
      const first = dueTicks(s, T0 - HOUR, T0, opts);
      expect(first).toEqual({ fire: [T0], skipped: 0, cursor: T0, wakeAt: T0 + HOUR });
      expect(dueTicks(s, first.cursor, T0 + 1, opts).fire).toEqual([]);
    });

    it('counts from creation when there is no cursor', () => {
      const s = hourly({ catchUp: 'all' });
      // Created exactly at a tick: that tick fires.
      expect(dueTicks(s, null, T0 + 1, { ...opts, createdAt: T0 }).fire).toEqual([T0]);
      // Created just after a tick: nothing from before it exists.
      expect(dueTicks(s, null, T0 + 1, { ...opts, createdAt: T0 + 1 })).toEqual({
        fire: [],
        skipped: 0,
        cursor: null,
        wakeAt: T0 + HOUR,
      });
      expect(
        dueTicks(s, null, T0 + 2 * HOUR, { ...opts, createdAt: T0 - 30 * MINUTE }).fire,
      ).toEqual(hours(0, 2));
    });

    it('stops at end and fires nothing more', () => {
      const s = hourly({ catchUp: 'all', end: T0 + HOUR });
      expect(dueTicks(s, T0 - 2 * HOUR, T0 + 5 * HOUR, opts)).toEqual({
        fire: hours(-1, 0),
        skipped: 0,
        cursor: T0,
        wakeAt: null,
      });
      expect(dueTicks(s, T0, T0 + 5 * HOUR, opts)).toEqual({
        fire: [],
        skipped: 0,
        cursor: T0,
        wakeAt: null,
      });
    });

    it('waits for start', () => {
      const s = hourly({ catchUp: 'all', start: T0 + 90 * MINUTE });
      const first = 'everyMs' in timing ? T0 + 90 * MINUTE : T0 + 2 * HOUR;
      expect(dueTicks(s, null, T0, opts)).toEqual({
        fire: [],
        skipped: 0,
        cursor: null,
        wakeAt: first,
      });
      expect(dueTicks(s, null, first, opts).fire).toEqual([first]);
    });
  });

  it('fires ticks of a seconds-field cron', () => {
    const s = spec({ cron: '*/20 * * * * *', catchUp: 'all', maxCatchUp: 2 });
    expect(dueTicks(s, T0, T0 + MINUTE + 5 * SECOND, opts)).toEqual({
      fire: [T0 + 40 * SECOND, T0 + MINUTE],
      skipped: 1,
      cursor: T0 + MINUTE,
      wakeAt: T0 + 80 * SECOND,
    });
  });
});

describe('jitter', () => {
  const s = spec({ everyMs: MINUTE, jitterMs: 30 * SECOND, catchUp: 'all', maxCatchUp: 100 });
  const T0 = at('2026-05-10T12:00:00Z');

  it('is deterministic, within [0, jitterMs], spread out, and keyed by the seed', () => {
    const ticks = Array.from({ length: 5000 }, (_, i) => T0 + i * MINUTE);
    const delays = ticks.map((t) => jitterOf(s, 'report', t));
    expect(ticks.map((t) => jitterOf(s, 'report', t))).toEqual(delays);
    for (const d of delays) {
      expect(Number.isInteger(d)).toBe(true);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(30 * SECOND);
    }
    expect(Math.min(...delays)).toBeLessThan(1 * SECOND);
    expect(Math.max(...delays)).toBeGreaterThan(29 * SECOND);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    expect(mean).toBeGreaterThan(14 * SECOND);
    expect(mean).toBeLessThan(16 * SECOND);
    const other = ticks.map((t) => jitterOf(s, 'billing', t));
    expect(other.filter((d, i) => d === delays[i]).length).toBeLessThan(10);
    expect(jitterOf({ jitterMs: 0 }, 'report', T0)).toBe(0);
    expect(jitterOf({ jitterMs: 1 }, 'report', T0)).toBeLessThanOrEqual(1);
  });

  it('makes a tick due at its time plus its jitter', () => {
    const options = { createdAt: 0, graceMs: MINUTE, seed: 'report' };
    const tick = T0 + MINUTE;
    const delay = jitterOf(s, 'report', tick);
    expect(delay).toBeGreaterThan(0);
    expect(dueTicks(s, T0, tick + delay - 1, options)).toEqual({
      fire: [],
      skipped: 0,
      cursor: T0,
      wakeAt: tick + delay,
    });
    expect(dueTicks(s, T0, tick + delay, options)).toEqual({
      fire: [tick],
      skipped: 0,
      cursor: tick,
      wakeAt: tick + MINUTE + jitterOf(s, 'report', tick + MINUTE),
    });
  });

  it("measures lateness from the due moment: a jittered run is on time for 'none'", () => {
    const none = { ...s, catchUp: 'none' as const };
    const tick = T0 + MINUTE;
    const due = tick + jitterOf(s, 'report', tick);
    const options = { createdAt: 0, graceMs: 5 * SECOND, seed: 'report' };
    expect(dueTicks(none, T0, due + 5 * SECOND, options).fire).toEqual([tick]);
    expect(dueTicks(none, T0, due + 5 * SECOND + 1, options)).toMatchObject({
      fire: [],
      skipped: 1,
      cursor: tick,
    });
  });

  it('moves the cursor over a prefix only: a long delay holds the next tick back', () => {
    const wide = spec({ everyMs: SECOND, jitterMs: 10 * SECOND, catchUp: 'all', maxCatchUp: 100 });
    const delay = (t: number) => jitterOf(wide, 'report', t);
    // A tick whose delay ends after the next tick's.
    let t = T0;
    while (delay(t) <= SECOND + delay(t + SECOND)) t += SECOND;
    const options = { createdAt: 0, graceMs: MINUTE, seed: 'report' };
    const now = t + SECOND + delay(t + SECOND);
    const held = dueTicks(wide, t - SECOND, now, options);
    expect(held).toEqual({ fire: [], skipped: 0, cursor: t - SECOND, wakeAt: t + delay(t) });
    const released = dueTicks(wide, t - SECOND, t + delay(t), options);
    expect(released.fire.slice(0, 2)).toEqual([t, t + SECOND]);
  });

  it('never fires a tick twice across calls', () => {
    const options = { createdAt: 0, graceMs: HOUR, seed: 'report' };
    const fired: number[] = [];
    let cursor: number | null = T0;
    for (let now = T0; now < T0 + 2 * HOUR; now += 7 * SECOND) {
      const result = dueTicks(s, cursor, now, options);
      fired.push(...result.fire);
      cursor = result.cursor;
    }
    expect(fired).toEqual(Array.from({ length: fired.length }, (_, i) => T0 + (i + 1) * MINUTE));
    expect(fired.length).toBeGreaterThanOrEqual(119);
  });
});

describe('iteration cap', () => {
  const T0 = at('2026-05-10T12:00:00Z');
  const options = { createdAt: 0, graceMs: 2 * SECOND, seed: 'busy' };

  it('counts a month of 1-second everyMs ticks arithmetically', () => {
    const s = spec({ everyMs: SECOND, catchUp: 'all', maxCatchUp: 10 });
    const started = performance.now();
    const result = dueTicks(s, T0 - 30 * DAY, T0, options);
    expect(result.fire).toEqual(Array.from({ length: 10 }, (_, i) => T0 - (9 - i) * SECOND));
    expect(result.skipped).toBe(30 * 86_400 - 10);
    expect(result.cursor).toBe(T0);
    expect(dueTicks({ ...s, catchUp: 'none' }, T0 - 30 * DAY, T0, options)).toMatchObject({
      fire: [T0 - 2 * SECOND, T0 - SECOND, T0],
      skipped: 30 * 86_400 - 3,
    });
    expect(performance.now() - started).toBeLessThan(1000);
    // A whole grace window is walked, up to the cap.
    const wide = dueTicks({ ...s, catchUp: 'none' }, T0 - 30 * DAY, T0, {
      ...options,
      graceMs: 30 * DAY,
    });
    expect(wide.fire).toHaveLength(MAX_INTERVAL_STEPS);
    expect(wide.fire.at(-1)).toBe(T0);
    expect(wide.skipped).toBe(30 * 86_400 - MAX_INTERVAL_STEPS);
  });

  it('walks at most MAX_CRON_STEPS ticks of a 1-second cron and skips the rest uncounted', () => {
    const s = spec({
      cron: '* * * * * *',
      timezone: 'Europe/Berlin',
      catchUp: 'all',
      maxCatchUp: 10,
    });
    const all = dueTicks(s, T0 - DAY, T0, options);
    expect(all.fire).toEqual(Array.from({ length: 10 }, (_, i) => T0 - (9 - i) * SECOND));
    expect(all.cursor).toBe(T0);
    expect(all.wakeAt).toBe(T0 + SECOND);
    // A lower bound: the walked ticks, the 10 fired ones not counted.
    expect(all.skipped).toBe(MAX_CRON_STEPS);

    const latest = dueTicks({ ...s, catchUp: 'latest' }, T0 - DAY, T0, options);
    expect(latest).toMatchObject({ fire: [T0], cursor: T0, skipped: MAX_CRON_STEPS });

    const none = dueTicks({ ...s, catchUp: 'none' }, T0 - DAY, T0, options);
    expect(none).toMatchObject({ fire: [T0 - 2 * SECOND, T0 - SECOND, T0], cursor: T0 });
    expect(none.skipped).toBeGreaterThanOrEqual(MAX_CRON_STEPS);
  });

  it('counts exactly below the cap', () => {
    const s = spec({ cron: '* * * * * *', catchUp: 'latest' });
    expect(dueTicks(s, T0 - HOUR, T0, options)).toMatchObject({ fire: [T0], skipped: 3599 });
  });
});

describe('describeSpec', () => {
  it.each<[Partial<ScheduleTiming>, string]>([
    [{ cron: '30 2 * * *', timezone: 'Europe/Berlin' }, 'every day at 02:30 (Europe/Berlin)'],
    [{ cron: '0 9 * * 1-5' }, 'Monday to Friday at 09:00 (UTC)'],
    [{ cron: '0 30 9 * * MON' }, 'every Monday at 09:30 (UTC)'],
    [{ cron: '15 8 * * 0' }, 'every Sunday at 08:15 (UTC)'],
    [{ cron: '0 0 1 * *' }, 'on day 1 of every month at 00:00 (UTC)'],
    [{ cron: '30 * * * *' }, 'every hour at minute 30 (UTC)'],
    [{ cron: '@hourly' }, 'every hour at minute 0 (UTC)'],
    [{ cron: '@daily' }, 'every day at 00:00 (UTC)'],
    [{ cron: '*/15 * * * *' }, 'every 15 minutes (UTC)'],
    [{ cron: '* * * * *' }, 'every minute (UTC)'],
    [{ cron: '*/10 * * * * *' }, 'every 10 seconds (UTC)'],
    [{ cron: '5 0 9 * * *' }, 'every day at 09:00:05 (UTC)'],
    [{ cron: '0 9 1-7 * MON' }, 'cron 0 9 1-7 * MON (UTC)'],
    [{ everyMs: 15 * MINUTE }, 'every 15m'],
    [{ everyMs: 90 * SECOND }, 'every 1m30s'],
    [
      {
        everyMs: DAY,
        start: at('2026-01-01T00:00:00Z'),
        end: at('2027-01-01T00:00:00Z'),
        jitterMs: 5 * MINUTE,
      },
      'every 1d, from 2026-01-01T00:00:00.000Z, until 2027-01-01T00:00:00.000Z, jitter up to 5m',
    ],
  ])('describes %j', (overrides, text) => {
    expect(describeSpec(spec(overrides))).toBe(text);
  });

  it('formats intervals', () => {
    expect(formatInterval(0)).toBe('0ms');
    expect(formatInterval(1500)).toBe('1s500ms');
    expect(formatInterval(DAY + 2 * HOUR)).toBe('1d2h');
  });
});
