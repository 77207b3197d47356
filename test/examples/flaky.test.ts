import { describe, expect, it } from 'vitest';
import { ManualClock, RunFailedError } from 'weft';
import { flaky, itemFailures, MAX_ITEM_FAILURES } from '../../examples/flaky/pipeline.js';
import { drive, recorder } from '../support/run-helpers.js';

describe('examples/flaky', () => {
  it('fails its items deterministically, within the retries it has', () => {
    const failures = Array.from({ length: 200 }, (_, i) => itemFailures(42, i));
    expect(failures.slice(0, 5)).toEqual([2, 1, 0, 0, 2]);
    expect(Math.min(...failures)).toBe(0);
    expect(Math.max(...failures)).toBe(MAX_ITEM_FAILURES);
    expect(Array.from({ length: 200 }, (_, i) => itemFailures(42, i))).toEqual(failures);
  });

  it('succeeds after the expected attempts, timed by the clock (ManualClock)', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const rec = recorder();
    const result = await drive(clock, flaky.run({}, { clock, onEvent: rec.onEvent }), {
      stepMs: 5,
    });

    expect(result.total).toMatchObject({
      region: 'eu-west',
      items: 5,
      attempts: { quote: 3, lookup: 2, prices: 3 + 2 + 1 + 1 + 3 },
    });
    expect(result.prices.map((x) => x.sku)).toEqual([
      'sku-000',
      'sku-001',
      'sku-002',
      'sku-003',
      'sku-004',
    ]);
    expect(result.prices[1]?.price).toBe(102.26);

    // quote: fails twice, backing off 50 ms then 100 ms.
    const quoteRuns = rec.steps().filter((e) => e.step === 'quote' && e.status === 'running');
    expect(quoteRuns.map((e) => [e.attempt, e.at - t0])).toEqual([
      [1, 0],
      [2, 50],
      [3, 150],
    ]);
    expect(
      rec
        .logs()
        .filter((l) => l.step === 'quote')
        .map((l) => l.message),
    ).toEqual([
      'quote service answered 503 on attempt 1',
      'quote service answered 503 on attempt 2',
    ]);

    // lookup: the first attempt times out at 100 ms, the retry starts 50 ms later.
    const lookup = rec.steps().filter((e) => e.step === 'lookup');
    expect(lookup.map((e) => [e.status, e.attempt, e.at - t0])).toEqual([
      ['running', 1, 0],
      ['queued', 1, 100],
      ['running', 2, 150],
      ['succeeded', 2, 150],
    ]);
    expect(lookup[1]?.error).toMatchObject({ name: 'TimeoutError', code: 'timeout' });

    // prices: each item retried on its own, as often as its seeded failures say.
    const attempts = [0, 1, 2, 3, 4].map((i) => rec.attempts(`prices[${i}]`));
    expect(attempts).toEqual([3, 2, 1, 1, 3]);
    expect(result.prices.map((x) => x.attempt)).toEqual(attempts);
  });

  it('keeps at most 3 price lookups in flight', async () => {
    const clock = new ManualClock();
    const rec = recorder();
    await drive(clock, flaky.run({ items: 12, seed: 7 }, { clock, onEvent: rec.onEvent }), {
      stepMs: 5,
    });
    let inFlight = 0;
    let max = 0;
    for (const e of rec.steps()) {
      if (e.node !== 'prices') continue;
      if (e.status === 'running' && e.attempt === 1) inFlight++;
      if (e.status === 'succeeded' || e.status === 'failed') inFlight--;
      max = Math.max(max, inFlight);
    }
    expect(inFlight).toBe(0);
    expect(max).toBe(3);
    expect(rec.final()).toMatchObject({ total: 'succeeded', 'prices[11]': 'succeeded' });
  });

  it('fails the quote when it fails more often than it retries, skipping what needs it', async () => {
    const clock = new ManualClock();
    const rec = recorder();
    const error = (await drive(clock, flaky.run({ failures: 4 }, { clock, onEvent: rec.onEvent }), {
      stepMs: 5,
    }).catch((e: unknown) => e)) as RunFailedError;
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.failed.map((f) => f.step)).toEqual(['quote']);
    expect(error.failed[0]?.error.message).toBe('quote service unavailable (503), attempt 4');
    expect(rec.attempts('quote')).toBe(4);
    expect(rec.final()).toMatchObject({
      quote: 'failed',
      lookup: 'succeeded',
      skus: 'succeeded',
      prices: 'skipped',
      total: 'skipped',
    });
  });

  it('prices nothing for zero items', async () => {
    const clock = new ManualClock();
    const result = await drive(clock, flaky.run({ items: 0, failures: 0 }, { clock }), {
      stepMs: 5,
    });
    expect(result.prices).toEqual([]);
    expect(result.total).toMatchObject({ items: 0, total: 0, attempts: { quote: 1 } });
  });

  it('runs for real with its small delays, well under two seconds', async () => {
    const started = performance.now();
    const result = await flaky.run({ items: 3 });
    const elapsed = performance.now() - started;
    expect(result.total.attempts).toEqual({ quote: 3, lookup: 2, prices: 3 + 2 + 1 });
    // 150 ms of backoff on the longest path; allow for a slow machine.
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(2000);
  });
});
