/**
 * The calendars of time partitions: where each partition starts, as an instant, and how its key
 * is written and read. Key formats and the DST rules are documented in `partitions.ts`; the
 * time-zone arithmetic is `wall-clock.ts`.
 */
import type { Granularity } from './partitions.js';
import { ZoneClock } from './wall-clock.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

const show = (key: string) => JSON.stringify(key);

export interface Calendar {
  /** Start of the partition that contains instant `t`. */
  floor(t: number): number;
  /** Start of the partition after the one starting at `start`. */
  next(start: number): number;
  /** The key of the partition starting at `start`. */
  keyOf(start: number): string;
  /** The start of a key's partition, or why the key names none. */
  parse(key: string): number | { error: string };
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** `2026-03-29` of a wall-clock time. */
function dayText(wall: number): string {
  const d = new Date(wall);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

/** `+01:00` (`+00:53:28` for an offset with seconds, as old local mean times have). */
function offsetText(offset: number): string {
  const sign = offset < 0 ? '-' : '+';
  const seconds = Math.round(Math.abs(offset) / 1000);
  const text = `${sign}${pad2(Math.floor(seconds / 3600))}:${pad2(Math.floor(seconds / 60) % 60)}`;
  return seconds % 60 ? `${text}:${pad2(seconds % 60)}` : text;
}

/** The wall-clock time of calendar fields, or null when they name no date (`2026-02-30`). */
export function wallOf(year: number, month: number, day = 1, hour = 0, minute = 0, second = 0) {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getUTCDate() === day ? d.getTime() : null;
}

/** Hours: every instant the local clock reads a whole hour. */
function hourlyCalendar(zone: ZoneClock): Calendar {
  const floor = (t: number): number => {
    let cursor = t;
    for (;;) {
      const offset = zone.offsetAt(cursor);
      const start = Math.floor((cursor + offset) / HOUR) * HOUR - offset;
      // The offset changed since that whole hour: the latest one is before the change.
      const changes = zone.transitionsIn(start, cursor);
      if (changes.length === 0) return start;
      cursor = changes[changes.length - 1]! - 1;
    }
  };
  const next = (start: number): number => {
    let cursor = start;
    let strict = true;
    for (;;) {
      const offset = zone.offsetAt(cursor);
      const wall = cursor + offset;
      const hour = strict ? Math.floor(wall / HOUR) + 1 : Math.ceil(wall / HOUR);
      const candidate = hour * HOUR - offset;
      const changes = zone.transitionsIn(cursor, candidate);
      if (changes.length === 0) return candidate;
      // The offset changes first: read on from the change, which may itself be a whole hour.
      cursor = changes[0]!;
      strict = false;
    }
  };
  const keyOf = (start: number): string => {
    const offset = zone.offsetAt(start);
    const wall = start + offset;
    const key = `${dayText(wall)}T${pad2(new Date(wall).getUTCHours())}:00`;
    // The hour already began once before: clocks fell back over it.
    return zone.instantOf(wall) < start ? key + offsetText(offset) : key;
  };
  const parse = (key: string): number | { error: string } => {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):00(?:([+-])(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(
      key,
    );
    const wall = m ? wallOf(+m[1]!, +m[2]!, +m[3]!, +m[4]!) : null;
    if (!m || wall === null) return { error: `${show(key)} is not an hour` };
    const plain = key.slice(0, 16);
    const first = zone.instantOf(wall);
    if (m[5] === undefined) {
      if (zone.wall(first) !== wall) {
        return { error: `${show(key)} does not exist in ${zone.timezone}: the clocks skip it` };
      }
      return first;
    }
    const offset = (m[5] === '-' ? -1 : 1) * ((+m[6]! * 60 + +m[7]!) * 60 + +(m[8] ?? 0)) * 1000;
    const start = wall - offset;
    if (zone.offsetAt(start) !== offset) {
      return {
        error: `${show(key)}: ${zone.timezone} is not at UTC${offsetText(offset)} at ${plain}`,
      };
    }
    if (start === first) {
      return {
        error: `${show(key)} is written ${show(plain)}: only a repeated hour has an offset`,
      };
    }
    return start;
  };
  return { floor, next, keyOf, parse };
}

/**
 * Days, weeks or months: partitions that start at local midnight of the dates `align` gives.
 * `align` takes a wall-clock time to the date its partition starts on, `step` moves a start date
 * `n` partitions on.
 */
function dateCalendar(
  zone: ZoneClock,
  align: (wall: number) => number,
  step: (date: number, n: number) => number,
  text: (date: number) => string,
  parseDate: (key: string) => number | { error: string },
): Calendar {
  const floor = (t: number): number => {
    let date = align(zone.wall(t));
    // Clocks that fell back over midnight read yesterday's date after today began.
    while (zone.instantOf(step(date, 1)) <= t) date = step(date, 1);
    return zone.instantOf(date);
  };
  const next = (start: number): number => {
    let date = align(zone.wall(start));
    for (;;) {
      date = step(date, 1);
      const n = zone.instantOf(date);
      // A date the calendar skipped starts where the next one does: it has no partition.
      if (n > start) return n;
    }
  };
  const keyOf = (start: number): string => text(align(zone.wall(start)));
  const parse = (key: string): number | { error: string } => {
    const date = parseDate(key);
    if (typeof date !== 'number') return date;
    const start = zone.instantOf(date);
    if (zone.instantOf(step(date, 1)) <= start) {
      return { error: `${show(key)} does not exist in ${zone.timezone}: the calendar skips it` };
    }
    return start;
  };
  return { floor, next, keyOf, parse };
}

const dayOf = (wall: number) => Math.floor(wall / DAY) * DAY;

function parseDay(key: string, what: string): number | { error: string } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key);
  const wall = m ? wallOf(+m[1]!, +m[2]!, +m[3]!) : null;
  return wall ?? { error: `${show(key)} is not ${what}` };
}

/** The Monday of the ISO week of a wall-clock time (1970-01-01 was a Thursday). */
const mondayOf = (wall: number) => {
  const days = Math.floor(wall / DAY);
  return (days - ((((days + 3) % 7) + 7) % 7)) * DAY;
};

function monthOf(wall: number): number {
  const d = new Date(wall);
  return wallOf(d.getUTCFullYear(), d.getUTCMonth() + 1)!;
}

function addMonths(month: number, n: number): number {
  const d = new Date(month);
  d.setUTCMonth(d.getUTCMonth() + n, 1);
  return d.getTime();
}

const calendars = new Map<string, Calendar>();

export function calendarOf(granularity: Granularity, timezone: string): Calendar {
  const cacheKey = `${granularity} ${timezone}`;
  let calendar = calendars.get(cacheKey);
  if (calendar) return calendar;
  const zone = ZoneClock.of(timezone);
  switch (granularity) {
    case 'hourly':
      calendar = hourlyCalendar(zone);
      break;
    case 'daily':
      calendar = dateCalendar(
        zone,
        dayOf,
        (date, n) => date + n * DAY,
        dayText,
        (key) => parseDay(key, 'a day'),
      );
      break;
    case 'weekly':
      calendar = dateCalendar(
        zone,
        mondayOf,
        (date, n) => date + 7 * n * DAY,
        dayText,
        (key) => {
          const date = parseDay(key, 'a day');
          if (typeof date !== 'number' || mondayOf(date) === date) return date;
          return {
            error: `${show(key)} is not a Monday; a week is named by the Monday it starts on (${dayText(mondayOf(date))})`,
          };
        },
      );
      break;
    case 'monthly':
      calendar = dateCalendar(
        zone,
        monthOf,
        addMonths,
        (month) => dayText(month).slice(0, 7),
        (key) => {
          const m = /^(\d{4})-(\d{2})$/.exec(key);
          const wall = m ? wallOf(+m[1]!, +m[2]!) : null;
          return wall ?? { error: `${show(key)} is not a month` };
        },
      );
      break;
  }
  if (calendars.size >= 400) calendars.clear();
  calendars.set(cacheKey, calendar);
  return calendar;
}
