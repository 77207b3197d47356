/**
 * Weft: workflow orchestration for TypeScript.
 *
 * ```ts
 * import { pipeline } from 'weft';
 * import { z } from 'zod';
 *
 * const daily = pipeline('daily', {
 *   orders: ({ day }: { day: string }) => loadOrders(day),
 *   total: ({ orders }: { orders: Order[] }) => orders.reduce((s, o) => s + o.amount, 0),
 * }, { params: z.object({ day: z.string() }) });
 *
 * const { total } = await daily.run({ day: '2026-01-01' });
 * ```
 */
import type { AnyPipeline, Pipeline } from './sdk/pipeline.js';
import { ConfigError } from './core/errors.js';

export * from './sdk/index.js';
export {
  workflow,
  isWorkflow,
  type Workflow,
  type AnyWorkflow,
  type WorkflowContext,
  type WorkflowEvent,
  type WorkflowOptions,
  type JournalMode,
  type WaitForEventOptions,
  type StepOptions,
} from './sdk/workflow.js';
export {
  WeftError,
  ConfigError,
  DefinitionError,
  InputError,
  NotFoundError,
  CodecError,
  NonRetryableError,
  TimeoutError,
  CancelledError,
  RunFailedError,
  RunCancelledError,
  NonDeterminismError,
  StepFailure,
  type SerializedError,
} from './core/errors.js';
export {
  schedule,
  isSchedule,
  type Schedule,
  type ScheduleOptions,
  type TimeLike,
} from './sdk/schedule.js';
export type { CatchUp, Overlap, ScheduleSpec } from './core/schedule-spec.js';
export { onFailure, isFailureHook, type FailureHook } from './sdk/failure-hook.js';
export {
  onEvent,
  isEventTrigger,
  type EventTrigger,
  type EventTriggerOptions,
} from './sdk/event-trigger.js';
export type { Duration } from './core/duration.js';
export { ManualClock, systemClock, type Clock } from './core/clock.js';
export type { RunStatus, StepStatus } from './core/states.js';
export { encode, decode } from './core/codec.js';

/**
 * Runs a pipeline in this process: `run(daily, { params: { day }, outputs: ['report'] })`.
 * The same as `daily.run(params, options)`.
 */
export function run<P, O, K extends keyof O & string = keyof O & string>(
  target: Pipeline<P, O>,
  options: { params?: P } & Parameters<Pipeline<P, O>['run']>[1] & { outputs?: readonly K[] } = {},
): Promise<Pick<O, K>> {
  if (!target || (target as unknown as AnyPipeline).kind !== 'pipeline') {
    throw new ConfigError('invalid_target', 'run(target, options): target must be a pipeline');
  }
  const { params, ...rest } = options;
  // A pipeline's `run` doesn't use `this`; its rest-tuple parameters are passed through as is.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- `run` never uses `this`
  const runner = target.run as unknown as (
    this: void,
    p: unknown,
    o: unknown,
  ) => Promise<Pick<O, K>>;
  return runner(params ?? {}, rest);
}
