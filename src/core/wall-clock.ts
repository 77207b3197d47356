/**
 * Wall-clock time in an IANA time zone, as plain arithmetic: the UTC offset at an instant, and
 * the instant a wall-clock time first occurs. Partitions need millions of these conversions
 * (ten years of hourly keys), and `Intl.DateTimeFormat` costs microseconds per call, so each
 * zone's offsets are read once per year into a table of transitions and looked up from there.
 *
 * ```ts
 * const berlin = ZoneClock.of('Europe/Berlin');
 * berlin.offsetAt(Date.parse('2026-07-01T00:00:00Z')); // 7_200_000
 * berlin.instantOf(Date.UTC(2026, 2, 29, 2)); // 02:00 does not exist: the jump to 03:00 CEST
 * ```
 *
 * A wall-clock time is written as milliseconds too: the UTC instant whose UTC fields read like
 * the local clock (`Date.UTC(2026, 2, 29, 2)` for 02:00 on 29 March).
 *
 * Limits: a year's table samples the offset once a day and bisects each change to the second, so
 * two transitions less than a day apart that cancel out are not seen (none occur in the time zone
 * database since 1970). Conversions assume at most one transition within a day of the instant.
 */

const SECOND = 1000;
const DAY = 86_400_000;

/** The offsets of one UTC year: `offsets[i]` applies from `starts[i]` until the next start. */
interface YearTable {
  from: number;
  to: number;
  starts: number[];
  offsets: number[];
  /** Whether `from` itself is a transition (the offset just before it differs). */
  opensWithTransition: boolean;
}

const ZONE_CACHE_SIZE = 100;
const YEAR_CACHE_SIZE = 400;
const zones = new Map<string, ZoneClock>();

export class ZoneClock {
  readonly timezone: string;
  readonly #format: Intl.DateTimeFormat | null;
  readonly #years = new Map<number, YearTable>();
  #last: YearTable | null = null;

  private constructor(timezone: string) {
    this.timezone = timezone;
    this.#format =
      timezone === 'UTC'
        ? null
        : new Intl.DateTimeFormat('en-US', {
            timeZone: timezone,
            year: 'numeric',
            month: 'numeric',
            day: 'numeric',
            hour: 'numeric',
            minute: 'numeric',
            second: 'numeric',
            hourCycle: 'h23',
          });
  }

  /** The clock of `timezone` (shared); throws a RangeError for an unknown zone. */
  static of(timezone: string): ZoneClock {
    let zone = zones.get(timezone);
    if (!zone) {
      zone = new ZoneClock(timezone);
      if (zones.size >= ZONE_CACHE_SIZE) zones.clear();
      zones.set(timezone, zone);
    }
    return zone;
  }

  /** The zone's UTC offset at instant `t`, in ms (positive east of Greenwich). */
  offsetAt(t: number): number {
    if (this.#format === null) return 0;
    const table = this.#tableOf(t);
    const { starts, offsets } = table;
    let i = starts.length - 1;
    while (i > 0 && starts[i]! > t) i--;
    return offsets[i]!;
  }

  /** The wall-clock reading at instant `t`. */
  wall(t: number): number {
    return t + this.offsetAt(t);
  }

  /** The instants in `(after, upTo]` at which the offset changes, ascending. */
  transitionsIn(after: number, upTo: number): number[] {
    if (this.#format === null || !(upTo > after) || !Number.isFinite(upTo - after)) return [];
    const found: number[] = [];
    let table = this.#tableOf(after);
    for (;;) {
      const { starts } = table;
      for (let i = table.opensWithTransition ? 0 : 1; i < starts.length; i++) {
        const s = starts[i]!;
        if (s > after && s <= upTo) found.push(s);
      }
      if (table.to > upTo) return found;
      table = this.#tableOf(table.to);
    }
  }

  /**
   * The first instant whose wall clock reads `wall` or later: the instant of `wall` when it
   * occurs once; its first occurrence when clocks fall back over it; and the moment clocks
   * jump when they spring forward over it.
   */
  instantOf(wall: number): number {
    if (this.#format === null) return wall;
    const before = this.offsetAt(wall - DAY);
    const after = this.offsetAt(wall + DAY);
    const a = wall - before;
    if (before === after) return a;
    const b = wall - after;
    const aValid = this.offsetAt(a) === before;
    const bValid = this.offsetAt(b) === after;
    if (aValid && bValid) return Math.min(a, b);
    if (aValid) return a;
    if (bValid) return b;
    // Clocks jumped over `wall`: the jump lies between the two readings.
    return this.transitionsIn(Math.min(a, b), Math.max(a, b))[0] ?? Math.max(a, b);
  }

  #tableOf(t: number): YearTable {
    const last = this.#last;
    if (last !== null && t >= last.from && t < last.to) return last;
    const year = new Date(t).getUTCFullYear();
    let table = this.#years.get(year);
    if (!table) {
      table = this.#build(year);
      if (this.#years.size >= YEAR_CACHE_SIZE) this.#years.clear();
      this.#years.set(year, table);
    }
    this.#last = table;
    return table;
  }

  /** Samples the offset daily over the year, bisecting every change to the second. */
  #build(year: number): YearTable {
    const from = Date.UTC(year, 0, 1);
    const to = Date.UTC(year + 1, 0, 1);
    const first = this.#read(from);
    const starts = [from];
    const offsets = [first];
    let previous = from;
    let offset = first;
    for (let t = from + DAY; previous < to - SECOND; t += DAY) {
      const sample = Math.min(t, to - SECOND);
      const o = this.#read(sample);
      if (o !== offset) {
        let lo = previous;
        let hi = sample;
        while (hi - lo > SECOND) {
          const mid = lo + Math.floor((hi - lo) / 2 / SECOND) * SECOND;
          if (this.#read(mid) === offset) lo = mid;
          else hi = mid;
        }
        starts.push(hi);
        offsets.push(o);
        offset = o;
      }
      previous = sample;
    }
    return {
      from,
      to,
      starts,
      offsets,
      opensWithTransition: this.#read(from - SECOND) !== first,
    };
  }

  /** The offset at `t` as `Intl` reports it (whole seconds). */
  #read(t: number): number {
    const at = Math.floor(t / SECOND) * SECOND;
    let [year, month, day, hour, minute, second] = [1970, 1, 1, 0, 0, 0];
    for (const part of this.#format!.formatToParts(at)) {
      const n = Number(part.value);
      if (part.type === 'year') year = n;
      else if (part.type === 'month') month = n;
      else if (part.type === 'day') day = n;
      else if (part.type === 'hour') hour = n;
      else if (part.type === 'minute') minute = n;
      else if (part.type === 'second') second = n;
    }
    const wall = new Date(0);
    wall.setUTCFullYear(year, month - 1, day);
    wall.setUTCHours(hour, minute, second, 0);
    return wall.getTime() - at;
  }
}

/** Whether `timezone` is an IANA time zone this runtime knows. */
export function isTimeZone(timezone: unknown): timezone is string {
  if (typeof timezone !== 'string' || timezone === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}
