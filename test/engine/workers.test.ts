/**
 * Several workers on one store (separate connections, as separate processes would have):
 * label routing, concurrency limits that hold across workers, priorities. Runs on SQLite and,
 * in the `engine-on-postgres` project, on Postgres.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, inject, it, vi } from 'vitest';
import { z } from 'zod';
import { Engine } from '../../src/engine/index.js';
import {
  map,
  NonRetryableError,
  pipeline,
  task,
  workflow,
  type TaskContext,
} from '../../src/index.js';
import type { Store } from '../../src/store/contract/index.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { testDatabase } from '../support/postgres.js';
import { BACKEND } from './helpers.js';

let pgDatabase: Promise<{ url: string; drop: () => Promise<void> }> | null = null;
let schemas = 0;

/** Opens `n` stores on one fresh database (schema or file), as `n` processes would. */
async function sharedStores(n: number): Promise<{ stores: Store[]; cleanup: () => Promise<void> }> {
  if (BACKEND === 'postgres') {
    if (!pgDatabase) {
      pgDatabase = testDatabase(inject('weftPostgresUrl'), 'workers');
      const db = pgDatabase;
      afterAll(async () => (await db).drop());
    }
    const { url } = await pgDatabase;
    const schema = `w${++schemas}`;
    const stores: Store[] = [];
    for (let i = 0; i < n; i++) stores.push(await PostgresStore.connect(url, { schema }));
    return { stores, cleanup: async () => void (await Promise.all(stores.map((s) => s.close()))) };
  }
  const dir = mkdtempSync(join(tmpdir(), 'weft-workers-'));
  const stores: Store[] = [];
  for (let i = 0; i < n; i++) {
    const store = SqliteStore.open(join(dir, 'weft.db'));
    await store.migrate();
    stores.push(store);
  }
  return {
    stores,
    cleanup: async () => {
      await Promise.all(stores.map((s) => s.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function workers(
  specs: { labels?: string[]; concurrency?: number; worker?: boolean }[],
  definitions: ConstructorParameters<typeof Engine>[0]['definitions'],
): Promise<{ engines: Engine[]; stores: Store[] }> {
  const { stores, cleanup } = await sharedStores(specs.length);
  cleanups.push(cleanup);
  const engines = specs.map(
    (spec, i) =>
      new Engine({
        store: stores[i]!,
        definitions: [...(definitions as Iterable<never>)],
        pollMs: 50,
        captureConsole: false,
        workerId: `worker-${i}`,
        ...spec,
      }),
  );
  for (const e of engines) await e.start();
  cleanups.push(async () => {
    for (const e of engines) await e.stop({ graceMs: 1000 });
  });
  return { engines, stores };
}

/** The largest number of intervals open at once. */
function maxOverlap(intervals: { start: number; end: number }[]): number {
  const points = intervals.flatMap((i) => [
    { at: i.start, d: 1 },
    { at: i.end, d: -1 },
  ]);
  // At equal times an end comes first: touching intervals do not overlap.
  points.sort((a, b) => a.at - b.at || a.d - b.d);
  let open = 0;
  let max = 0;
  for (const p of points) {
    open += p.d;
    max = Math.max(max, open);
  }
  return max;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A promise and the function that resolves it. */
function gate(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe(`several workers on one ${BACKEND} store`, () => {
  it('routes labelled work to workers that have the labels', async () => {
    const onGpu = task('on-gpu', { labels: ['gpu'] }, ({ prep }: { prep: number }) => prep + 1);
    const p = pipeline('routed', {
      prep: (_: unknown) => 1,
      train: onGpu,
      report: ({ train }: { train: number }) => train * 10,
    });
    const w = workflow('gpu-flow', { labels: ['gpu', 'region-eu'] }, async (ctx) =>
      ctx.step('one', () => 1),
    );
    const nowhere = task('nowhere', { labels: ['tpu'] }, (_: unknown) => 0);
    const stuck = pipeline('stuck', { never: nowhere });
    const { engines, stores } = await workers(
      [{ labels: [] }, { labels: ['gpu'] }, { labels: ['gpu', 'region-eu'] }],
      [p, w, stuck],
    );
    const [plain] = engines;
    const runs = await Promise.all(Array.from({ length: 4 }, () => plain!.submit(p)));
    const flows = await Promise.all(Array.from({ length: 3 }, () => plain!.submit(w)));
    const never = await plain!.submit(stuck);
    for (const r of [...runs, ...flows]) expect((await plain!.wait(r.id)).status).toBe('succeeded');
    expect(await plain!.result(runs[0]!.id)).toMatchObject({ report: 20 });

    const store = stores[0]!;
    for (const r of runs) {
      const attempts = await store.listAttempts(r.id);
      const train = attempts.find((a) => a.stepKey === 'train')!;
      expect(['worker-1', 'worker-2']).toContain(train.workerId);
    }
    for (const r of flows) {
      const attempts = await store.listAttempts(r.id);
      expect(attempts.find((a) => a.stepKey === '$run')?.workerId).toBe('worker-2');
    }
    // Nobody has `tpu`: the step waits, queued, for a worker that does.
    await sleep(150);
    expect((await store.getStep(never.id, 'never'))?.status).toBe('queued');
    expect((await store.listWorkers()).find((x) => x.id === 'worker-2')?.labels).toEqual([
      'gpu',
      'region-eu',
    ]);
  });

  it('holds a concurrency limit across workers, per task and per key', async () => {
    const spans: { task: string; key: string; start: number; end: number }[] = [];
    const timed = (name: string) => async (x: { n: number; key: string }) => {
      const start = performance.now();
      await sleep(25);
      spans.push({ task: name, key: x.key, start, end: performance.now() });
      return x.n;
    };
    const limited = task('limited', { concurrency: 2 }, timed('limited'));
    const perKey = task(
      'per-key',
      { concurrency: 1, concurrencyKey: (x: { key: string }) => x.key },
      timed('per-key'),
    );
    const p = pipeline('limits', {
      items: (_: unknown) =>
        Array.from({ length: 10 }, (_, n) => ({ n, key: n % 2 === 0 ? 'even' : 'odd' })),
      a: map('items', limited),
      b: map('items', perKey),
    });
    const { engines } = await workers([{ concurrency: 8 }, { concurrency: 8 }], [p]);
    const run = await engines[0]!.submit(p);
    expect((await engines[0]!.wait(run.id)).status).toBe('succeeded');
    const a = spans.filter((s) => s.task === 'limited');
    const b = spans.filter((s) => s.task === 'per-key');
    expect(a).toHaveLength(10);
    expect(b).toHaveLength(10);
    expect(maxOverlap(a)).toBeLessThanOrEqual(2);
    expect(maxOverlap(a)).toBe(2);
    for (const key of ['even', 'odd']) {
      expect(maxOverlap(b.filter((s) => s.key === key))).toBe(1);
    }
  });

  it('starts queued work by priority, whichever worker claims it', async () => {
    const order: number[] = [];
    const job = task('job', async ({ p }: { p: number }) => {
      order.push(p);
      await sleep(5);
      return p;
    });
    const jobs = pipeline('jobs', { run: job }, { params: z.object({ p: z.number() }) });
    const { stores } = await sharedStores(3);
    cleanups.push(async () => {
      for (const s of stores) await s.close();
    });
    // Queue everything before any worker runs.
    const client = new Engine({ store: stores[0]!, definitions: [jobs], worker: false });
    await client.start();
    const priorities = [3, 9, 0, 7, 5, 1, 8, 2, 6, 4];
    const runs = [];
    for (const p of priorities)
      runs.push(await client.submit(jobs, { params: { p }, priority: p }));
    const engines = [1, 2].map(
      (i) =>
        new Engine({
          store: stores[i]!,
          definitions: [jobs],
          concurrency: 1,
          pollMs: 50,
          captureConsole: false,
        }),
    );
    for (const e of engines) await e.start();
    cleanups.push(async () => {
      for (const e of engines) await e.stop({ graceMs: 1000 });
      await client.stop();
    });
    for (const r of runs) expect((await client.wait(r.id)).status).toBe('succeeded');
    // Claims take the highest priority left; two workers may swap neighbours, no more.
    expect(order).toHaveLength(10);
    order.forEach((p, i) => expect(Math.abs(9 - i - p)).toBeLessThanOrEqual(1));
  });
});

describe(`waiting on a run its own worker is running (${BACKEND})`, () => {
  it('hears of it when another process cancels the run', async () => {
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    const hang = pipeline('hang', {}, (p) => ({
      out: p.node('out', {}, async (_: object, ctx) => {
        started();
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        return 0;
      }),
    }));
    const {
      engines: [worker, other],
    } = await workers([{}, { worker: false }], [hang]);
    const run = await worker!.submit(hang);
    // Asked for while the worker holds the run's step (not read from the store).
    const waiting = worker!.wait(run.id);
    await running;
    await other!.cancel(run.id);
    expect((await waiting).status).toBe('cancelled');
  });

  it('reports the end of a run once, also to a waiter that arrives as a late result is refused', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const stubborn = pipeline(
      'stubborn',
      {
        bad: (): number => {
          throw new NonRetryableError('stop');
        },
        // Ignores its signal: its result arrives after the run failed and is refused.
        slow: async () => {
          await released;
          return 1;
        },
      },
      { failFast: true },
    );
    const { stores } = await sharedStores(1);
    cleanups.push(async () => {
      for (const s of stores) await s.close();
    });
    // Reads of the run can be held back, to let the refused result land while a waiter reads.
    let hold: Promise<void> | null = null;
    const reads: string[] = [];
    const store = new Proxy(stores[0]!, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (name !== 'getRun' || typeof value !== 'function') {
          return typeof value === 'function' ? (value.bind(target) as unknown) : value;
        }
        return async (id: string) => {
          reads.push(id);
          if (hold) await hold;
          return (value as Store['getRun']).call(target, id);
        };
      },
    });
    const worker = new Engine({
      store,
      definitions: [stubborn],
      pollMs: 50,
      captureConsole: false,
    });
    await worker.start();
    cleanups.push(() => worker.stop({ graceMs: 1000 }));
    const ends: string[] = [];
    worker.on((e) => {
      if (e.type === 'run' && e.status === 'failed') ends.push(e.runId);
    });
    const run = await worker.submit(stubborn);
    expect((await worker.wait(run.id)).status).toBe('failed');
    let open!: () => void;
    hold = new Promise<void>((resolve) => (open = resolve));
    const before = reads.length;
    const late = worker.wait(run.id);
    release();
    await vi.waitFor(() => expect(reads.length).toBeGreaterThan(before + 1), { timeout: 5000 });
    open();
    expect((await late).status).toBe('failed');
    expect(ends).toEqual([run.id]);
  });

  it('a client waiting on many runs another process finishes reads their ends together', async () => {
    const quick = pipeline('quick', { work: () => 1 });
    const { stores } = await sharedStores(2);
    cleanups.push(async () => {
      for (const s of stores) await s.close();
    });
    const reads = { getRun: 0, getFinishedRuns: 0 };
    const asked: number[] = [];
    const store = new Proxy(stores[0]!, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (name === 'getRun') reads.getRun++;
        if (name === 'getFinishedRuns') {
          reads.getFinishedRuns++;
          return (ids: string[]) => {
            asked.push(ids.length);
            return target.getFinishedRuns(ids);
          };
        }
        return value.bind(target) as unknown;
      },
    });
    const client = new Engine({
      store,
      definitions: [quick],
      worker: false,
      pollMs: 50,
      captureConsole: false,
    });
    const worker = new Engine({
      store: stores[1]!,
      definitions: [quick],
      pollMs: 50,
      captureConsole: false,
    });
    await client.start();
    cleanups.push(() => client.stop());
    const runs = await client.submitMany(
      quick,
      Array.from({ length: 40 }, () => ({})),
    );
    const waits = runs.map(({ run }) => client.wait(run.id));
    await worker.start();
    cleanups.push(() => worker.stop({ graceMs: 1000 }));
    for (const done of await Promise.all(waits)) expect(done.status).toBe('succeeded');
    // One read of each run as its wait began; the ends came in reads of many runs at once.
    expect(reads.getRun).toBe(40);
    expect(reads.getFinishedRuns).toBeGreaterThan(0);
    expect(Math.max(...asked)).toBe(40);
  });

  it('a step claimed again by its worker while its old attempt still runs is tracked until it ends', async () => {
    const gates = [gate(), gate()];
    let calls = 0;
    // Ignores its signal, so the attempt that lost its lease goes on beside the new one.
    const twice = pipeline('twice', {
      work: async () => {
        await gates[calls++]!.promise;
        return calls;
      },
    });
    const { stores } = await sharedStores(1);
    cleanups.push(async () => {
      for (const s of stores) await s.close();
    });
    // The results the worker records, as they come back: applied or refused.
    const recorded: boolean[] = [];
    const store = new Proxy(stores[0]!, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (name !== 'completeStep' && name !== 'completeSteps') {
          return value.bind(target) as unknown;
        }
        return async (input: unknown) => {
          const result = (await value.call(target, input)) as unknown;
          for (const r of [result].flat() as { applied: boolean }[]) recorded.push(r.applied);
          return result;
        };
      },
    });
    const worker = new Engine({
      store,
      definitions: [twice],
      pollMs: 50,
      captureConsole: false,
      workerId: 'w-again',
    });
    await worker.start();
    cleanups.push(() => worker.stop({ graceMs: 1000 }));
    const run = await worker.submit(twice);
    await vi.waitFor(() => expect(calls).toBe(1), { timeout: 5000 });
    // The step goes back to the queue as if its lease had lapsed (the worker lost the database
    // for longer than it), and this worker, with room to spare, claims it again.
    expect(await stores[0]!.requeueExpired(Date.now(), ['w-again'])).toBe(1);
    await vi.waitFor(() => expect(calls).toBe(2), { timeout: 5000 });
    expect(worker.activeCount).toBe(1);
    // The old attempt ends and its result is refused; the new attempt is still at work here.
    gates[0]!.resolve();
    await vi.waitFor(() => expect(recorded).toEqual([false]), { timeout: 5000 });
    // Time for the old attempt to wind up (ordering only: it needs no more than a few turns).
    await sleep(100);
    expect(worker.activeCount).toBe(1);
    gates[1]!.resolve();
    const done = await worker.wait(run.id);
    expect(done.status).toBe('succeeded');
    expect(await worker.outputs(run.id)).toEqual({ work: 2 });
    expect(recorded).toEqual([false, true]);
    await vi.waitFor(() => expect(worker.activeCount).toBe(0), { timeout: 5000 });
  });

  it('a waiter that asks as its run fails, a step of it still at work, hears of it', async () => {
    const fast = pipeline(
      'fast',
      {
        bad: (): number => {
          throw new NonRetryableError('stop');
        },
        slow: async (_: unknown, ctx: TaskContext) => {
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
          return 1;
        },
      },
      { failFast: true },
    );
    const {
      engines: [worker],
    } = await workers([{}], [fast]);
    const heard: Promise<string>[] = [];
    // Asked for from the failed run's event, while its other step is being aborted.
    worker!.on((e) => {
      if (e.type === 'run' && e.status === 'failed') {
        heard.push(worker!.wait(e.runId).then((r) => r.status));
      }
    });
    const run = await worker!.submit(fast);
    expect((await worker!.wait(run.id)).status).toBe('failed');
    // And one that asks after it finished, its other step perhaps not done yet.
    expect((await worker!.wait(run.id)).status).toBe('failed');
    expect(await Promise.all(heard)).toEqual(['failed']);
    // The run's end is reported once, also after its other step's refused transition.
    await worker!.stop({ graceMs: 1000 });
    expect(heard).toHaveLength(1);
  });
});
