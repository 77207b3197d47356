import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/index.js';
import { DEFAULT_POLICY, resolvePolicy, retryDelay, type Policy } from '../../src/core/policy.js';

const policy = (overrides: Partial<Policy>): Policy => ({ ...DEFAULT_POLICY, ...overrides });

describe('retryDelay', () => {
  it('grows by the factor from the initial delay', () => {
    const p = policy({ initialDelayMs: 100, factor: 3, jitter: 0, maxDelayMs: 1e9 });
    expect([2, 3, 4, 5].map((n) => retryDelay(p, n))).toEqual([100, 300, 900, 2700]);
  });

  it('caps at maxDelay', () => {
    const p = policy({ initialDelayMs: 1000, factor: 2, jitter: 0, maxDelayMs: 5000 });
    expect([2, 3, 4, 5, 6, 30].map((n) => retryDelay(p, n))).toEqual([
      1000, 2000, 4000, 5000, 5000, 5000,
    ]);
  });

  it('never overflows to Infinity or NaN for huge attempt numbers', () => {
    const p = policy({ initialDelayMs: 1000, factor: 2, jitter: 0, maxDelayMs: 60_000 });
    expect(retryDelay(p, 5000)).toBe(60_000);
  });

  it('moves each delay by at most ±jitter of itself', () => {
    const p = policy({ initialDelayMs: 1000, factor: 2, jitter: 0.2, maxDelayMs: 60_000 });
    expect(retryDelay(p, 2, () => 0)).toBe(800);
    expect(retryDelay(p, 2, () => 0.5)).toBe(1000);
    expect(retryDelay(p, 2, () => 0.999999)).toBe(1200);
    expect(retryDelay(p, 3, () => 0)).toBe(1600);
    // With the real random source, every delay stays within the bounds and they vary.
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const d = retryDelay(p, 4);
      expect(d).toBeGreaterThanOrEqual(3200);
      expect(d).toBeLessThanOrEqual(4800);
      seen.add(d);
    }
    expect(seen.size).toBeGreaterThan(50);
  });

  it('applies jitter below the capped delay, never past maxDelay', () => {
    const p = policy({ initialDelayMs: 1000, factor: 10, jitter: 0.5, maxDelayMs: 2000 });
    expect(retryDelay(p, 5, () => 0)).toBe(1000);
    expect(retryDelay(p, 5, () => 0.25)).toBe(1500);
    expect(retryDelay(p, 5, () => 0.999999)).toBe(2000);
  });

  it('gives zero for a zero initial delay', () => {
    expect(retryDelay(policy({ initialDelayMs: 0 }), 3, () => 1)).toBe(0);
  });
});

describe('resolvePolicy', () => {
  it('returns the defaults without options', () => {
    expect(resolvePolicy('task t', undefined)).toEqual(DEFAULT_POLICY);
    expect(DEFAULT_POLICY).toMatchObject({ maxAttempts: 1, timeoutMs: null, concurrency: null });
  });

  it('takes a retry count or full retry settings', () => {
    expect(resolvePolicy('t', { retries: 3 }).maxAttempts).toBe(4);
    expect(
      resolvePolicy('t', {
        retries: { retries: 2, initialDelay: '2s', maxDelay: '1m', factor: 1.5, jitter: 0 },
        timeout: '10s',
        priority: -3,
      }),
    ).toMatchObject({
      maxAttempts: 3,
      initialDelayMs: 2000,
      maxDelayMs: 60_000,
      factor: 1.5,
      jitter: 0,
      timeoutMs: 10_000,
      priority: -3,
    });
  });

  it.each([
    [{ retries: 1.5 }, 'task t: retries: 1.5 must be a whole number >= 0'],
    [{ retries: -1 }, 'task t: retries: -1 must be a whole number >= 0'],
    [{ retries: { factor: 0.5 } }, 'task t: retries.factor must be a number >= 1'],
    [{ retries: { jitter: 1.5 } }, 'task t: retries.jitter must be between 0 and 1'],
    [{ retries: { maxDelay: 'forever' } }, 'task t: retries.maxDelay: "forever" is not a duration'],
    [{ concurrency: 0 }, 'task t: concurrency: 0 must be a whole number >= 1'],
    [{ concurrencyKey: () => 'k' }, 'task t: concurrencyKey needs concurrency'],
    [{ concurrency: 1, concurrencyKey: 'k' }, 'task t: concurrencyKey must be a function'],
    [{ priority: Number.NaN }, 'task t: priority must be a finite number'],
  ])('rejects %j', (options, message) => {
    expect(() => resolvePolicy('task t', options as never)).toThrow(ConfigError);
    expect(() => resolvePolicy('task t', options as never)).toThrow(message);
  });
});

describe('labels', () => {
  it('are sorted and deduplicated; a bad one is an error naming it and the owner', () => {
    expect(resolvePolicy('task t', { labels: ['region-eu', 'gpu', 'gpu'] }).labels).toEqual([
      'gpu',
      'region-eu',
    ]);
    expect(resolvePolicy('task t', {}).labels).toEqual([]);
    expect(() => resolvePolicy('task t', { labels: ['gpu', 'has space'] })).toThrow(
      /task t: label "has space" is invalid/,
    );
    expect(() => resolvePolicy('task t', { labels: 'gpu' as never })).toThrow(
      /task t: labels must be an array of strings/,
    );
  });
});
