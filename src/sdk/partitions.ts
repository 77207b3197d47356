/**
 * Partitions of a pipeline, declared with it, and the run limit a definition can set:
 *
 * ```ts
 * import { pipeline, partitions } from 'weft';
 *
 * export const daily = pipeline('daily_sales', {
 *   params: z.object({ day: z.string(), region: z.string().default('eu') }),
 *   partitions: partitions.daily({ param: 'day', start: '2026-01-01', timezone: 'Europe/Berlin' }),
 *   maxActiveRuns: 2,
 * }, (p) => { … });
 * ```
 *
 * A partition is a value of one string param (`day`): a run computes one partition, a backfill
 * runs a range of them, the UI shows their grid. `partitions.hourly`, `daily`, `weekly` and
 * `monthly` follow the calendar of a time zone; `partitions.static(['eu', 'us'], { param })` is a
 * fixed set. Key formats, DST and which keys exist at a time: see `core/partitions.ts`.
 *
 * The builders keep the param's name as a literal type, so naming a param the pipeline does not
 * have is a compile error; `pipeline()` checks it again when the file loads (with a "did you
 * mean"), and that the param's schema accepts the keys.
 */
import { ConfigError } from '../core/errors.js';
import {
  checkPartitionKey,
  partitionOf,
  staticPartitions,
  timePartitions,
  type Granularity,
  type Partition,
  type PartitionsSpec,
  type StaticPartitionsSpec,
  type TimePartitionsOptions,
  type TimePartitionsSpec,
} from '../core/partitions.js';

export type {
  Granularity,
  Partition,
  PartitionsSpec,
  StaticPartitionsSpec,
  TimePartitionsOptions,
  TimePartitionsSpec,
} from '../core/partitions.js';

/** Options of `partitions.daily(…)` and the other time calendars. */
export interface TimePartitionOptions<P extends string = string> extends Omit<
  TimePartitionsOptions,
  'granularity' | 'param'
> {
  /** The pipeline param whose value is the partition key (a string param). */
  param: P;
}

/** A partitions spec whose param's name the compiler knows. */
export type PartitionsOn<P extends string> = PartitionsSpec & { readonly param: P };

function time(granularity: Granularity) {
  return <const P extends string>(
    options: TimePartitionOptions<P>,
  ): TimePartitionsSpec & { readonly param: P } =>
    timePartitions({ ...options, granularity }) as TimePartitionsSpec & { readonly param: P };
}

/** The partitions option of `pipeline()`: calendars in a time zone, or a static set. */
export const partitions = {
  /** One partition per hour, keys `2026-01-01T13:00` (a repeated hour's second one `…+01:00`). */
  hourly: time('hourly'),
  /** One partition per day, keys `2026-01-01`. */
  daily: time('daily'),
  /** One partition per ISO week (from Monday), keys `2026-01-05`: the Monday. */
  weekly: time('weekly'),
  /** One partition per month, keys `2026-01`. */
  monthly: time('monthly'),
  /** A fixed set of keys (`['eu', 'us', 'apac']`), in the order the grid shows them. */
  static: <const P extends string>(keys: readonly string[], options: { param: P }) =>
    staticPartitions(keys, options) as StaticPartitionsSpec & { readonly param: P },
};

/**
 * A definition's `maxActiveRuns`, checked: undefined (no limit) or a whole number >= 1. Runs
 * past the limit wait, held, until one finishes.
 */
export function checkMaxActiveRuns(label: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(
      'invalid_option',
      `${label}: maxActiveRuns ${typeof value === 'number' ? String(value) : JSON.stringify(value)} is invalid; use a whole number >= 1 (the most runs active at once), or leave it out for no limit`,
    );
  }
  return value;
}

/**
 * The partition of a run of a partitioned pipeline started in this process, from its parsed
 * params; null when the pipeline has no partitions. A key the pipeline never has (malformed,
 * before its start, not in its static set) throws an InputError naming the param; a key that
 * exists only later is allowed, so a test may compute any day.
 */
export function localPartition(
  spec: PartitionsSpec | undefined,
  params: Record<string, unknown>,
): Partition | null {
  if (!spec) return null;
  checkPartitionKey(spec, params[spec.param], null);
  return partitionOf(spec, params);
}
