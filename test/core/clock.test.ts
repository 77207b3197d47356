import { describe, expect, it } from 'vitest';
import { ManualClock, TimeoutError, systemClock } from '../../src/index.js';
import { LazyAbortController, runAttempt, signalOf } from '../../src/core/attempt.js';

describe('ManualClock', () => {
  it('starts at the given time and moves only when told', async () => {
    const clock = new ManualClock(new Date('2026-02-03T00:00:00Z'));
    expect(clock.now()).toBe(Date.UTC(2026, 1, 3));
    await clock.advance(1500);
    expect(clock.now()).toBe(Date.UTC(2026, 1, 3) + 1500);
    clock.set(0);
    expect(clock.now()).toBe(0);
  });

  it('fires due sleeps in time order, each seeing its own due time', async () => {
    const clock = new ManualClock(0);
    const fired: [string, number][] = [];
    const sleepThen = (name: string, ms: number) =>
      clock.sleep(ms).then(() => fired.push([name, clock.now()]));
    void sleepThen('c', 300);
    void sleepThen('a', 100);
    void sleepThen('b', 100);
    void sleepThen('late', 1000);
    expect(clock.pending).toBe(4);
    await clock.advance(500);
    expect(fired).toEqual([
      ['a', 100],
      ['b', 100],
      ['c', 300],
    ]);
    expect(clock.pending).toBe(1);
    expect(clock.now()).toBe(500);
  });

  it('fires sleeps scheduled by continuations within the same advance', async () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    void clock.sleep(100).then(async () => {
      fired.push(clock.now());
      await clock.sleep(100);
      fired.push(clock.now());
    });
    await clock.advance(250);
    expect(fired).toEqual([100, 200]);
  });

  it('rejects a sleep with the signal reason and forgets it', async () => {
    const clock = new ManualClock(0);
    const controller = new AbortController();
    const sleep = clock.sleep(100, controller.signal);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(sleep).rejects.toBe(reason);
    expect(clock.pending).toBe(0);
    await expect(clock.sleep(1, AbortSignal.abort(reason))).rejects.toBe(reason);
  });
});

describe('systemClock', () => {
  it('rejects an aborted sleep without waiting', async () => {
    const reason = new Error('no');
    await expect(systemClock.sleep(60_000, AbortSignal.abort(reason))).rejects.toBe(reason);
    const controller = new AbortController();
    const sleep = systemClock.sleep(60_000, controller.signal);
    controller.abort(reason);
    await expect(sleep).rejects.toBe(reason);
  });
});

describe('runAttempt', () => {
  const never = new AbortController().signal;

  it('returns a synchronous result synchronously', () => {
    const clock = new ManualClock(0);
    expect(runAttempt('x', () => 5, never, null, clock)).toBe(5);
    expect(runAttempt('x', () => 6, never, 1000, clock)).toBe(6);
    expect(clock.pending).toBe(0);
  });

  it('rejects with a TimeoutError at the timeout and aborts the signal', async () => {
    const clock = new ManualClock(0);
    let seen: AbortSignal | null = null;
    const result = runAttempt(
      'step x',
      (signal) => {
        seen = signal;
        return new Promise<never>(() => undefined);
      },
      never,
      250,
      clock,
    ) as Promise<unknown>;
    const outcome = result.catch((e: unknown) => e);
    await clock.advance(249);
    expect(seen!.aborted).toBe(false);
    await clock.advance(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe('step x timed out after 250 ms');
    expect(seen!.aborted).toBe(true);
  });

  it('passes a parent abort through to the attempt', async () => {
    const clock = new ManualClock(0);
    const parent = new AbortController();
    const result = runAttempt('x', () => new Promise(() => undefined), parent.signal, 1000, clock);
    const reason = new Error('cancelled by user');
    parent.abort(reason);
    await expect(result).rejects.toBe(reason);
    expect(clock.pending).toBe(0);
  });
});

describe('LazyAbortController', () => {
  it('makes its signal on first use, aborted already if it was', () => {
    const early = new LazyAbortController();
    const reason = new Error('stop');
    early.abort(reason);
    early.abort(new Error('again'));
    expect([early.aborted, early.reason]).toEqual([true, reason]);
    expect(early.signal.aborted).toBe(true);
    expect(early.signal.reason).toBe(reason);

    const late = new LazyAbortController();
    const signal = late.signal;
    expect(signalOf(late)).toBe(signal);
    let heard: unknown = null;
    signal.addEventListener('abort', () => {
      heard = signal.reason as unknown;
    });
    late.abort(reason);
    expect(heard).toBe(reason);
  });

  it('aborts with an AbortError when given no reason, as AbortController does', () => {
    const lazy = new LazyAbortController();
    lazy.abort();
    expect((lazy.reason as DOMException).name).toBe('AbortError');
    expect(lazy.signal.reason).toBe(lazy.reason);
  });

  it('aborts the controllers linked to it until they are unlinked', () => {
    const parent = new LazyAbortController();
    const [kept, dropped] = [new LazyAbortController(), new LazyAbortController()];
    parent.link(kept);
    const unlink = parent.link(dropped);
    unlink();
    const reason = new Error('cancelled');
    parent.abort(reason);
    expect([kept.aborted, kept.reason]).toEqual([true, reason]);
    expect(dropped.aborted).toBe(false);
    // Linked after the abort: aborted at once.
    const late = new LazyAbortController();
    parent.link(late);
    expect(late.reason).toBe(reason);
  });

  it('stays lazy through an attempt without a timeout, and is the signal with one', async () => {
    const clock = new ManualClock(0);
    const lazy = new LazyAbortController();
    expect(runAttempt('x', (s) => s === lazy, lazy, null, clock)).toBe(true);
    let seen: AbortSignal | null = null;
    const timed = runAttempt(
      'x',
      (s) => {
        seen = s as AbortSignal;
        return new Promise(() => undefined);
      },
      lazy,
      1000,
      clock,
    );
    const reason = new Error('cancelled by user');
    lazy.abort(reason);
    await expect(timed).rejects.toBe(reason);
    expect(seen!.aborted).toBe(true);
    lazy.abort(new Error('late'));
    expect(() => runAttempt('x', () => 1, lazy, null, clock)).toThrow(reason);
  });
});
