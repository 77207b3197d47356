/**
 * Runs one attempt of user code under a timeout and an abort signal. Sync results skip the
 * promise machinery entirely, which keeps the in-process runner's overhead per node tiny.
 */
import { SLEEP_ENDED, type Clock } from './clock.js';
import { CancelledError, TimeoutError } from './errors.js';

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Calls `fn(signal)`. With a timeout, the signal given to `fn` aborts with a
 * {@link TimeoutError} when time runs out and the attempt rejects with it, whether or not `fn`
 * honours the signal. When `parent` aborts, so does the attempt.
 */
export function runAttempt<T>(
  what: string,
  fn: (signal: AbortSignal) => T | Promise<T>,
  parent: AbortSignal,
  timeoutMs: number | null,
  clock: Clock,
): T | Promise<T> {
  if (timeoutMs === null) {
    if (parent.aborted) throw parent.reason ?? new CancelledError(what);
    return fn(parent);
  }
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent.reason ?? new CancelledError(what));
  if (parent.aborted) onParentAbort();
  else parent.addEventListener('abort', onParentAbort, { once: true });
  const timer = new AbortController();
  const timeout = clock.sleep(timeoutMs, timer.signal).then(
    () => {
      const error = new TimeoutError(what, timeoutMs);
      controller.abort(error);
      throw error;
    },
    () => undefined as never,
  );
  const cleanup = () => {
    timer.abort(SLEEP_ENDED);
    parent.removeEventListener('abort', onParentAbort);
  };
  let result: T | Promise<T>;
  try {
    result = fn(controller.signal);
  } catch (error) {
    cleanup();
    throw error;
  }
  if (!isThenable(result)) {
    cleanup();
    return result;
  }
  const aborted = new Promise<never>((_, reject) => {
    if (controller.signal.aborted) reject(controller.signal.reason);
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), {
      once: true,
    });
  });
  return Promise.race([Promise.resolve(result), timeout, aborted]).finally(cleanup);
}
