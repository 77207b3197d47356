import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  InputError,
  ManualClock,
  RunFailedError,
  node,
  pipeline,
  run,
  task,
  type TaskContext,
} from '../../src/index.js';
import { drive, recorder } from '../support/run-helpers.js';

interface Order {
  id: number;
  region: string;
  amount: number;
}

const ORDERS: Order[] = [
  { id: 1, region: 'eu', amount: 10 },
  { id: 2, region: 'us', amount: 20 },
  { id: 3, region: 'eu', amount: -5 },
  { id: 4, region: 'apac', amount: 7 },
];

/** A Hamilton-style daily pipeline whose nodes count their calls. */
function daily() {
  const calls: Record<string, number> = {};
  const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1);
  const p = pipeline(
    'daily',
    {
      orders: ({ day }: { day: string }) => {
        count('orders');
        return ORDERS.map((o) => ({ ...o, region: `${o.region}@${day}` }));
      },
      cleaned: ({ orders }: { orders: Order[] }) => {
        count('cleaned');
        return orders.filter((o) => o.amount > 0);
      },
      total: async ({ cleaned }: { cleaned: Order[] }) => {
        count('total');
        await Promise.resolve();
        return cleaned.reduce((s, o) => s + o.amount, 0);
      },
      regions: ({ cleaned }: { cleaned: Order[] }) => {
        count('regions');
        return [...new Set(cleaned.map((o) => o.region))].sort();
      },
      report: ({ total, regions, day }: { total: number; regions: string[]; day: string }) => {
        count('report');
        return `${day}: ${total} over ${regions.length} regions`;
      },
    },
    { params: z.object({ day: z.string() }) },
  );
  return { p, calls };
}

describe('running a pipeline in-process', () => {
  it('runs every node with p.run(params)', async () => {
    const { p, calls } = daily();
    const out = await p.run({ day: 'mon' });
    expect(out.total).toBe(37);
    expect(out.regions).toEqual(['apac@mon', 'eu@mon', 'us@mon']);
    expect(out.report).toBe('mon: 37 over 3 regions');
    expect(Object.keys(out).sort()).toEqual(['cleaned', 'orders', 'regions', 'report', 'total']);
    expect(calls).toEqual({ orders: 1, cleaned: 1, total: 1, regions: 1, report: 1 });
  });

  it('runs with the top-level run(p, { params, ... })', async () => {
    const { p, calls } = daily();
    const out = await run(p, { params: { day: 'tue' }, outputs: ['total'] });
    expect(out).toEqual({ total: 37 });
    expect(calls.report).toBeUndefined();
  });

  it('refuses a target that is not a pipeline', () => {
    expect(() => run({ kind: 'task' } as never)).toThrow(ConfigError);
  });

  it('runs only what the requested outputs need', async () => {
    const { p, calls } = daily();
    const out = await p.run({ day: 'wed' }, { outputs: ['regions'] });
    expect(out).toEqual({ regions: ['apac@wed', 'eu@wed', 'us@wed'] });
    expect(calls).toEqual({ orders: 1, cleaned: 1, regions: 1 });
  });

  it('rejects an unknown output with a suggestion', async () => {
    const { p, calls } = daily();
    await expect(p.run({ day: 'x' }, { outputs: ['totl' as 'total'] })).rejects.toThrow(
      /unknown output "totl"; did you mean "total"\?/,
    );
    expect(calls).toEqual({});
  });

  it('uses overrides instead of running a node and its upstream', async () => {
    const { p, calls } = daily();
    const cleaned: Order[] = [{ id: 9, region: 'mars', amount: 100 }];
    const out = await p.run({ day: 'thu' }, { overrides: { cleaned }, outputs: ['report'] });
    expect(out).toEqual({ report: 'thu: 100 over 1 regions' });
    expect(calls).toEqual({ total: 1, regions: 1, report: 1 });
  });

  it('returns an overridden node asked for as an output', async () => {
    const { p, calls } = daily();
    const out = await p.run(
      { day: 'x' },
      { overrides: { total: 5 }, outputs: ['total', 'report'] },
    );
    expect(out).toEqual({ total: 5, report: 'x: 5 over 3 regions' });
    expect(calls.total).toBeUndefined();
    expect(calls.regions).toBe(1);
  });

  it('rejects an override of an unknown node', async () => {
    const { p } = daily();
    await expect(p.run({ day: 'x' }, { overrides: { cleand: [] } })).rejects.toThrow(
      /cannot override "cleand": no such node; did you mean "cleaned"\?/,
    );
  });

  it('validates params with zod before any node runs, naming the field', async () => {
    let ran = 0;
    const p = pipeline(
      'filtered',
      {
        rows: ({ filters }: { filters: { min: number }[] }) => {
          ran++;
          return filters.length;
        },
      },
      { params: z.object({ filters: z.array(z.object({ min: z.number() })) }) },
    );
    const attempt = p.run({ filters: [{ min: 'low' as unknown as number }] });
    await expect(attempt).rejects.toThrow(InputError);
    await expect(attempt).rejects.toThrow(/filters\.0\.min/);
    await expect(attempt).rejects.toThrow(/pipeline filtered: invalid params/);
    const error = (await attempt.catch((e: unknown) => e)) as InputError;
    expect(error.issues[0]?.path).toEqual(['filters', 0, 'min']);
    expect(ran).toBe(0);
  });

  it('passes the parsed params (defaults, coercions) to the nodes', async () => {
    const p = pipeline(
      'defaults',
      {
        label: ({ day, limit }: { day: Date; limit: number }) =>
          `${day.toISOString().slice(0, 10)}/${limit}`,
      },
      { params: z.object({ day: z.coerce.date(), limit: z.number().default(10) }) },
    );
    await expect(p.run({ day: '2026-03-04' })).resolves.toEqual({ label: '2026-03-04/10' });
  });

  it('rejects a missing params object when the schema needs fields', async () => {
    const { p } = daily();
    await expect((p.run as (x?: unknown) => Promise<unknown>)()).rejects.toThrow(/day/);
  });

  it('runs an explicit-reference pipeline', async () => {
    const p = pipeline('explicit', { params: z.object({ n: z.number() }) }, (b) => {
      const nums = b.node('nums', { n: b.params.n }, ({ n }) =>
        Array.from({ length: n }, (_, i) => i + 1),
      );
      const sum = b.node('sum', { xs: nums }, ({ xs }) => xs.reduce((a, x) => a + x, 0));
      const both = b.node('both', { s: sum, n: b.params.n }, async ({ s, n }) => s / n);
      return { sum, both };
    });
    await expect(p.run({ n: 4 })).resolves.toMatchObject({ sum: 10, both: 2.5 });
    await expect(p.run({ n: 4 }, { outputs: ['sum'] })).resolves.toEqual({ sum: 10 });
  });

  it('refuses a bad run-wide concurrency', async () => {
    const { p } = daily();
    await expect(p.run({ day: 'x' }, { concurrency: 0 })).rejects.toThrow(ConfigError);
  });
});

describe('failures', () => {
  /**
   * a → b → c fails at a; d (independent, async and slow) must still finish; e depends on
   * both c and d, f on d alone.
   */
  function branching(opts: { failFast?: boolean } = {}) {
    const clock = new ManualClock();
    const ran: string[] = [];
    const p = pipeline(
      'branching',
      {
        a: (): number => {
          ran.push('a');
          throw new Error('source unavailable');
        },
        b: ({ a }: { a: number }) => (ran.push('b'), a + 1),
        c: ({ b }: { b: number }) => (ran.push('c'), b + 1),
        d: node({ deps: [] }, async (_: object, { signal }) => {
          await clock.sleep(1000, signal);
          ran.push('d');
          return 4;
        }),
        e: ({ c, d }: { c: number; d: number }) => (ran.push('e'), c + d),
        f: ({ d }: { d: number }) => (ran.push('f'), d * 2),
      },
      opts,
    );
    return { p, clock, ran };
  }

  it('skips downstream of a failed node while independent branches finish', async () => {
    const { p, clock, ran } = branching();
    const rec = recorder();
    const error = await drive(clock, p.run({}, { clock, onEvent: rec.onEvent })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RunFailedError);
    const failed = error as RunFailedError;
    expect(failed.failed.map((f) => f.step)).toEqual(['a']);
    expect(failed.failed[0]?.error.message).toBe('source unavailable');
    expect(failed.message).toContain('1 step(s) failed: a');
    expect(failed.message).toContain('source unavailable');
    expect(ran.sort()).toEqual(['a', 'd', 'f']);
    expect(rec.final()).toEqual({
      a: 'failed',
      b: 'skipped',
      c: 'skipped',
      d: 'succeeded',
      e: 'skipped',
      f: 'succeeded',
    });
    // Skipped nodes get exactly one event each, after everything else.
    expect(rec.statuses('b')).toEqual(['skipped']);
    const order = rec.steps().map((s) => `${s.step}:${s.status}`);
    expect(order.indexOf('d:succeeded')).toBeLessThan(order.indexOf('b:skipped'));
  });

  it('lists every failed node in the RunFailedError', async () => {
    const p = pipeline('two-failures', {
      x: (): number => {
        throw new Error('x broke');
      },
      y: async (): Promise<number> => {
        throw new TypeError('y broke');
      },
      z: () => 3,
    });
    const error = (await p.run().catch((e: unknown) => e)) as RunFailedError;
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.failed.map((f) => f.step).sort()).toEqual(['x', 'y']);
    expect(error.failed.find((f) => f.step === 'y')?.error.name).toBe('TypeError');
    expect(error.code).toBe('run_failed');
  });

  it('with failFast, stops the rest at the first failure', async () => {
    const { p, clock, ran } = branching({ failFast: true });
    const rec = recorder();
    // No clock advance: fail-fast must not wait for d's sleep.
    const error = await p.run({}, { clock, onEvent: rec.onEvent }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect(ran).toEqual(['a']);
    // Downstream of the failure: skipped; stopped by fail-fast: cancelled.
    expect(rec.final()).toEqual({
      a: 'failed',
      d: 'cancelled',
      b: 'skipped',
      c: 'skipped',
      e: 'skipped',
      f: 'cancelled',
    });
    expect(clock.pending).toBe(0);
  });

  it('failFast as a run option overrides the pipeline default', async () => {
    const { p, clock } = branching();
    const rec = recorder();
    await p.run({}, { clock, failFast: true, onEvent: rec.onEvent }).catch(() => undefined);
    expect(rec.final().d).toBe('cancelled');
  });

  it('reports a thrown non-Error value', async () => {
    const p = pipeline('odd', {
      x: (): number => {
        throw { reason: 'plain object' };
      },
    });
    const error = (await p.run().catch((e: unknown) => e)) as RunFailedError;
    expect(error.failed[0]?.error).toMatchObject({
      name: 'NonErrorThrown',
      message: '{"reason":"plain object"}',
    });
  });
});

describe('events', () => {
  it('reports step transitions and log lines through onEvent', async () => {
    const clock = new ManualClock(Date.UTC(2026, 4, 1));
    const rec = recorder();
    const p = pipeline('logged', {
      first: node({ deps: [] }, (_: object, { log }) => {
        log.info('loaded rows', { n: 3 });
        return 3;
      }),
      second: node({}, async ({ first }: { first: number }, { log, step, attempt, runId }) => {
        log.warn(`step ${step} attempt ${attempt} of ${runId}`);
        log.error('plain');
        return first * 2;
      }),
    });
    await expect(p.run({}, { clock, onEvent: rec.onEvent })).resolves.toEqual({
      first: 3,
      second: 6,
    });
    expect(rec.statuses('first')).toEqual(['running', 'succeeded']);
    expect(rec.statuses('second')).toEqual(['running', 'succeeded']);
    expect(rec.logs()).toEqual([
      {
        type: 'log',
        step: 'first',
        level: 'info',
        message: 'loaded rows {"n":3}',
        at: clock.now(),
      },
      {
        type: 'log',
        step: 'second',
        level: 'warn',
        message: 'step second attempt 1 of local',
        at: clock.now(),
      },
      { type: 'log', step: 'second', level: 'error', message: 'plain', at: clock.now() },
    ]);
    const first = rec.steps()[0]!;
    expect(first).toMatchObject({ type: 'step', step: 'first', node: 'first', attempt: 1 });
    expect(first.at).toBe(Date.UTC(2026, 4, 1));
  });
});

describe('explicit pipelines compute what they return', () => {
  it('runs only the returned nodes and what they need, and returns only those', async () => {
    const calls: string[] = [];
    const p = pipeline('returned', {}, (b) => {
      const base = b.node('base', {}, () => (calls.push('base'), 1));
      b.node('unused', { base }, ({ base }) => (calls.push('unused'), base));
      const top = b.node('top', { base }, ({ base }) => (calls.push('top'), base + 1));
      return { top };
    });
    expect(await p.run()).toEqual({ top: 2 });
    expect(calls).toEqual(['base', 'top']);
    expect(await p.run(undefined, { outputs: ['unused'] as never })).toEqual({ unused: 1 });
  });

  it('refuses a build function that returns something other than node references', () => {
    expect(() => pipeline('bad-return', {}, () => ({ x: 1 }) as never)).toThrow(
      /returned "x", which is not a reference to a node/,
    );
  });
});

describe('small definition conveniences', () => {
  it('a Hamilton node whose parameter is named _ has no dependencies and still gets its context', async () => {
    const p = pipeline('ctx-only', { whoAmI: (_: unknown, ctx: TaskContext) => ctx.step });
    expect(await p.run()).toEqual({ whoAmI: 'whoAmI' });
  });

  it('options given with a task refine its policy instead of replacing it', () => {
    const t = task('shared', { concurrency: 2, timeout: '1s' }, (x: { n: number }) => x.n);
    const p = pipeline('refined', { params: z.object({ n: z.number() }) }, (b) => {
      const out = b.node('out', { n: b.params.n }, t, { retries: 3 });
      return { out };
    });
    const policy = p.spec.nodes.get('out')!.policy;
    expect(policy.maxAttempts).toBe(4);
    expect(policy.concurrency).toBe(2);
    expect(policy.timeoutMs).toBe(1000);
  });
});
