import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ManualClock,
  NonRetryableError,
  RunCancelledError,
  RunFailedError,
  TimeoutError,
  map,
  node,
  pipeline,
  task,
} from '../../src/index.js';
import { drive, gauge, isSettled, recorder } from '../support/run-helpers.js';

const noJitter = { initialDelay: '1s', factor: 2, jitter: 0 } as const;

describe('retries with backoff (ManualClock)', () => {
  it('retries after initialDelay × factor^n, timed by the injected clock', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const rec = recorder();
    let calls = 0;
    const p = pipeline('retrying', {
      flaky: node({ deps: [], retries: { retries: 3, ...noJitter } }, () => {
        calls++;
        if (calls < 3) throw new Error(`boom ${calls}`);
        return 'ok';
      }),
    });
    const result = p.run({}, { clock, onEvent: rec.onEvent });

    expect(calls).toBe(1);
    await clock.advance(999);
    expect(calls).toBe(1); // the first retry waits a full second
    await clock.advance(1);
    expect(calls).toBe(2);
    await clock.advance(1999);
    expect(calls).toBe(2); // the second waits 2 s
    await clock.advance(1);
    expect(calls).toBe(3);
    await expect(result).resolves.toEqual({ flaky: 'ok' });

    const running = rec.steps().filter((e) => e.status === 'running');
    expect(running.map((e) => [e.attempt, e.at - t0])).toEqual([
      [1, 0],
      [2, 1000],
      [3, 3000],
    ]);
    expect(rec.statuses('flaky')).toEqual([
      'running',
      'queued',
      'running',
      'queued',
      'running',
      'succeeded',
    ]);
    const queued = rec.steps().filter((e) => e.status === 'queued');
    expect(queued.map((e) => e.error?.message)).toEqual(['boom 1', 'boom 2']);
  });

  it('caps the delay at maxDelay', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const starts: number[] = [];
    const p = pipeline('capped', {
      flaky: node(
        {
          deps: [],
          retries: { retries: 4, initialDelay: '1s', factor: 10, maxDelay: '5s', jitter: 0 },
        },
        async (_: object, { attempt }) => {
          starts.push(clock.now() - t0);
          if (attempt < 5) throw new Error('again');
          return attempt;
        },
      ),
    });
    const out = await drive(clock, p.run({}, { clock }), { stepMs: 100 });
    expect(out).toEqual({ flaky: 5 });
    expect(starts).toEqual([0, 1000, 6000, 11000, 16000]);
  });

  it('fails with the last error once retries are used up', async () => {
    const clock = new ManualClock();
    const rec = recorder();
    const p = pipeline('exhausted', {
      always: node({ deps: [], retries: { retries: 2, ...noJitter } }, (_: object, { attempt }) => {
        throw new Error(`attempt ${attempt} failed`);
      }),
    });
    const error = (await drive(clock, p.run({}, { clock, onEvent: rec.onEvent })).catch(
      (e: unknown) => e,
    )) as RunFailedError;
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.failed).toHaveLength(1);
    expect(error.failed[0]?.error.message).toBe('attempt 3 failed');
    expect(rec.attempts('always')).toBe(3);
    expect(rec.final().always).toBe('failed');
  });

  it('does not retry a NonRetryableError', async () => {
    const clock = new ManualClock();
    const rec = recorder();
    const p = pipeline('fatal', {
      bad: node({ deps: [], retries: { retries: 5, ...noJitter } }, async () => {
        throw new NonRetryableError('bad credentials', { code: 'auth' });
      }),
    });
    const error = (await p
      .run({}, { clock, onEvent: rec.onEvent })
      .catch((e: unknown) => e)) as RunFailedError;
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.failed[0]?.error).toMatchObject({
      name: 'NonRetryableError',
      code: 'auth',
      retryable: false,
    });
    expect(rec.attempts('bad')).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('applies a task policy when the task is a node', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const load = task(
      'load',
      { retries: { retries: 1, ...noJitter } },
      async ({ day }: { day: string }) => {
        if (++calls === 1) throw new Error('transient');
        return `rows of ${day}`;
      },
    );
    const p = pipeline('with-task', { rows: load }, { params: z.object({ day: z.string() }) });
    const out = await drive(clock, p.run({ day: 'mon' }, { clock }), { stepMs: 250 });
    expect(out).toEqual({ rows: 'rows of mon' });
    expect(calls).toBe(2);
  });
});

describe('timeouts (ManualClock)', () => {
  it('aborts the signal at the timeout and retries the attempt', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const rec = recorder();
    const reasons: unknown[] = [];
    const p = pipeline('slow', {
      slow: node(
        { deps: [], timeout: '5s', retries: { retries: 1, ...noJitter } },
        (_: object, { signal, attempt }) =>
          new Promise<string>((resolve, reject) => {
            if (attempt > 1) return resolve(`done on attempt ${attempt}`);
            signal.addEventListener('abort', () => {
              reasons.push(signal.reason);
              reject(signal.reason as Error);
            });
          }),
      ),
    });
    const result = p.run({}, { clock, onEvent: rec.onEvent });
    await clock.advance(4999);
    expect(reasons).toEqual([]);
    await clock.advance(1);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(TimeoutError);
    expect((reasons[0] as TimeoutError).message).toBe('slow timed out after 5000 ms');
    await clock.advance(1000); // the backoff before attempt 2
    await expect(result).resolves.toEqual({ slow: 'done on attempt 2' });
    const queued = rec.steps().find((e) => e.status === 'queued');
    expect(queued?.error).toMatchObject({ name: 'TimeoutError', code: 'timeout' });
    expect(queued!.at - t0).toBe(5000);
    expect(rec.attempts('slow')).toBe(2);
  });

  it('times out a function that ignores its signal, and fails when out of retries', async () => {
    const clock = new ManualClock();
    const p = pipeline('stuck', {
      stuck: node({ deps: [], timeout: 100 }, () => new Promise<never>(() => undefined)),
      after: ({ stuck }: { stuck: unknown }) => stuck,
    });
    const rec = recorder();
    const result = p.run({}, { clock, onEvent: rec.onEvent });
    await clock.advance(99);
    expect(await isSettled(result)).toBe(false);
    await clock.advance(1);
    const error = (await result.catch((e: unknown) => e)) as RunFailedError;
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.failed[0]).toMatchObject({
      step: 'stuck',
      error: { name: 'TimeoutError', code: 'timeout' },
    });
    expect(rec.final()).toEqual({ stuck: 'failed', after: 'skipped' });
  });

  it('does not time out work that finishes in time, and leaves no timer behind', async () => {
    const clock = new ManualClock();
    const p = pipeline('quick', {
      quick: node({ deps: [], timeout: '1m' }, async (_: object, { signal }) => {
        await clock.sleep(59_000, signal);
        return 'in time';
      }),
    });
    const out = await drive(clock, p.run({}, { clock }), { stepMs: 1000 });
    expect(out).toEqual({ quick: 'in time' });
    expect(clock.pending).toBe(0);
  });
});

describe('concurrency limits', () => {
  it('shares a task limit across every node that uses the task', async () => {
    const clock = new ManualClock();
    const g = gauge();
    const fetchPage = task('fetch-page', { concurrency: 2 }, ({ n }: { n: number }, { signal }) =>
      g.track(() => clock.sleep(100, signal)).then(() => n),
    );
    const p = pipeline('shared', { params: z.object({ n: z.number() }) }, (b) => {
      const refs = ['a', 'b', 'c', 'd', 'e'].map((name) =>
        b.node(name, { n: b.params.n }, fetchPage),
      );
      const [a, bb, c, d, e] = refs.map((r) => r);
      const sum = b.node(
        'sum',
        { a: a!, bb: bb!, c: c!, d: d!, e: e! },
        (x) => x.a + x.bb + x.c + x.d + x.e,
      );
      return { sum };
    });
    const out = await drive(clock, p.run({ n: 1 }, { clock }), { stepMs: 50 });
    expect(out).toEqual({ sum: 5 });
    expect(g.calls).toBe(5);
    expect(g.max).toBe(2);
  });

  it('limits per key when the task has a concurrencyKey', async () => {
    const clock = new ManualClock();
    const perCustomer = new Map<string, ReturnType<typeof gauge>>();
    const overall = gauge();
    const charge = task(
      'charge',
      { concurrency: 1, concurrencyKey: (o: { customer: string }) => o.customer },
      (o: { customer: string; cents: number }) => {
        const g = perCustomer.get(o.customer) ?? gauge();
        perCustomer.set(o.customer, g);
        return g.track(() => overall.track(() => clock.sleep(100))).then(() => o.cents);
      },
    );
    const p = pipeline('billing', {}, (b) => {
      const orders = b.node('orders', {}, () => [
        { customer: 'ann', cents: 1 },
        { customer: 'bob', cents: 2 },
        { customer: 'ann', cents: 3 },
        { customer: 'bob', cents: 4 },
        { customer: 'cy', cents: 5 },
      ]);
      const charged = b.map('charged', orders, {}, charge);
      return { charged };
    });
    const out = await drive(clock, p.run({}, { clock }), { stepMs: 50 });
    expect(out.charged).toEqual([1, 2, 3, 4, 5]);
    expect([...perCustomer.values()].map((g) => g.max)).toEqual([1, 1, 1]);
    expect(overall.max).toBe(3); // one per customer at once
  });

  it('honours a map concurrency option', async () => {
    const clock = new ManualClock();
    const g = gauge();
    const p = pipeline('limited', {
      items: () => Array.from({ length: 7 }, (_, i) => i),
      doubled: map(
        'items',
        (i: number, _deps: object, { signal }) =>
          g.track(() => clock.sleep(10, signal)).then(() => i * 2),
        { concurrency: 3, deps: [] },
      ),
    });
    const out = await drive(clock, p.run({}, { clock }), { stepMs: 5 });
    expect(out.doubled).toEqual([0, 2, 4, 6, 8, 10, 12]);
    expect(g.max).toBe(3);
  });

  it('honours the run-wide concurrency option', async () => {
    const clock = new ManualClock();
    const g = gauge();
    const p = pipeline('wide', {
      items: () => Array.from({ length: 6 }, (_, i) => i),
      out: map(
        'items',
        (i: number, _deps: object, { signal }) =>
          g.track(() => clock.sleep(10, signal)).then(() => i),
        { deps: [] },
      ),
    });
    await drive(clock, p.run({}, { clock, concurrency: 2 }), { stepMs: 5 });
    expect(g.calls).toBe(6);
    expect(g.max).toBe(2);
  });
});

describe('cancellation', () => {
  function longRunning(clock: ManualClock) {
    const aborted: unknown[] = [];
    const p = pipeline('long', {
      first: node({ deps: [] }, async (_: object, { signal }) => {
        signal.addEventListener('abort', () => aborted.push(signal.reason));
        await clock.sleep(60_000, signal);
        return 1;
      }),
      second: ({ first }: { first: number }) => first + 1,
    });
    return { p, aborted };
  }

  it('aborts running nodes and cancels the rest through the signal', async () => {
    const clock = new ManualClock();
    const { p, aborted } = longRunning(clock);
    const controller = new AbortController();
    const rec = recorder();
    const result = p.run({}, { clock, signal: controller.signal, onEvent: rec.onEvent });
    await clock.advance(1000);
    expect(await isSettled(result)).toBe(false);
    controller.abort();
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunCancelledError);
    expect(aborted).toHaveLength(1);
    expect(rec.final()).toEqual({ first: 'cancelled', second: 'cancelled' });
    expect(clock.pending).toBe(0);
  });

  it('runs nothing when the signal is already aborted', async () => {
    const clock = new ManualClock();
    const { p, aborted } = longRunning(clock);
    const rec = recorder();
    const error = await p
      .run({}, { clock, signal: AbortSignal.abort(), onEvent: rec.onEvent })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunCancelledError);
    expect(aborted).toEqual([]);
    expect(rec.attempts('first')).toBe(0);
    expect(rec.final()).toEqual({ first: 'cancelled', second: 'cancelled' });
  });

  it('cancels a retry waiting out its backoff', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const p = pipeline('backoff', {
      flaky: node({ deps: [], retries: { retries: 3, ...noJitter } }, () => {
        calls++;
        throw new Error('nope');
      }),
    });
    const controller = new AbortController();
    const rec = recorder();
    const result = p.run({}, { clock, signal: controller.signal, onEvent: rec.onEvent });
    await clock.advance(500);
    controller.abort();
    await expect(result).rejects.toBeInstanceOf(RunCancelledError);
    expect(calls).toBe(1);
    expect(rec.statuses('flaky')).toEqual(['running', 'queued', 'cancelled']);
  });
});
