import { describe, expect, it } from 'vitest';
import { ConfigError, InputError } from '../../src/index.js';
import {
  checkPartitionKey,
  checkPartitionsSpec,
  describePartitions,
  MAX_PARTITION_KEYS,
  partitionAt,
  partitionKeyFormat,
  partitionKeys,
  partitionOf,
  partitionRange,
  partitionWindow,
  staticPartitions,
  timePartitions,
  type Granularity,
  type PartitionsSpec,
  type TimePartitionsOptions,
  type TimePartitionsSpec,
} from '../../src/core/partitions.js';
import { nextTick } from '../../src/core/schedule-time.js';
import { ZoneClock } from '../../src/core/wall-clock.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (iso: string) => Date.parse(iso);

function time(
  granularity: Granularity,
  options: Partial<Omit<TimePartitionsOptions, 'granularity'>> = {},
): TimePartitionsSpec {
  return timePartitions({ granularity, param: 'key', start: '2026-01-01', ...options });
}

const regions = staticPartitions(['eu', 'us', 'apac'], { param: 'region' });

/** The windows of every key existing at `now`, each checked to follow the previous one. */
function windows(spec: PartitionsSpec, now: number) {
  const list = partitionKeys(spec, now).map((key) => ({ key, ...partitionWindow(spec, key)! }));
  for (let i = 1; i < list.length; i++) expect(list[i]!.start).toBe(list[i - 1]!.end);
  return list;
}

const hours = (w: { start: number; end: number }) => (w.end - w.start) / HOUR;

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

describe('timePartitions', () => {
  it('builds a checked spec with defaults', () => {
    expect(time('daily')).toEqual({
      kind: 'time',
      granularity: 'daily',
      param: 'key',
      start: at('2026-01-01T00:00:00Z'),
      end: null,
      timezone: 'UTC',
      endOffset: 0,
    });
  });

  it('reads a start without an offset on the wall clock of the time zone', () => {
    expect(time('daily', { timezone: 'America/New_York' }).start).toBe(
      at('2026-01-01T00:00:00-05:00'),
    );
    expect(time('daily', { timezone: 'Asia/Tokyo', start: '2026-01-01T00:00' }).start).toBe(
      at('2026-01-01T00:00:00+09:00'),
    );
    // A month alone starts on its first day.
    expect(time('monthly', { start: '2026-03' }).start).toBe(at('2026-03-01T00:00:00Z'));
  });

  it('moves a start inside a partition back to where that partition starts', () => {
    const berlin = { timezone: 'Europe/Berlin' };
    expect(time('daily', { ...berlin, start: '2026-01-01T18:30' }).start).toBe(
      at('2026-01-01T00:00:00+01:00'),
    );
    // An instant: 2026-01-01T03:00Z is 22:00 on 31 December in New York.
    expect(
      time('daily', { timezone: 'America/New_York', start: '2026-01-01T03:00:00Z' }).start,
    ).toBe(at('2025-12-31T00:00:00-05:00'));
    // 2026-01-01 is a Thursday: its ISO week starts on Monday 29 December.
    expect(time('weekly', berlin).start).toBe(at('2025-12-29T00:00:00+01:00'));
    expect(time('monthly', { ...berlin, start: '2026-02-17T09:00' }).start).toBe(
      at('2026-02-01T00:00:00+01:00'),
    );
    expect(time('hourly', { ...berlin, start: '2026-01-01T06:59:59.999' }).start).toBe(
      at('2026-01-01T06:00:00+01:00'),
    );
  });

  it('takes a Date, epoch milliseconds and ISO times with an offset as instants', () => {
    const instant = at('2026-05-05T10:00:00Z');
    for (const start of [new Date(instant), instant, '2026-05-05T12:00:00+02:00']) {
      expect(time('hourly', { start, timezone: 'Europe/Berlin' }).start).toBe(instant);
    }
  });

  it('names time zones canonically', () => {
    expect(time('daily', { timezone: 'europe/berlin' }).timezone).toBe('Europe/Berlin');
  });

  it('refuses bad options, naming the option and the fix', () => {
    const cases: [Partial<TimePartitionsOptions>, string][] = [
      [{ granularity: 'yearly' as Granularity }, 'granularity "yearly" is unknown; use one of'],
      [{ timezone: 'Mars/Olympus' }, 'daily partitions: timezone "Mars/Olympus" is not a known'],
      [{ start: 'yesterday' }, 'start "yesterday" is not a time; give a date such as'],
      [{ start: '2026-02-30' }, 'start "2026-02-30" is not a time'],
      [{ start: 'Jan 1 2026' }, 'start "Jan 1 2026" is not a time'],
      [{ start: Number.NaN }, 'start NaN is not a time'],
      [{ start: new Date('nope') }, 'is not a time'],
      [{ start: undefined }, 'start is missing'],
      [{ start: '1850-01-01' }, 'start "1850-01-01" is out of range; use a time from 1900'],
      [{ end: '2025-06-01' }, 'end (2025-06-01T00:00:00.000Z) is not after'],
      [{ end: '2026-01-01' }, 'is not after the first partition'],
      [{ endOffset: 1.5 }, 'endOffset 1.5 is invalid; use a whole number'],
      [{ param: '' }, 'param "" is invalid; name the pipeline param'],
    ];
    for (const [options, message] of cases) {
      const error = configError(() =>
        timePartitions({ granularity: 'daily', param: 'key', start: '2026-01-01', ...options }),
      );
      expect(error.code).toBe('invalid_partitions');
      expect(error.message).toContain(message);
    }
  });
});

describe('staticPartitions', () => {
  it('keeps the keys in their order', () => {
    expect(regions).toEqual({ kind: 'static', param: 'region', keys: ['eu', 'us', 'apac'] });
    expect(partitionKeys(regions, 0)).toEqual(['eu', 'us', 'apac']);
  });

  it('refuses empty sets, duplicates and keys unsafe in URLs', () => {
    const cases: [unknown, string][] = [
      [[], 'keys must be a non-empty list'],
      ['eu', 'keys must be a non-empty list'],
      [['eu', 'us', 'eu'], 'key "eu" is listed twice'],
      [[''], 'key "" is invalid; use 1 to 128 letters'],
      [['eu/west'], 'key "eu/west" is invalid'],
      [['north america'], 'key "north america" is invalid'],
      [['a?b'], 'key "a?b" is invalid'],
      [['..'], 'key ".." is invalid'],
      [['x'.repeat(129)], `key "${'x'.repeat(129)}" is invalid`],
      [[7], 'key 7 is invalid'],
    ];
    for (const [keys, message] of cases) {
      const error = configError(() => staticPartitions(keys as string[], { param: 'region' }));
      expect(error.message).toContain(`static partitions: ${message}`);
    }
    expect(() =>
      staticPartitions(['eu-west-1', 'v1.2', 'a_b', '2026:Q1', 'x~y'], { param: 'k' }),
    ).not.toThrow();
  });
});

describe('checkPartitionsSpec', () => {
  it('accepts built specs and refuses hand-written ones that are off', () => {
    expect(() => checkPartitionsSpec(time('hourly'))).not.toThrow();
    expect(() => checkPartitionsSpec(regions)).not.toThrow();
    const daily = time('daily');
    const cases: [unknown, string][] = [
      [null, 'expected a partitions spec'],
      [{ ...daily, kind: 'dynamic' }, 'kind "dynamic" is unknown'],
      [{ ...daily, start: daily.start + HOUR }, 'is not where a daily'],
      [{ ...daily, start: '2026-01-01' }, 'start "2026-01-01" is not a time'],
      [{ ...daily, end: 12.5 }, 'end 12.5 is not a time'],
      [{ ...daily, endOffset: undefined }, 'endOffset undefined is invalid'],
      [{ ...daily, timezone: 'Nowhere' }, 'timezone "Nowhere" is not a known'],
      [{ ...daily, param: 3 }, 'param 3 is invalid'],
    ];
    for (const [spec, message] of cases) {
      expect(configError(() => checkPartitionsSpec(spec, 'pipeline sales')).message).toContain(
        message,
      );
    }
  });
});

describe('key formats', () => {
  it('writes each granularity as documented, in time order', () => {
    const now = at('2026-03-01T00:00:00Z');
    expect(partitionKeys(time('hourly'), now, { limit: 2 })).toEqual([
      '2026-02-28T22:00',
      '2026-02-28T23:00',
    ]);
    expect(partitionKeys(time('daily'), now, { limit: 2 })).toEqual(['2026-02-27', '2026-02-28']);
    expect(partitionKeys(time('weekly'), now, { limit: 2 })).toEqual(['2026-02-09', '2026-02-16']);
    expect(partitionKeys(time('monthly'), now)).toEqual(['2026-01', '2026-02']);
    expect(partitionKeyFormat('hourly')).toBe('YYYY-MM-DDTHH:00');
    expect(partitionKeyFormat('monthly')).toBe('YYYY-MM');
  });

  it('gives each granularity windows of its calendar length', () => {
    const now = at('2026-07-01T00:00:00Z');
    expect(windows(time('hourly'), now).every((w) => hours(w) === 1)).toBe(true);
    expect(windows(time('daily'), now).every((w) => hours(w) === 24)).toBe(true);
    expect(windows(time('weekly'), now).every((w) => hours(w) === 7 * 24)).toBe(true);
    expect(windows(time('monthly'), now).map((w) => hours(w) / 24)).toEqual([
      31, 28, 31, 30, 31, 30,
    ]);
  });
});

describe('daylight saving time', () => {
  const berlin = { timezone: 'Europe/Berlin' };
  const newYork = { timezone: 'America/New_York' };

  it('makes a day 23 hours when clocks spring forward and 25 when they fall back', () => {
    const berlinDaily = time('daily', berlin);
    expect(hours(partitionWindow(berlinDaily, '2026-03-28')!)).toBe(24);
    expect(hours(partitionWindow(berlinDaily, '2026-03-29')!)).toBe(23);
    expect(hours(partitionWindow(berlinDaily, '2026-10-25')!)).toBe(25);
    expect(partitionWindow(berlinDaily, '2026-03-30')!.start).toBe(at('2026-03-30T00:00:00+02:00'));
    const nyDaily = time('daily', newYork);
    expect(hours(partitionWindow(nyDaily, '2026-03-08')!)).toBe(23);
    expect(hours(partitionWindow(nyDaily, '2026-11-01')!)).toBe(25);
    // The week and the month holding the change are an hour short or long too.
    expect(hours(partitionWindow(time('weekly', berlin), '2026-03-23')!)).toBe(7 * 24 - 1);
    expect(hours(partitionWindow(time('monthly', newYork), '2026-11')!)).toBe(30 * 24 + 1);
  });

  it('skips the hour clocks jump over in Europe/Berlin and America/New_York', () => {
    const keys = partitionKeys(
      time('hourly', { ...berlin, start: '2026-03-29T00:00' }),
      at('2026-03-29T05:00:00+02:00'),
    );
    expect(keys).toEqual([
      '2026-03-29T00:00',
      '2026-03-29T01:00',
      '2026-03-29T03:00',
      '2026-03-29T04:00',
    ]);
    const ny = time('hourly', { ...newYork, start: '2026-03-08T00:00' });
    expect(partitionKeys(ny, at('2026-03-08T04:00:00-04:00'))).toEqual([
      '2026-03-08T00:00',
      '2026-03-08T01:00',
      '2026-03-08T03:00',
    ]);
    expect(hours(partitionWindow(ny, '2026-03-08T01:00')!)).toBe(1);
    const error = inputError(() => checkPartitionKey(ny, '2026-03-08T02:00', at('2027-01-01')));
    expect(error.issues[0]!.message).toContain(
      '"2026-03-08T02:00" does not exist in America/New_York: the clocks skip it',
    );
  });

  it('gives a repeated hour two keys, the second with its offset, in time order', () => {
    const spec = time('hourly', { ...berlin, start: '2026-10-25T00:00' });
    const list = windows(spec, at('2026-10-25T05:00:00+01:00'));
    expect(list.map((w) => w.key)).toEqual([
      '2026-10-25T00:00',
      '2026-10-25T01:00',
      '2026-10-25T02:00',
      '2026-10-25T02:00+01:00',
      '2026-10-25T03:00',
      '2026-10-25T04:00',
    ]);
    expect(list.every((w) => hours(w) === 1)).toBe(true);
    expect(list[2]!.start).toBe(at('2026-10-25T02:00:00+02:00'));
    expect(list[3]!.start).toBe(at('2026-10-25T02:00:00+01:00'));
    expect([...list.map((w) => w.key)].sort()).toEqual(list.map((w) => w.key));

    const ny = time('hourly', { ...newYork, start: '2026-11-01T00:00' });
    expect(partitionKeys(ny, at('2026-11-01T03:00:00-05:00'))).toEqual([
      '2026-11-01T00:00',
      '2026-11-01T01:00',
      '2026-11-01T01:00-05:00',
      '2026-11-01T02:00',
    ]);
    expect(partitionWindow(ny, '2026-11-01T01:00-05:00')!.start).toBe(
      at('2026-11-01T01:00:00-05:00'),
    );
  });

  it('refuses an offset on an hour that is not repeated, or one the zone does not have', () => {
    const spec = time('hourly', berlin);
    const now = at('2027-01-01T00:00:00Z');
    expect(
      inputError(() => checkPartitionKey(spec, '2026-10-25T02:00+02:00', now)).issues[0]!.message,
    ).toContain('"2026-10-25T02:00+02:00" is written "2026-10-25T02:00": only a repeated hour');
    expect(
      inputError(() => checkPartitionKey(spec, '2026-10-25T03:00+02:00', now)).issues[0]!.message,
    ).toContain('Europe/Berlin is not at UTC+02:00 at 2026-10-25T03:00');
    expect(() => checkPartitionKey(spec, '2026-10-25T02:00+01:00', now)).not.toThrow();
  });

  it('starts a day at the jump where clocks skip midnight (America/Sao_Paulo, 2018)', () => {
    const spec = time('daily', { timezone: 'America/Sao_Paulo', start: '2018-11-02' });
    const list = windows(spec, at('2018-11-06T12:00:00Z'));
    expect(list.map((w) => [w.key, hours(w)])).toEqual([
      ['2018-11-02', 24],
      ['2018-11-03', 24],
      ['2018-11-04', 23],
      ['2018-11-05', 24],
    ]);
    // 00:00 did not exist: the day began at 01:00 -02:00, the moment of the jump.
    expect(list[2]!.start).toBe(at('2018-11-04T01:00:00-02:00'));
  });

  it('has no partition for a date the calendar skipped (Pacific/Apia, 2011-12-30)', () => {
    const spec = time('daily', { timezone: 'Pacific/Apia', start: '2011-12-28' });
    expect(windows(spec, at('2012-01-01T00:00:00Z')).map((w) => w.key)).toEqual([
      '2011-12-28',
      '2011-12-29',
      '2011-12-31',
    ]);
    expect(
      inputError(() => checkPartitionKey(spec, '2011-12-30', at('2013-01-01'))).issues[0]!.message,
    ).toContain('does not exist in Pacific/Apia: the calendar skips it');
  });

  it('starts partitions exactly where croner’s calendar crons tick', () => {
    const crons: Record<Granularity, string> = {
      hourly: '0 * * * *',
      daily: '0 0 * * *',
      weekly: '0 0 * * 1',
      monthly: '0 0 1 * *',
    };
    const zones: [string, string, string][] = [
      ['Europe/Berlin', '2026-01-01', '2027-01-01'],
      ['America/New_York', '2026-01-01', '2027-01-01'],
      ['America/Sao_Paulo', '2018-01-01', '2019-06-01'],
      ['Asia/Kolkata', '2026-01-01', '2026-06-01'],
      ['Asia/Kathmandu', '2026-01-01', '2026-03-01'],
      ['Australia/Sydney', '2026-03-01', '2026-10-15'],
      ['Pacific/Chatham', '2026-03-01', '2026-10-01'],
      ['Australia/Lord_Howe', '2026-03-01', '2026-10-15'],
    ];
    for (const [timezone, start, until] of zones) {
      for (const granularity of ['hourly', 'daily', 'weekly', 'monthly'] as const) {
        const spec = time(granularity, { timezone, start: `${start}T00:00` });
        const starts = windows(spec, at(`${until}T00:00:00Z`)).map((w) => w.start);
        const cron = {
          cron: crons[granularity],
          everyMs: null,
          timezone,
          start: spec.start,
          end: null,
          jitterMs: 0,
          catchUp: 'all' as const,
          maxCatchUp: 1,
        };
        const ticks: number[] = [];
        for (let t = nextTick(cron, spec.start - 1); ticks.length < starts.length;) {
          ticks.push(t!);
          t = nextTick(cron, t!);
        }
        expect({ timezone, granularity, starts }).toEqual({ timezone, granularity, starts: ticks });
      }
    }
  });
});

describe('calendar edges', () => {
  it('knows month ends and leap days', () => {
    const daily = time('daily', { start: '2028-02-27' });
    expect(partitionKeys(daily, at('2028-03-02T00:00:00Z'))).toEqual([
      '2028-02-27',
      '2028-02-28',
      '2028-02-29',
      '2028-03-01',
    ]);
    expect(
      inputError(() => checkPartitionKey(time('daily'), '2027-02-29', at('2030-01-01'))).issues[0]!
        .message,
    ).toContain('"2027-02-29" is not a day');
    const monthly = time('monthly', { start: '2027-12' });
    expect(windows(monthly, at('2028-05-01T00:00:00Z')).map((w) => [w.key, hours(w) / 24])).toEqual(
      [
        ['2027-12', 31],
        ['2028-01', 31],
        ['2028-02', 29],
        ['2028-03', 31],
        ['2028-04', 30],
      ],
    );
  });

  it('names a week by its Monday, across years', () => {
    const weekly = time('weekly', { start: '2026-12-20' });
    expect(partitionKeys(weekly, at('2027-01-12T00:00:00Z'))).toEqual([
      '2026-12-14',
      '2026-12-21',
      '2026-12-28',
      '2027-01-04',
    ]);
    const error = inputError(() => checkPartitionKey(weekly, '2026-12-30', at('2028-01-01')));
    expect(error.issues[0]!.message).toContain(
      '"2026-12-30" is not a Monday; a week is named by the Monday it starts on (2026-12-28)',
    );
  });
});

describe('partitionKeys', () => {
  const daily = time('daily', { timezone: 'Europe/Berlin' });

  it('lists the partitions complete at now', () => {
    expect(partitionKeys(daily, at('2026-01-01T00:00:00+01:00'))).toEqual([]);
    expect(partitionKeys(daily, at('2026-01-01T23:59:59+01:00'))).toEqual([]);
    expect(partitionKeys(daily, at('2026-01-02T00:00:00+01:00'))).toEqual(['2026-01-01']);
    expect(partitionKeys(daily, at('2026-01-03T12:00:00+01:00'))).toEqual([
      '2026-01-01',
      '2026-01-02',
    ]);
    expect(partitionKeys(daily, at('2025-06-01T00:00:00Z'))).toEqual([]);
  });

  it('adds endOffset partitions past the latest complete one, or leaves some out', () => {
    const now = at('2026-01-03T12:00:00+01:00');
    const keys = (endOffset: number) => partitionKeys({ ...daily, endOffset }, now);
    expect(keys(1)).toEqual(['2026-01-01', '2026-01-02', '2026-01-03']);
    expect(keys(2)).toEqual(['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04']);
    expect(keys(-1)).toEqual(['2026-01-01']);
    expect(keys(-5)).toEqual([]);
    // The first partition exists while it runs, with endOffset 1.
    expect(partitionKeys({ ...daily, endOffset: 1 }, at('2026-01-01T08:00:00+01:00'))).toEqual([
      '2026-01-01',
    ]);
  });

  it('never lists a partition starting at or after end', () => {
    const ending = time('daily', { end: '2026-01-03T06:00' });
    expect(partitionKeys(ending, at('2027-01-01T00:00:00Z'))).toEqual([
      '2026-01-01',
      '2026-01-02',
      '2026-01-03',
    ]);
    const exact = time('daily', { end: '2026-01-03', endOffset: 5 });
    expect(partitionKeys(exact, at('2026-01-02T12:00:00Z'))).toEqual(['2026-01-01', '2026-01-02']);
    expect(
      inputError(() => checkPartitionKey(exact, '2026-01-03', at('2027-01-01'))).issues[0]!.message,
    ).toContain('"2026-01-03" is after the last partition');
  });

  it('returns the latest keys with a limit', () => {
    const now = at('2026-01-06T00:00:00+01:00');
    expect(partitionKeys(daily, now, { limit: 2 })).toEqual(['2026-01-04', '2026-01-05']);
    expect(partitionKeys(daily, now, { limit: 50 })).toHaveLength(5);
    expect(partitionKeys(daily, now, { limit: 0 })).toEqual([]);
    expect(partitionKeys(regions, now, { limit: 2 })).toEqual(['us', 'apac']);
    expect(partitionKeys(regions, now, { limit: 0 })).toEqual([]);
    expect(configError(() => partitionKeys(daily, now, { limit: -1 })).message).toContain(
      'limit -1 must be a whole number',
    );
    expect(configError(() => partitionKeys(daily, Number.NaN)).message).toContain(
      'now NaN is not a time',
    );
    expect(partitionKeys(daily, Number.POSITIVE_INFINITY, { limit: 1 })).toHaveLength(1);
  });

  it('lists ten years of hourly keys without trouble, and the latest ones at once', () => {
    const spec = time('hourly', { timezone: 'Europe/Berlin', start: '2016-01-01' });
    const now = at('2026-01-01T00:00:00+01:00');
    const keys = partitionKeys(spec, now);
    // 87,672 hours in ten years with two leap days; the DST changes cancel out.
    expect(keys).toHaveLength(87_672);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.every((k, i) => i === 0 || keys[i - 1]! < k)).toBe(true);
    expect(keys.filter((k) => k.includes('+'))).toHaveLength(10);
    expect(keys.at(-1)).toBe('2025-12-31T23:00');
    expect(partitionKeys(spec, now, { limit: 3 })).toEqual(keys.slice(-3));
  });

  it('refuses to list more than MAX_PARTITION_KEYS keys without a limit', () => {
    const spec = time('hourly', { start: '1900-01-01' });
    const error = configError(() => partitionKeys(spec, at('2026-01-01T00:00:00Z')));
    expect(error.code).toBe('too_many_partitions');
    expect(error.message).toContain(`more than ${MAX_PARTITION_KEYS} hourly partitions`);
    expect(partitionKeys(spec, at('2026-01-01T00:00:00Z'), { limit: 1 })).toEqual([
      '2025-12-31T23:00',
    ]);
  });
});

describe('checkPartitionKey', () => {
  const spec = time('daily', { timezone: 'Europe/Berlin', param: 'day' });
  const now = at('2026-02-01T12:00:00+01:00');

  it('accepts the keys that exist', () => {
    for (const key of ['2026-01-01', '2026-01-15', '2026-01-31']) {
      expect(() => checkPartitionKey(spec, key, now)).not.toThrow();
    }
    expect(() => checkPartitionKey(regions, 'apac', now)).not.toThrow();
  });

  it('names the key, the param, the format and the range', () => {
    const error = inputError(() => checkPartitionKey(spec, '2026-1-5', now));
    expect(error.code).toBe('invalid_input');
    expect(error.issues).toEqual([
      {
        path: ['day'],
        message:
          '"2026-1-5" is not a day; expected a day as YYYY-MM-DD in Europe/Berlin, from 2026-01-01 to 2026-01-31',
      },
    ]);
    expect(error.message).toBe(
      'invalid partition key: day: "2026-1-5" is not a day; expected a day as YYYY-MM-DD in Europe/Berlin, from 2026-01-01 to 2026-01-31',
    );
  });

  it('refuses keys before the first, not yet complete, or not strings', () => {
    const message = (key: unknown, when = now) =>
      inputError(() => checkPartitionKey(spec, key, when)).issues[0]!.message;
    expect(message('2025-12-31')).toContain('"2025-12-31" is before the first partition');
    expect(message('2026-02-01')).toContain(
      '"2026-02-01" does not exist yet (it ends at 2026-02-01T23:00:00.000Z)',
    );
    expect(message(20260101)).toContain('the partition key must be a string, got 20260101');
    expect(message('2026-01-01', at('2026-01-01T12:00:00Z'))).toContain(
      'no partition exists yet: the first, 2026-01-01, ends at 2026-01-01T23:00:00.000Z',
    );
  });

  it('lists the static keys for an unknown one', () => {
    const error = inputError(() => checkPartitionKey(regions, 'EU', now));
    expect(error.issues).toEqual([
      {
        path: ['region'],
        message: '"EU" is not a partition; use one of the partition keys: eu, us, apac',
      },
    ]);
  });
});

describe('partitionRange', () => {
  const spec = time('daily');
  const now = at('2026-01-06T00:00:00Z');

  it('lists from and to inclusive, either defaulting to the first or the latest key', () => {
    expect(partitionRange(spec, '2026-01-02', '2026-01-04', now)).toEqual([
      '2026-01-02',
      '2026-01-03',
      '2026-01-04',
    ]);
    expect(partitionRange(spec, '2026-01-03', '2026-01-03', now)).toEqual(['2026-01-03']);
    expect(partitionRange(spec, undefined, '2026-01-02', now)).toEqual([
      '2026-01-01',
      '2026-01-02',
    ]);
    expect(partitionRange(spec, '2026-01-04', null, now)).toEqual(['2026-01-04', '2026-01-05']);
    expect(partitionRange(spec, undefined, undefined, now)).toEqual(partitionKeys(spec, now));
    expect(partitionRange(spec, undefined, undefined, at('2025-01-01T00:00:00Z'))).toEqual([]);
    expect(partitionRange(regions, 'us', undefined, now)).toEqual(['us', 'apac']);
    expect(partitionRange(regions, undefined, 'us', now)).toEqual(['eu', 'us']);
  });

  it('refuses unknown keys and a from after to', () => {
    expect(inputError(() => partitionRange(spec, '2026-01-04', '2026-01-02', now)).issues).toEqual([
      {
        path: ['key'],
        message: 'from "2026-01-04" is after to "2026-01-02"; give the earlier key first',
      },
    ]);
    expect(inputError(() => partitionRange(regions, 'apac', 'eu', now)).message).toContain(
      'from "apac" is after to "eu"',
    );
    expect(inputError(() => partitionRange(spec, '2026-01-09', undefined, now)).message).toContain(
      'does not exist yet',
    );
    expect(inputError(() => partitionRange(regions, undefined, 'mars', now)).message).toContain(
      '"mars" is not a partition',
    );
  });
});

describe('partitionWindow, partitionAt, partitionOf', () => {
  it('gives the window of a time key, null for a static one', () => {
    const spec = time('daily', { timezone: 'Europe/Berlin' });
    expect(partitionWindow(spec, '2026-05-01')).toEqual({
      start: at('2026-05-01T00:00:00+02:00'),
      end: at('2026-05-02T00:00:00+02:00'),
    });
    expect(partitionWindow(regions, 'eu')).toBeNull();
    // Any key of the calendar has a window, existing yet or not; a malformed one has none.
    expect(partitionWindow(spec, '2099-01-01')).not.toBeNull();
    expect(inputError(() => partitionWindow(spec, 'May 1')).issues[0]!.message).toBe(
      '"May 1" is not a day; expected a day as YYYY-MM-DD in Europe/Berlin, from 2026-01-01',
    );
  });

  it('picks the latest complete partition at a time, as a schedule would', () => {
    const spec = time('daily', { timezone: 'Europe/Berlin' });
    expect(partitionAt(spec, at('2026-03-10T00:05:00+01:00'))).toBe('2026-03-09');
    expect(partitionAt(spec, at('2026-03-09T23:59:00+01:00'))).toBe('2026-03-08');
    expect(partitionAt(spec, at('2026-01-01T12:00:00+01:00'))).toBeNull();
    expect(partitionAt({ ...spec, endOffset: 1 }, at('2026-03-10T00:05:00+01:00'))).toBe(
      '2026-03-10',
    );
    expect(partitionAt(time('hourly'), at('2026-03-10T10:05:00Z'))).toBe('2026-03-10T09:00');
    expect(partitionAt(time('monthly'), at('2026-03-10T10:05:00Z'))).toBe('2026-02');
    expect(partitionAt(time('daily', { end: '2026-02-01' }), at('2027-01-01T00:00:00Z'))).toBe(
      '2026-01-31',
    );
    expect(partitionAt(regions, at('2026-03-10T00:00:00Z'))).toBeNull();
  });

  it('reads a run’s partition from its params', () => {
    const spec = time('daily', { param: 'day' });
    expect(partitionOf(spec, { day: '2026-01-02', region: 'eu' })).toEqual({
      key: '2026-01-02',
      start: at('2026-01-02T00:00:00Z'),
      end: at('2026-01-03T00:00:00Z'),
    });
    expect(partitionOf(regions, { region: 'us' })).toEqual({ key: 'us', start: null, end: null });
    expect(partitionOf(spec, { day: 'garbage' })).toEqual({
      key: 'garbage',
      start: null,
      end: null,
    });
    expect(partitionOf(spec, {})).toBeNull();
    expect(partitionOf(undefined, { day: '2026-01-02' })).toBeNull();
  });
});

describe('describePartitions', () => {
  it('says it in one line', () => {
    expect(describePartitions(time('daily', { timezone: 'Europe/Berlin' }))).toBe(
      'daily from 2026-01-01 (Europe/Berlin)',
    );
    expect(describePartitions(time('hourly', { end: '2027-01-01', endOffset: 1 }))).toBe(
      'hourly from 2026-01-01T00:00 to 2026-12-31T23:00 (UTC), endOffset 1',
    );
    expect(describePartitions(time('weekly'))).toBe('weekly from 2025-12-29 (UTC)');
    expect(describePartitions(regions)).toBe('3 static keys: eu, us, apac');
    expect(describePartitions(staticPartitions(['only'], { param: 'k' }))).toBe(
      '1 static key: only',
    );
    const many = staticPartitions(
      Array.from({ length: 12 }, (_, i) => `k${i}`),
      { param: 'k' },
    );
    expect(describePartitions(many)).toBe('12 static keys: k0, k1, k2, k3, k4, k5, k6, k7, …');
  });
});

describe('ZoneClock', () => {
  it('finds the first instant of a wall-clock time', () => {
    const berlin = ZoneClock.of('Europe/Berlin');
    expect(berlin.offsetAt(at('2026-07-01T00:00:00Z'))).toBe(2 * HOUR);
    expect(berlin.offsetAt(at('2026-01-01T00:00:00Z'))).toBe(HOUR);
    // Skipped: the moment of the jump. Repeated: the first occurrence.
    expect(berlin.instantOf(Date.UTC(2026, 2, 29, 2, 30))).toBe(at('2026-03-29T01:00:00Z'));
    expect(berlin.instantOf(Date.UTC(2026, 9, 25, 2, 30))).toBe(at('2026-10-25T00:30:00Z'));
    expect(berlin.transitionsIn(at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z'))).toEqual([
      at('2026-03-29T01:00:00Z'),
      at('2026-10-25T01:00:00Z'),
    ]);
    expect(ZoneClock.of('UTC').instantOf(DAY)).toBe(DAY);
  });
});
