import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../src/core/clock.js';
import {
  InputError,
  NonRetryableError,
  RunFailedError,
  TimeoutError,
} from '../../src/core/errors.js';
import { map, node, pipeline, task, type Ref, type TaskContext } from '../../src/index.js';
import { advanceUntil, engineScope, interceptStore, tempStore } from './helpers.js';

const scope = engineScope();
afterEach(() => scope.closeAll());
const engineFor = scope.engineFor;

interface Sale {
  region: string;
  amount: number;
}

const sales = pipeline(
  'sales',
  {
    rows: ({ n }: { n: number }): Sale[] =>
      Array.from({ length: n }, (_, i) => ({ region: ['eu', 'us', 'apac'][i % 3]!, amount: i })),
    regions: ({ rows }: { rows: Sale[] }) => [...new Set(rows.map((r) => r.region))],
    totals: map('regions', (region: string, { rows }: { rows: Sale[] }) => {
      console.log(`summing ${region}`);
      return rows.filter((r) => r.region === region).reduce((s, r) => s + r.amount, 0);
    }),
    byDigit: map('regions', (ch: string) => ch.toUpperCase(), { each: (r: string) => r.split('') }),
    report: ({ regions, totals }: { regions: string[]; totals: number[] }, ctx: TaskContext) => {
      ctx.log.info('writing report', { regions: regions.length });
      return Object.fromEntries(regions.map((r, i) => [r, totals[i]]));
    },
  },
  { params: z.object({ n: z.number().int().min(1) }) },
);

describe('durable pipeline runs on SQLite', () => {
  it('computes what the in-process runner computes, and records every step', async () => {
    const { engine, store } = await engineFor({ definitions: [sales] });
    const local = await sales.run({ n: 12 });
    const { runId, outputs } = await engine.run(sales, { params: { n: 12 } });
    expect(outputs).toEqual(local);
    expect(outputs.byDigit).toEqual([
      ['E', 'U'],
      ['U', 'S'],
      ['A', 'P', 'A', 'C'],
    ]);

    const run = await store.getRun(runId);
    expect(run?.status).toBe('succeeded');
    expect(run?.finishedAt).not.toBeNull();
    const steps = await store.listSteps(runId);
    const keys = steps.map((s) => s.key).sort();
    expect(keys).toContain('totals[2]');
    expect(keys).toContain('byDigit[2][3]');
    expect(steps.every((s) => s.status === 'succeeded')).toBe(true);
    const logs = await store.listLogs(runId);
    expect(logs.map((l) => l.message)).toContain('summing apac');
    expect(logs.find((l) => l.stepKey === 'report')?.message).toBe('writing report {"regions":3}');
    expect((await store.listAttempts(runId)).length).toBe(steps.length - 2); // maps themselves expand
  });

  it('runs only what the requested outputs need, and honours overrides', async () => {
    let rowsCalls = 0;
    const p = pipeline('partial', {
      rows: () => {
        rowsCalls++;
        return [1, 2, 3];
      },
      sum: ({ rows }: { rows: number[] }) => rows.reduce((a, b) => a + b, 0),
      count: ({ rows }: { rows: number[] }) => rows.length,
    });
    const { engine, store } = await engineFor({ definitions: [p] });
    const a = await engine.run(p, { outputs: ['count'] });
    expect(a.outputs).toEqual({ count: 3 });
    expect((await store.listSteps(a.runId)).map((s) => s.key).sort()).toEqual(['count', 'rows']);
    const b = await engine.run(p, { outputs: ['sum'], overrides: { rows: [10, 20] } });
    expect(b.outputs).toEqual({ sum: 30 });
    expect(rowsCalls).toBe(1);
    const override = (await store.listSteps(b.runId)).find((s) => s.key === 'rows');
    expect(override?.origin).toBe('override');
  });

  it('rejects bad params before anything runs, naming the field', async () => {
    const { engine, store } = await engineFor({ definitions: [sales] });
    await expect(engine.submit(sales, { params: { n: 0 } })).rejects.toThrow(InputError);
    await expect(engine.submit(sales, { params: { n: 'x' } })).rejects.toThrow(/n: /);
    expect(await store.listRuns()).toHaveLength(0);
  });

  it('an idempotency key gives back the same run', async () => {
    const { engine } = await engineFor({ definitions: [sales] });
    const a = await engine.submit(sales, { params: { n: 3 }, idempotencyKey: 'k1' });
    const b = await engine.submit(sales, { params: { n: 3 }, idempotencyKey: 'k1' });
    expect(b.id).toBe(a.id);
    await engine.wait(a.id);
  });

  it('a failed node skips its downstream; independent branches finish', async () => {
    const p = pipeline('branches', {
      src: () => 1,
      bad: ({ src }: { src: number }): number => {
        throw new NonRetryableError(`no good: ${src}`);
      },
      after: ({ bad }: { bad: number }) => bad + 1,
      good: ({ src }: { src: number }) => src + 1,
    });
    const { engine, store } = await engineFor({ definitions: [p] });
    const run = await engine.submit(p);
    const done = await engine.wait(run.id);
    expect(done.status).toBe('failed');
    const status = Object.fromEntries(
      (await store.listSteps(run.id)).map((s) => [s.key, s.status]),
    );
    expect(status).toEqual({
      src: 'succeeded',
      bad: 'failed',
      after: 'skipped',
      good: 'succeeded',
    });
    const error = await engine.outputs(run.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as RunFailedError).failed.map((f) => f.step)).toEqual(['bad']);
    expect((error as RunFailedError).message).toContain('no good: 1');
    const stored = (await store.listSteps(run.id)).find((s) => s.key === 'bad');
    expect(stored?.error?.stack).toContain('no good');
  });

  it('retries with backoff on the injected clock', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const flaky = task('flaky', { retries: { retries: 3, initialDelay: '10s', jitter: 0 } }, () => {
      calls++;
      if (calls < 3) throw new Error(`boom ${calls}`);
      return 'ok';
    });
    const p = pipeline('retrying', { value: flaky });
    const { engine, store } = await engineFor({ definitions: [p], clock, pollMs: 60_000 });
    const run = await engine.submit(p);
    await advanceUntil(clock, async () => (await store.getRun(run.id))?.status === 'succeeded');
    expect(calls).toBe(3);
    const attempts = await store.listAttempts(run.id);
    expect(attempts.map((a) => a.status)).toEqual(['failed', 'failed', 'succeeded']);
    // First retry after 10 s, second after 20 s (factor 2, no jitter).
    expect(attempts[1]!.startedAt - attempts[0]!.finishedAt).toBeGreaterThanOrEqual(10_000);
    expect(attempts[2]!.startedAt - attempts[1]!.finishedAt).toBeGreaterThanOrEqual(20_000);
    expect(await engine.outputs(run.id)).toEqual({ value: 'ok' });
  });

  it('times out an attempt, aborting its signal, and retries it', async () => {
    const clock = new ManualClock();
    const seen: string[] = [];
    const p = pipeline('slow', {
      value: node(
        { timeout: '5s', retries: { retries: 1, initialDelay: '1s' } },
        (_: unknown, ctx: TaskContext) => {
          if (ctx.attempt === 2) return 'second';
          return new Promise<string>((_, reject) => {
            ctx.signal.addEventListener('abort', () => {
              seen.push((ctx.signal.reason as Error).name);
              reject(ctx.signal.reason as Error);
            });
          });
        },
      ),
    });
    const { engine, store } = await engineFor({ definitions: [p], clock, pollMs: 60_000 });
    const run = await engine.submit(p);
    await advanceUntil(clock, async () => (await store.getRun(run.id))?.status === 'succeeded');
    expect(seen).toEqual([TimeoutError.name]);
    const attempts = await store.listAttempts(run.id);
    expect(attempts[0]?.error?.code).toBe('timeout');
    expect(await engine.outputs(run.id)).toEqual({ value: 'second' });
  });

  it('cancels a run: running steps receive an abort, the rest never start', async () => {
    let aborted = false;
    let started!: () => void;
    const startedP = new Promise<void>((r) => (started = r));
    const p = pipeline('cancellable', {
      wait: (_: unknown, ctx: TaskContext) =>
        new Promise<number>((_, reject) => {
          started();
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            reject(ctx.signal.reason as Error);
          });
        }),
      next: ({ wait }: { wait: number }) => wait + 1,
    });
    const { engine, store } = await engineFor({ definitions: [p] });
    const run = await engine.submit(p);
    await startedP;
    await engine.cancel(run.id);
    expect((await engine.wait(run.id)).status).toBe('cancelled');
    expect(aborted).toBe(true);
    const status = Object.fromEntries(
      (await store.listSteps(run.id)).map((s) => [s.key, s.status]),
    );
    expect(status).toEqual({ wait: 'cancelled', next: 'cancelled' });
  });

  it('bounds concurrency: engine-wide, per map, and per task across nodes', async () => {
    const gauge = () => {
      const g = { now: 0, max: 0 };
      const track = async <T>(value: T): Promise<T> => {
        g.now++;
        g.max = Math.max(g.max, g.now);
        // Long enough for two steps to overlap even when each takes a global slot first.
        await new Promise((r) => setTimeout(r, 15));
        g.now--;
        return value;
      };
      return { g, track };
    };
    const all = gauge();
    const perMap = gauge();
    const perTask = gauge();
    const limited = task('limited', { concurrency: 1 }, (x: number) => perTask.track(x));
    const p = pipeline('wide', {
      items: () => Array.from({ length: 12 }, (_, i) => i),
      work: map('items', (i: number) => all.track(i * 2)),
      capped: map('items', (i: number) => perMap.track(i), { concurrency: 2 }),
      viaTask: map('items', limited),
      againTask: map('items', limited),
    });
    const { engine } = await engineFor({ definitions: [p], concurrency: 4 });
    const { outputs } = await engine.run(p);
    expect(outputs.work).toEqual(Array.from({ length: 12 }, (_, i) => i * 2));
    expect(outputs.againTask).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(all.g.max).toBeLessThanOrEqual(4);
    expect(all.g.max).toBeGreaterThan(1);
    expect(perMap.g.max).toBe(2);
    expect(perTask.g.max).toBe(1);
  });

  it('fails fast when asked: the rest is cancelled', async () => {
    const p = pipeline(
      'fast',
      {
        bad: (): number => {
          throw new NonRetryableError('stop');
        },
        slow: async (_: unknown, ctx: TaskContext) => {
          await new Promise((r, j) => {
            const t = setTimeout(r, 5000);
            ctx.signal.addEventListener('abort', () => {
              clearTimeout(t);
              j(ctx.signal.reason as Error);
            });
          });
          return 1;
        },
        later: ({ slow }: { slow: number }) => slow,
      },
      { failFast: true },
    );
    const { engine, store } = await engineFor({ definitions: [p] });
    const run = await engine.submit(p);
    expect((await engine.wait(run.id)).status).toBe('failed');
    const status = Object.fromEntries(
      (await store.listSteps(run.id)).map((s) => [s.key, s.status]),
    );
    expect(status.bad).toBe('failed');
    expect(status.later).toBe('cancelled');
    expect(['cancelled', 'succeeded']).toContain(status.slow);
  });

  it('with scope own, a worker takes only the runs it submitted or resumed', async () => {
    const p = pipeline('scoped', { one: () => 1 });
    const { engine: other, store } = await engineFor({ definitions: [p], worker: false });
    const foreign = await other.submit(p);
    const { engine } = await engineFor({ definitions: [p], store, scope: 'own' });
    const mine = await engine.run(p);
    expect(mine.outputs).toEqual({ one: 1 });
    expect((await store.getRun(foreign.id))?.status).toBe('queued');
    await engine.resume(foreign.id);
    expect((await engine.wait(foreign.id)).status).toBe('succeeded');
  });

  describe('running a chain ahead of its commits', () => {
    function chainOf(
      name: string,
      length: number,
      fn: (i: number, prev: number) => number | Promise<number>,
    ) {
      return pipeline(name, {}, (p) => {
        let prev: Ref<number> = p.node('n0', {}, () => fn(0, 0));
        for (let i = 1; i < length; i++) {
          const at = i;
          prev = p.node(`n${i}`, { prev }, ({ prev }) => fn(at, prev));
        }
        return { last: prev };
      });
    }

    it('commits a chain of cheap nodes in a few transactions, recording every node once', async () => {
      const calls: number[] = [];
      const chain = chainOf('ahead-chain', 100, (i, prev) => (calls.push(i), prev + 1));
      const { store, cleanup } = await tempStore();
      scope.track(cleanup);
      let commits = 0;
      const counting = new Proxy(store, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (typeof value !== 'function') return value;
          const fn = (value as (...a: unknown[]) => unknown).bind(target);
          return prop === 'completeStep' || prop === 'completeSteps'
            ? (...args: unknown[]) => (commits++, fn(...args))
            : fn;
        },
      });
      const { engine } = await engineFor({ definitions: [chain], store: counting });
      const { runId, outputs } = await engine.run(chain);
      expect(outputs).toEqual({ n99: 100 });
      expect(calls).toEqual(Array.from({ length: 100 }, (_, i) => i));
      expect(commits).toBeLessThan(20);
      const steps = await store.listSteps(runId);
      expect(steps.every((x) => x.status === 'succeeded' && x.attempt === 1)).toBe(true);
      const attempts = await store.listAttempts(runId);
      expect(attempts).toHaveLength(100);
      expect(new Set(attempts.map((a) => a.stepKey)).size).toBe(100);
    });

    it('hands a slow successor over to its claim: it runs once', async () => {
      const calls: number[] = [];
      const chain = chainOf('ahead-slow', 4, async (i, prev) => {
        calls.push(i);
        if (i === 2) await new Promise((r) => setTimeout(r, 20));
        return prev + 1;
      });
      const { engine, store } = await engineFor({ definitions: [chain] });
      const started: string[] = [];
      engine.on((e) => {
        if (e.type === 'step' && e.status === 'running') started.push(e.step);
      });
      const { runId, outputs } = await engine.run(chain);
      expect(outputs).toEqual({ n3: 4 });
      expect(calls).toEqual([0, 1, 2, 3]);
      // Reported started once, when it began ahead, not again when its claim took it over.
      expect(started.filter((s) => s === 'n2')).toEqual(['n2']);
      expect((await store.listAttempts(runId)).map((a) => [a.stepKey, a.attempt])).toEqual(
        expect.arrayContaining([['n2', 1]]),
      );
    });

    it('records a successor that failed while run ahead as its first attempt, then retries it', async () => {
      let n1Calls = 0;
      const clock = new ManualClock();
      const chain = pipeline('ahead-fail', {}, (p) => {
        const n0 = p.node('n0', {}, () => 1);
        const n1 = p.node(
          'n1',
          { n0 },
          ({ n0 }) => {
            n1Calls++;
            if (n1Calls === 1) throw new Error('first try fails');
            return n0 + 1;
          },
          { retries: { retries: 2, initialDelay: 10, jitter: 0 } },
        );
        return { n1 };
      });
      const { engine, store } = await engineFor({ definitions: [chain], clock, pollMs: 1000 });
      const run = await engine.submit(chain);
      // What is tested is how the failure is recorded, not how soon the retry starts: steps
      // of a poll interval reach it even if the worker sleeps until its next poll.
      await advanceUntil(
        clock,
        async () => (await store.getRun(run.id))?.status === 'succeeded',
        1000,
      );
      expect(n1Calls).toBe(2);
      const attempts = (await store.listAttempts(run.id)).filter((a) => a.stepKey === 'n1');
      expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
        [1, 'failed'],
        [2, 'succeeded'],
      ]);
    });

    it('aborts handed-over work when the run is cancelled', async () => {
      let aborted = false;
      let started!: () => void;
      const running = new Promise<void>((r) => (started = r));
      const chain = pipeline('ahead-cancel', {}, (p) => {
        const n0 = p.node('n0', {}, () => 1);
        const n1 = p.node(
          'n1',
          { n0 },
          (_deps, ctx) =>
            new Promise<number>((_, reject) => {
              started();
              ctx.signal.addEventListener('abort', () => {
                aborted = true;
                reject(ctx.signal.reason as Error);
              });
            }),
        );
        return { n1 };
      });
      const { engine } = await engineFor({ definitions: [chain] });
      const run = await engine.submit(chain);
      await running;
      await new Promise((r) => setTimeout(r, 20)); // handed over and claimed by now
      await engine.cancel(run.id);
      expect((await engine.wait(run.id)).status).toBe('cancelled');
      await new Promise((r) => setTimeout(r, 10));
      expect(aborted).toBe(true);
    });
  });
});

describe('a worker expanding a map', () => {
  it('runs the items it has slots for without taking them from the queue', async () => {
    const fan = pipeline('fan-five', {
      xs: () => [1, 2, 3, 4, 5],
      doubled: map('xs', (x: number) => x * 2),
    });
    const { store, cleanup } = await tempStore();
    scope.track(cleanup);
    const fromQueue: string[] = [];
    const watched = interceptStore(store, {
      claimSteps: async (original, options) => {
        const claimed = await original(options);
        fromQueue.push(...claimed.map((c) => c.key));
        return claimed;
      },
    });
    const { engine } = await engineFor({ definitions: [fan], store: watched, concurrency: 8 });
    const run = await engine.submit(fan);
    expect((await engine.wait(run.id)).status).toBe('succeeded');
    expect(await engine.outputs(run.id)).toMatchObject({ doubled: [2, 4, 6, 8, 10] });
    expect(fromQueue.filter((key) => key.startsWith('doubled['))).toEqual([]);
  });
});

describe('a waiter of a run this worker finishes', () => {
  it('gets the run as the finishing commit returned it, without reading it back', async () => {
    let go!: () => void;
    const gate = new Promise<void>((resolve) => (go = resolve));
    const one = pipeline('one-read', { work: async () => (await gate, 1) });
    const { store, cleanup } = await tempStore();
    scope.track(cleanup);
    let reads = 0;
    let returned = false;
    let claimedAtCreate = false;
    const watched = interceptStore(store, {
      getRun: (original, id) => (reads++, original(id)),
      createRun: async (original, ...args) => {
        const created = await original(...args);
        claimedAtCreate = created.claimed.length > 0;
        return created;
      },
      completeStep: async (original, input) => {
        const result = await original(input);
        if (result.finishedRun) returned = true;
        return result;
      },
    });
    const { engine } = await engineFor({ definitions: [one], store: watched });
    const run = await engine.submit(one);
    const waited = engine.wait(run.id);
    go();
    expect((await waited).status).toBe('succeeded');
    // `wait` does not read a run whose step this worker claimed as it created it (unless its
    // loop was claiming at that moment); a store that returned the finished run with the last
    // commit (Postgres does) spares the read when the run settles.
    expect(reads).toBe((claimedAtCreate ? 0 : 1) + (returned ? 0 : 1));
  });
});

describe('a worker whose results are committing', () => {
  it('claims and runs more while they commit, up to twice its concurrency held', async () => {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const started: number[] = [];
    const one = pipeline(
      'one',
      { work: ({ i }: { i: number }) => (started.push(i), i) },
      { params: z.object({ i: z.number() }) },
    );
    const { store, cleanup } = await tempStore();
    scope.track(cleanup);
    // Every result waits at the store until the door opens.
    const held = interceptStore(store, {
      completeStep: async (original, input) => (await opened, original(input)),
      completeSteps: async (original, inputs) => (await opened, original(inputs)),
    });
    const { engine: client } = await engineFor({ definitions: [one], store, worker: false });
    const runs = [];
    for (let i = 0; i < 6; i++) runs.push(await client.submit(one, { params: { i } }));
    const { engine: worker } = await engineFor({
      definitions: [one],
      store: held,
      concurrency: 2,
      pollMs: 5,
    });
    // Two run and wait for their commit; their slots go to two more, and no further.
    for (let i = 0; i < 1000 && started.length < 4; i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    expect(started).toHaveLength(4);
    expect(worker.activeCount).toBe(4);
    open();
    for (const run of runs) expect((await worker.wait(run.id)).status).toBe('succeeded');
    expect([...started].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
