/**
 * Time is injected. Engine code reads a {@link Clock}, never `Date.now()` or `setTimeout`
 * directly, so tests move time with a {@link ManualClock} instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The reason to abort a sleep no longer needed with: `abort()` without one creates a
 * DOMException, stack and all, which a worker would pay for on every step.
 */
export const SLEEP_ENDED: unknown = Object.freeze({ sleep: 'ended' });

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortReason(signal!));
      };
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

interface PendingSleep {
  due: number;
  order: number;
  resolve: () => void;
}

/**
 * A clock that only moves when told to. `advance(ms)` fires every sleep that falls due, in
 * order, letting the promise continuations of each run before the next fires.
 */
export class ManualClock implements Clock {
  #now: number;
  #sleeps: PendingSleep[] = [];
  #order = 0;

  constructor(start: number | Date = Date.UTC(2026, 0, 1)) {
    this.#now = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.#now;
  }

  /** Number of sleeps currently waiting on this clock. */
  get pending(): number {
    return this.#sleeps.length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const entry: PendingSleep = {
        due: this.#now + Math.max(0, ms),
        order: this.#order++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#sleeps = this.#sleeps.filter((s) => s !== entry);
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleeps.push(entry);
    });
  }

  /** Moves time forward by `ms`, firing due sleeps one by one. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await flushMicrotasks();
      const next = this.#sleeps
        .filter((s) => s.due <= target)
        .sort((a, b) => a.due - b.due || a.order - b.order)[0];
      if (!next) break;
      this.#sleeps = this.#sleeps.filter((s) => s !== next);
      this.#now = Math.max(this.#now, next.due);
      next.resolve();
    }
    this.#now = target;
    await flushMicrotasks();
  }

  /** Sets the time without firing anything (for starting a test at a given instant). */
  set(time: number | Date): void {
    this.#now = typeof time === 'number' ? time : time.getTime();
  }
}

/** Lets pending promise continuations (and I/O callbacks already due) run. */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
