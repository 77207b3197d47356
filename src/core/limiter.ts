/**
 * Counting semaphores, one per key, for concurrency limits inside one process. Waiters are
 * served first come, first served.
 */
export class Limiter {
  #active = new Map<string, number>();
  #waiting = new Map<string, (() => void)[]>();

  /** Takes a slot of `key` (at most `limit` at once); resolves to the release function. */
  acquire(key: string, limit: number, signal?: AbortSignal): Promise<() => void> | (() => void) {
    const active = this.#active.get(key) ?? 0;
    if (active < limit) {
      this.#active.set(key, active + 1);
      return this.#releaser(key);
    }
    return new Promise((resolve, reject) => {
      const queue = this.#waiting.get(key) ?? [];
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        this.#active.set(key, (this.#active.get(key) ?? 0) + 1);
        resolve(this.#releaser(key));
      };
      const onAbort = () => {
        const q = this.#waiting.get(key);
        if (q) q.splice(q.indexOf(grant), 1);
        reject(signal!.reason);
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(grant);
      this.#waiting.set(key, queue);
    });
  }

  /** Slots of `key` in use. */
  active(key: string): number {
    return this.#active.get(key) ?? 0;
  }

  #releaser(key: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#active.get(key) ?? 1) - 1;
      if (left === 0) this.#active.delete(key);
      else this.#active.set(key, left);
      const next = this.#waiting.get(key)?.shift();
      if (next) next();
      else if (this.#waiting.get(key)?.length === 0) this.#waiting.delete(key);
    };
  }
}
