import { describe, expect, it } from 'vitest';
import { Limiter } from '../../src/core/limiter.js';

const settle = () => new Promise<void>((r) => setImmediate(r));

describe('Limiter', () => {
  it('grants up to the limit at once, synchronously', () => {
    const limiter = new Limiter();
    const a = limiter.acquire('k', 2);
    const b = limiter.acquire('k', 2);
    expect(typeof a).toBe('function');
    expect(typeof b).toBe('function');
    expect(limiter.active('k')).toBe(2);
    expect(limiter.acquire('k', 2)).toBeInstanceOf(Promise);
  });

  it('serves waiters first come, first served', async () => {
    const limiter = new Limiter();
    const first = limiter.acquire('k', 1) as () => void;
    const order: string[] = [];
    const waiters = ['b', 'c', 'd'].map((name) =>
      (limiter.acquire('k', 1) as Promise<() => void>).then((release) => {
        order.push(name);
        return release;
      }),
    );
    await settle();
    expect(order).toEqual([]);
    first();
    await settle();
    expect(order).toEqual(['b']);
    expect(limiter.active('k')).toBe(1);
    (await waiters[0]!)();
    await settle();
    (await waiters[1]!)();
    await settle();
    expect(order).toEqual(['b', 'c', 'd']);
    (await waiters[2]!)();
    expect(limiter.active('k')).toBe(0);
  });

  it('keeps keys independent', async () => {
    const limiter = new Limiter();
    expect(typeof limiter.acquire('a', 1)).toBe('function');
    expect(typeof limiter.acquire('b', 1)).toBe('function');
    expect(limiter.active('a')).toBe(1);
    expect(limiter.active('b')).toBe(1);
  });

  it('ignores a second release', async () => {
    const limiter = new Limiter();
    const release = limiter.acquire('k', 2) as () => void;
    expect(typeof limiter.acquire('k', 2)).toBe('function');
    release();
    release();
    expect(limiter.active('k')).toBe(1);
  });

  it('drops an aborted waiter from the queue, rejecting with the reason', async () => {
    const limiter = new Limiter();
    const holder = limiter.acquire('k', 1) as () => void;
    const controller = new AbortController();
    const aborted = limiter.acquire('k', 1, controller.signal) as Promise<() => void>;
    const next = Promise.resolve(limiter.acquire('k', 1));
    const reason = new Error('stop waiting');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    holder();
    const release = await next; // the slot went to the waiter behind the aborted one
    expect(limiter.active('k')).toBe(1);
    release();
    expect(limiter.active('k')).toBe(0);
  });

  it('rejects at once when the signal is already aborted and no slot is free', async () => {
    const limiter = new Limiter();
    expect(typeof limiter.acquire('k', 1)).toBe('function');
    const reason = new Error('already');
    await expect(limiter.acquire('k', 1, AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it('aborting one of several waiters keeps the others in order', async () => {
    const limiter = new Limiter();
    const holder = limiter.acquire('k', 1) as () => void;
    const order: string[] = [];
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const waits = controllers.map((c, i) =>
      (limiter.acquire('k', 1, c.signal) as Promise<() => void>).then(
        (release) => {
          order.push(`w${i}`);
          release();
        },
        () => order.push(`aborted w${i}`),
      ),
    );
    controllers[1]!.abort();
    await settle();
    holder();
    await Promise.all(waits);
    expect(order).toEqual(['aborted w1', 'w0', 'w2']);
    expect(limiter.active('k')).toBe(0);
  });
});
