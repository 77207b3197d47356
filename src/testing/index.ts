/**
 * The testing kit: run pipelines in-process under a manual clock and assert on what happened.
 *
 * ```ts
 * import { ManualClock, runPipeline } from 'weft/testing';
 *
 * const clock = new ManualClock();
 * const result = runPipeline(daily, { params: { day: '2026-01-01' }, clock });
 * await clock.advance(60_000); // fire retry backoffs and timeouts without sleeping
 * const { outputs, attempts } = await result;
 * expect(attempts.orders).toBe(3);
 * ```
 */
import { ManualClock, type Clock } from '../core/clock.js';
import { RunFailedError, type SerializedError } from '../core/errors.js';
import type { StepStatus } from '../core/states.js';
import type { RunEvent } from '../sdk/local-run.js';
import type { Pipeline } from '../sdk/pipeline.js';

export { ManualClock };
export type { RunEvent };

export interface PipelineTestResult<O> {
  /** The outputs, or null when the run failed. */
  outputs: O | null;
  /** The error the run failed with (a `RunFailedError` listing failed nodes). */
  error: RunFailedError | null;
  /** Every step transition and log line, in order. */
  events: RunEvent[];
  /** Final status of each step (`orders`, `perRegion[2]`…). */
  status: Record<string, StepStatus>;
  /** Attempts started per step. */
  attempts: Record<string, number>;
  /** Errors of failed attempts per step, in order. */
  errors: Record<string, SerializedError[]>;
  /** Log lines per step. */
  logs: Record<string, string[]>;
}

export interface PipelineTestOptions<P, O> {
  params?: P;
  outputs?: readonly (keyof O & string)[];
  overrides?: Partial<O>;
  clock?: Clock;
  concurrency?: number;
  failFast?: boolean;
}

/**
 * Runs a pipeline in-process and records everything that happened. Never rejects for a failed
 * run: the failure is in `error`, so a test can assert on partial results.
 */
export async function runPipeline<P, O>(
  target: Pipeline<P, O>,
  options: PipelineTestOptions<P, O> = {},
): Promise<PipelineTestResult<O>> {
  const events: RunEvent[] = [];
  const status: Record<string, StepStatus> = {};
  const attempts: Record<string, number> = {};
  const errors: Record<string, SerializedError[]> = {};
  const logs: Record<string, string[]> = {};
  const onEvent = (e: RunEvent) => {
    events.push(e);
    if (e.type === 'log') {
      (logs[e.step] ??= []).push(e.message);
      return;
    }
    status[e.step] = e.status;
    if (e.status === 'running') attempts[e.step] = e.attempt;
    if (e.error && (e.status === 'failed' || e.status === 'queued'))
      (errors[e.step] ??= []).push(e.error);
  };
  // A pipeline's `run` doesn't use `this`; its rest-tuple parameters are passed through as is.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- `run` never uses `this`
  const run = target.run as unknown as (this: void, p: unknown, o: unknown) => Promise<O>;
  try {
    const outputs = await run(options.params ?? {}, {
      outputs: options.outputs,
      overrides: options.overrides,
      clock: options.clock,
      concurrency: options.concurrency,
      failFast: options.failFast,
      onEvent,
    });
    return { outputs, error: null, events, status, attempts, errors, logs };
  } catch (error) {
    if (!(error instanceof RunFailedError)) throw error;
    return { outputs: null, error, events, status, attempts, errors, logs };
  }
}
