/**
 * Schedules declared next to their pipeline or workflow:
 *
 * ```ts
 * export const nightly = schedule(daily, {
 *   cron: '30 2 * * *',
 *   timezone: 'Europe/Berlin',
 *   params: { region: 'eu' },
 *   catchUp: 'latest',
 * });
 * ```
 *
 * A worker that loads the file registers its schedules (by name) as it registers the
 * definitions; the elected scheduler (`weft server`, `weft dev`) fires their ticks. Pausing a
 * schedule through the API or the CLI outlasts the next registration.
 */
import { ConfigError } from '../core/errors.js';
import { firstPartitionKey } from '../core/partitions.js';
import {
  scheduleSpec,
  type ScheduleSpec,
  type ScheduleSpecOptions,
  type TimeLike,
} from '../core/schedule-spec.js';
import type { z } from 'zod';
import { brand, hasBrand } from './brand.js';
import { validateInput } from './params.js';
import type { AnyPipeline, ParamsOf } from './pipeline.js';
import type { AnyWorkflow, Workflow } from './workflow.js';

const SCHEDULE = Symbol.for('weft.schedule');

export type { TimeLike };

/**
 * A schedule's params: a workflow's input, or a pipeline's params. Those of a pipeline are
 * partial, for a partitioned one leaves its partition param out (each tick computes the
 * partition that just ended); what is missing is caught when the file loads.
 */
type InputOfTarget<T> =
  T extends Workflow<infer I, unknown> ? I : T extends AnyPipeline ? Partial<ParamsOf<T>> : never;

export interface ScheduleOptions<P> extends Omit<ScheduleSpecOptions, 'params'> {
  /** Names the schedule (unique). Default `<target> <cron>` or `<target> every <interval>`. */
  name?: string;
  /** Params of each run (a workflow's input): plain JSON. */
  params?: P;
}

export interface Schedule {
  readonly kind: 'schedule';
  readonly name: string;
  /** The pipeline or workflow it starts. */
  readonly target: AnyPipeline | AnyWorkflow;
  readonly spec: ScheduleSpec;
}

export function isSchedule(value: unknown): value is Schedule {
  return hasBrand(value, SCHEDULE);
}

/** Declares a schedule of `target`; export it from the file workers load. */
export function schedule<T extends AnyPipeline | AnyWorkflow>(
  target: T,
  options: ScheduleOptions<InputOfTarget<T>>,
): Schedule {
  const when = options.cron ?? (options.every === undefined ? '' : `every ${options.every}`);
  const name = options.name ?? `${target.name} ${when}`.trim();
  if (name === '' || name.length > 200) {
    throw new ConfigError(
      'invalid_schedule',
      `schedule of ${target.name}: give it a name of 1 to 200 characters (name: '…')`,
    );
  }
  const spec = scheduleSpec(name, options);
  // The params are checked now, when the file loads, rather than at the first tick.
  const of: AnyPipeline | AnyWorkflow = target;
  const schema: z.ZodType | null = of.kind === 'pipeline' ? of.spec.params : of.input;
  // A time-partitioned pipeline's partition param, left out, is each tick's latest partition
  // (static partitions have no latest one: their param must be given).
  const partitioned = of.kind === 'pipeline' ? of.spec.partitions : undefined;
  const params =
    partitioned?.kind === 'time' &&
    (spec.params as Record<string, unknown>)[partitioned.param] === undefined
      ? { [partitioned.param]: firstPartitionKey(partitioned), ...(spec.params as object) }
      : spec.params;
  validateInput(`schedule ${JSON.stringify(name)}: invalid params`, schema, params);
  return brand({ kind: 'schedule' as const, name, target, spec }, SCHEDULE);
}
