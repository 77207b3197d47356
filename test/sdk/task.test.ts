import { describe, expect, it } from 'vitest';
import { ConfigError, isTask, pipeline, task } from '../../src/index.js';

describe('tasks called as plain functions', () => {
  it('returns a promise of the function result', async () => {
    const add = task('add', ({ a, b }: { a: number; b: number }) => a + b);
    const result = add({ a: 2, b: 3 });
    expect(result).toBeInstanceOf(Promise);
    await expect(result).resolves.toBe(5);
  });

  it('applies no policy: no retries', async () => {
    let calls = 0;
    const flaky = task('flaky', { retries: 5, timeout: 1 }, async (n: number, { signal }) => {
      calls++;
      await Promise.resolve();
      expect(signal.aborted).toBe(false);
      if (n < 0) throw new Error('negative');
      return n;
    });
    await expect(flaky(1)).resolves.toBe(1);
    await expect(flaky(-1)).rejects.toThrow('negative');
    expect(calls).toBe(2);
  });

  it('turns a synchronous throw into a rejection', async () => {
    const boom = task('boom', (): number => {
      throw new Error('sync boom');
    });
    const result = boom();
    expect(result).toBeInstanceOf(Promise);
    await expect(result).rejects.toThrow('sync boom');
  });

  it('gives the function a plain context outside any run', async () => {
    const inspect = task('inspect', (_: void, ctx) => ({
      attempt: ctx.attempt,
      runId: ctx.runId,
      step: ctx.step,
      aborted: ctx.signal.aborted,
      hasLog: typeof ctx.log.info === 'function',
    }));
    await expect(inspect()).resolves.toEqual({
      attempt: 1,
      runId: null,
      step: null,
      aborted: false,
      hasLog: true,
    });
  });

  it('exposes its name, function and resolved policy', () => {
    const t = task(
      'load-orders',
      {
        retries: { retries: 2, initialDelay: '250ms', maxDelay: '10s' },
        timeout: '30s',
        concurrency: 4,
        description: 'loads orders',
      },
      () => [],
    );
    expect(isTask(t)).toBe(true);
    expect(isTask(() => 1)).toBe(false);
    expect(t.taskName).toBe('load-orders');
    expect(t.description).toBe('loads orders');
    expect(t.policy).toMatchObject({
      maxAttempts: 3,
      initialDelayMs: 250,
      maxDelayMs: 10_000,
      timeoutMs: 30_000,
      concurrency: 4,
    });
  });

  it('rejects bad options at definition time, naming the task and the option', () => {
    expect(() => task('t', { retries: -1 }, () => 1)).toThrow(/task t: retries: -1 must be/);
    expect(() => task('t', { timeout: 'soon' as never }, () => 1)).toThrow(/task t: timeout/);
    expect(() => task('t', { concurrency: 0 }, () => 1)).toThrow(ConfigError);
    expect(() => task('t', { concurrencyKey: () => 'k' }, () => 1)).toThrow(/needs concurrency/);
    expect(() => task('t', {} as never)).toThrow(/expected a function/);
  });

  it('runs the same function inside a pipeline with the run context', async () => {
    const where = task('where', ({ n }: { n: number }, ctx) => `${ctx.step}:${n}`);
    const p = pipeline('uses-task', { n: () => 7, where });
    await expect(p.run()).resolves.toMatchObject({ where: 'where:7' });
    await expect(where({ n: 7 })).resolves.toBe('null:7');
  });
});
