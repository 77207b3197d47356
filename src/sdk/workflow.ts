/**
 * Durable workflows: async functions whose steps are journaled.
 *
 * ```ts
 * export const onboarding = workflow('onboarding', { input: z.object({ userId: z.string() }) },
 *   async (ctx, { userId }) => {
 *     const user = await ctx.step('load-user', () => db.users.get(userId));
 *     await ctx.sleep('grace-period', '1d');
 *     const answer = await ctx.waitForEvent('approval', { event: 'approved', key: userId, timeout: '7d' });
 *     if (!answer) return 'expired';
 *     await ctx.step('send-welcome', () => mail.welcome(user));
 *     return 'done';
 *   });
 * ```
 *
 * A step runs once: its result is committed before the workflow goes on, and when the run
 * resumes (after a durable sleep, an event wait, or a crash) the function runs again from the
 * top with every completed step returning its recorded result instead of running. Code
 * between steps is plain TypeScript — `Date.now()`, `Math.random()`, I/O — and simply runs
 * again on resume; only step results are replayed. The steps a run asks for must come in the
 * same order on every replay, or the run fails with a `NonDeterminismError`.
 */
import type { z } from 'zod';
import type { Duration } from '../core/duration.js';
import { ConfigError } from '../core/errors.js';
import { resolvePolicy, type Policy, type PolicyOptions } from '../core/policy.js';
import type { Logger, TaskContext } from './context.js';
import { checkMaxActiveRuns } from './partitions.js';
import type { AnyPipeline, Pipeline } from './pipeline.js';
import { checkName } from './task.js';

/** Policy of one step: retries with backoff and a per-attempt timeout, as for tasks. */
export type StepOptions = Pick<PolicyOptions, 'retries' | 'timeout'>;

export interface WaitForEventOptions<T> {
  /** The event type to wait for. */
  event: string;
  /**
   * Receive the event sent with this key, even if it was sent before the wait began: a keyed
   * event waits in a mailbox until a wait asks for it. Without a key, only events sent after
   * the wait began count.
   */
  key?: string;
  /** Field → value the payload must have (dotted paths reach inside: `{ 'order.id': 7 }`). */
  match?: Record<string, unknown>;
  /** Give up after this long and resolve with null. */
  timeout: Duration;
  /** Validates (and types) the payload. */
  schema?: z.ZodType<T>;
}

/** An event delivered to a workflow. */
export interface WorkflowEvent<T> {
  id: string;
  type: string;
  key: string | null;
  payload: T;
  sentAt: Date;
}

/** Something a workflow can start as a child run. */
export type ChildTarget = AnyWorkflow | AnyPipeline;

/** What a child run resolves with: a workflow's result, or a pipeline's outputs. */
export type ChildResult<T> =
  T extends Workflow<infer _I, infer R> ? R : T extends Pipeline<infer _P, infer O> ? O : unknown;
export type ChildInput<T> =
  T extends Workflow<infer I, unknown> ? I : T extends Pipeline<infer P, unknown> ? P : never;

export interface WorkflowContext {
  /** This run's id. */
  readonly runId: string;
  /** 1 for the first execution of the workflow function, 2 after a workflow-level retry… */
  readonly attempt: number;
  /** Log lines are stored with the run and shown by `weft show` and the UI. */
  readonly log: Logger;
  /** Aborts when the run is cancelled or times out. */
  readonly signal: AbortSignal;
  /**
   * Runs `fn` once and records its result; on replay returns the recorded result. A step that
   * failed for good throws the same error again on replay. Steps inside `Promise.all` run in
   * parallel and are recorded one by one.
   */
  step<T>(
    name: string,
    fn: (ctx: TaskContext) => T | Promise<T>,
    options?: StepOptions,
  ): Promise<T>;
  /** Durable sleep: the run parks (holding no worker) and resumes when it is due. */
  sleep(name: string, duration: Duration): Promise<void>;
  /** Durable sleep until a moment. */
  sleepUntil(name: string, until: Date | number): Promise<void>;
  /** Parks until a matching event arrives; resolves with null when the timeout passes first. */
  waitForEvent<T = unknown>(
    name: string,
    options: WaitForEventOptions<T>,
  ): Promise<WorkflowEvent<T> | null>;
  /** Starts a child run and waits for its result. Cancelling this run cancels the child. */
  run<T extends ChildTarget>(
    target: T,
    input: ChildInput<T>,
    options?: { name?: string },
  ): Promise<ChildResult<T>>;
}

export interface WorkflowOptions<S extends z.ZodType> {
  /** A zod schema of the input; checked before the run starts. */
  input?: S;
  /** Retries of the whole workflow function (completed steps are not run again). */
  retries?: PolicyOptions['retries'];
  /** Time allowed for the whole run, sleeps and waits included. */
  timeout?: Duration;
  /** Labels a worker must all have to run this workflow (see the task option). */
  labels?: readonly string[];
  description?: string;
  /** Most runs active at once; more wait, held, until one finishes. Default: no limit. */
  maxActiveRuns?: number;
  /**
   * When a step's result is committed. `'per-step'` (the default): before the next step
   * starts, so a crash re-runs at most the step it interrupted. `'batched'`: the next step
   * starts at once and results commit together, in order, at the latest before the run
   * parks, starts a child run, fails or returns; a crash re-runs every step whose result had
   * not committed. Far fewer commits per run; for steps that are pure or idempotent.
   */
  journal?: JournalMode;
}

/** When a workflow's step results are committed (see {@link WorkflowOptions.journal}). */
export type JournalMode = 'per-step' | 'batched';

export type WorkflowFn<I, R> = (ctx: WorkflowContext, input: I) => Promise<R>;

const WORKFLOW = Symbol.for('weft.workflow');

export interface Workflow<I, R> {
  readonly kind: 'workflow';
  readonly name: string;
  readonly input: z.ZodType | null;
  readonly fn: WorkflowFn<unknown, unknown>;
  readonly policy: Policy;
  readonly description: string | undefined;
  /** Most runs active at once, if limited. */
  readonly maxActiveRuns?: number;
  /** When step results are committed. */
  readonly journal: JournalMode;
  /** Phantom: input and result types. */
  readonly __types?: { input: I; result: R };
}

/** Any workflow, whatever its input and result. */
export type AnyWorkflow = Omit<Workflow<never, unknown>, '__types'>;

type InputOf<S> = [S] extends [never] ? void : S extends z.ZodType ? z.output<S> : void;
type InputIn<S> = [S] extends [never] ? void : S extends z.ZodType ? z.input<S> : void;

export function workflow<R, S extends z.ZodType = never>(
  name: string,
  options: WorkflowOptions<S>,
  fn: (ctx: WorkflowContext, input: InputOf<S>) => Promise<R>,
): Workflow<InputIn<S>, R> {
  checkName('workflow', name);
  if (typeof fn !== 'function') {
    throw new ConfigError(
      'invalid_workflow',
      `workflow ${name}: expected workflow(name, options, async (ctx, input) => …)`,
    );
  }
  const policy = resolvePolicy(`workflow ${name}`, {
    retries: options.retries,
    timeout: options.timeout,
    labels: options.labels,
  });
  const maxActiveRuns = checkMaxActiveRuns(`workflow ${name}`, options.maxActiveRuns);
  const journal = options.journal ?? 'per-step';
  if (journal !== 'per-step' && journal !== 'batched') {
    throw new ConfigError(
      'invalid_workflow',
      `workflow ${name}: journal must be 'per-step' or 'batched', got ${JSON.stringify(journal)}`,
    );
  }
  return {
    kind: 'workflow',
    name,
    input: options.input ?? null,
    fn: fn as WorkflowFn<unknown, unknown>,
    policy,
    description: options.description,
    journal,
    ...(maxActiveRuns === undefined ? {} : { maxActiveRuns }),
    [WORKFLOW]: true,
  } as Workflow<InputIn<S>, R>;
}

export function isWorkflow(value: unknown): value is AnyWorkflow {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[WORKFLOW] === true
  );
}
