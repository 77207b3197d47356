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
 * An abort controller whose `AbortSignal` is made only when something asks for it. A signal is
 * an event target, costly to make, and most attempts end without anybody looking at theirs:
 * their task never reads `ctx.signal` and nothing aborts them.
 */
export class LazyAbortController {
  #controller: AbortController | null = null;
  #aborted = false;
  #reason: unknown = undefined;
  #followers: Set<LazyAbortController> | null = null;

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** Aborts with `reason` (an `AbortError`, as `AbortController`'s, when none is given). */
  abort(reason?: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason ?? new DOMException('This operation was aborted', 'AbortError');
    this.#controller?.abort(this.#reason);
    const followers = this.#followers;
    this.#followers = null;
    for (const f of followers ?? []) f.abort(this.#reason);
  }

  /**
   * Makes `other` abort with this one, with its reason (at once if this one has aborted), until
   * the function returned is called.
   */
  link(other: LazyAbortController): () => void {
    if (this.#aborted) {
      other.abort(this.#reason);
      return () => undefined;
    }
    const followers = (this.#followers ??= new Set());
    followers.add(other);
    return () => followers.delete(other);
  }
}

/** A signal, or a lazy controller standing for the signal it would make. */
export type Abortable = AbortSignal | LazyAbortController;

/** The signal `a` stands for (made now, for a lazy controller that had none). */
export function signalOf(a: Abortable): AbortSignal {
  return a instanceof LazyAbortController ? a.signal : a;
}

/**
 * Calls `fn(signal)`. With a timeout, the signal given to `fn` aborts with a
 * {@link TimeoutError} when time runs out and the attempt rejects with it, whether or not `fn`
 * honours the signal. When `parent` aborts, so does the attempt. Without a timeout `fn` gets
 * `parent` itself (a lazy controller stays lazy).
 */
export function runAttempt<T, S extends Abortable = AbortSignal>(
  what: string,
  fn: (signal: S | AbortSignal) => T | Promise<T>,
  parent: S,
  timeoutMs: number | null,
  clock: Clock,
): T | Promise<T> {
  if (timeoutMs === null) {
    if (parent.aborted) throw parent.reason ?? new CancelledError(what);
    return fn(parent);
  }
  return runTimed(what, fn, signalOf(parent), timeoutMs, clock);
}

function runTimed<T>(
  what: string,
  fn: (signal: AbortSignal) => T | Promise<T>,
  parent: AbortSignal,
  timeoutMs: number,
  clock: Clock,
): T | Promise<T> {
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
