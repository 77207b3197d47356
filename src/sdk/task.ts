/**
 * Tasks: plain functions with a policy.
 *
 * ```ts
 * const fetchOrders = task('fetch-orders', { retries: 3, timeout: '30s' },
 *   async ({ day }: { day: string }, { signal }) => (await fetch(url(day), { signal })).json());
 * await fetchOrders({ day: '2026-01-01' }); // a plain call: just the function
 * ```
 * The policy (retries, timeout, concurrency) applies when the task runs inside Weft: as a
 * pipeline node, or a workflow step.
 */
import { ConfigError } from '../core/errors.js';
import { resolvePolicy, type Policy, type PolicyOptions } from '../core/policy.js';
import { plainContext, type TaskContext } from './context.js';

export type TaskFn<I, O> = (input: I, ctx: TaskContext) => O | Promise<O>;

export interface TaskOptions<I = never> extends Omit<PolicyOptions, 'concurrencyKey'> {
  /** With `concurrency`: the limit applies per key derived from the input. */
  concurrencyKey?: (input: I) => string;
  /** A description shown in the UI and `weft graph`. */
  description?: string;
}

declare const taskBrand: unique symbol;

export interface Task<I, O> {
  /** Calls the function directly, with no policy applied. */
  (input: I): Promise<O>;
  readonly [taskBrand]: true;
  readonly kind: 'task';
  readonly taskName: string;
  readonly fn: TaskFn<I, O>;
  readonly policy: Policy;
  readonly description: string | undefined;
  /** The options the task was declared with (a node may refine them). */
  readonly options: TaskOptions<I>;
}

export type AnyTask = Task<never, unknown>;

const TASK = Symbol.for('weft.task');

/**
 * @internal Lets the engine turn a task call inside a workflow into a journaled step. Returns
 * undefined to let the call run as a plain function.
 */
export type TaskCallHook = (task: AnyTask, input: unknown) => Promise<unknown> | undefined;

// The hook lives on globalThis, not in this module: a user's file may load its own copy of
// the SDK (the CLI imports it through a loader), and its tasks must still reach the engine.
const HOOK = Symbol.for('weft.taskCallHook');
type HookSlot = { [HOOK]?: TaskCallHook | null };

/** @internal Installed by the engine. */
export function setTaskCallHook(hook: TaskCallHook | null): void {
  (globalThis as HookSlot)[HOOK] = hook;
}

const NAME_PATTERN = /^[A-Za-z_][\w.-]*$/;

/** Throws unless `name` can name a task, node, pipeline or workflow. */
export function checkName(kind: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new ConfigError(
      'invalid_name',
      `${kind} name ${JSON.stringify(name)} is invalid; use letters, digits, '_', '-' or '.', starting with a letter or '_'`,
    );
  }
  return name;
}

export function task<I = void, O = unknown>(name: string, fn: TaskFn<I, O>): Task<I, O>;
export function task<I = void, O = unknown>(
  name: string,
  options: TaskOptions<I>,
  fn: TaskFn<I, O>,
): Task<I, O>;
export function task<I, O>(
  name: string,
  optionsOrFn: TaskOptions<I> | TaskFn<I, O>,
  maybeFn?: TaskFn<I, O>,
): Task<I, O> {
  checkName('task', name);
  const fn = typeof optionsOrFn === 'function' ? optionsOrFn : maybeFn;
  const options = typeof optionsOrFn === 'function' ? {} : optionsOrFn;
  if (typeof fn !== 'function') {
    throw new ConfigError(
      'invalid_task',
      `task ${name}: expected a function, as task(name, fn) or task(name, options, fn)`,
    );
  }
  const policy = resolvePolicy(`task ${name}`, options);
  const call = (input: I): Promise<O> => {
    const hooked = (globalThis as HookSlot)[HOOK]?.(self as unknown as AnyTask, input);
    if (hooked) return hooked as Promise<O>;
    return Promise.resolve().then(() => fn(input, plainContext()));
  };
  const self = Object.assign(call, {
    kind: 'task' as const,
    taskName: name,
    fn,
    policy,
    options,
    description: options.description,
    [TASK]: true,
  });
  return self as unknown as Task<I, O>;
}

export function isTask(value: unknown): value is AnyTask {
  return (
    typeof value === 'function' && (value as unknown as Record<symbol, unknown>)[TASK] === true
  );
}
