/**
 * A Postgres restart is survived without restarting any Weft process: store calls wait for the
 * server to come back, and an engine in the middle of its runs finishes every one of them,
 * each step succeeding once. A real outage on a private server (`restartable-postgres.ts`),
 * stopped with a fast shutdown and started again on the same data: the time here is real.
 */
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WeftError } from '../../src/core/errors.js';
import { newId } from '../../src/core/ids.js';
import { Engine } from '../../src/engine/index.js';
import { map, pipeline, workflow, type Ref } from '../../src/index.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import {
  startRestartablePostgres,
  type RestartablePostgres,
} from '../support/restartable-postgres.js';
import { testDatabase } from '../support/postgres.js';

let server: RestartablePostgres;
let url: string;
let schemas = 0;
const stores: PostgresStore[] = [];

beforeAll(async () => {
  server = await startRestartablePostgres();
  url = (await testDatabase(server.url, 'restart')).url;
}, 60_000);
// The whole server goes, with its data: nothing to drop.
afterAll(async () => server?.close());
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function connect(
  options: { reconnectWindowMs?: number; via?: string } = {},
): Promise<PostgresStore> {
  const { via, ...rest } = options;
  const store = await PostgresStore.connect(via ?? url, { schema: `r${++schemas}`, ...rest });
  stores.push(store);
  return store;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `promise` has settled yet, without waiting for it. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  const pending = Symbol('pending');
  const first = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    sleep(0).then(() => pending),
  ]);
  return first !== pending;
}

describe('Postgres store through an outage', () => {
  it('a call made while Postgres is down completes once it is back', async () => {
    const store = await connect();
    const now = Date.now();
    const runId = newId('run', now);
    await server.stop();
    let created, read, wrote;
    try {
      created = store.createRun(
        {
          id: runId,
          kind: 'pipeline',
          definition: 'p',
          input: '{}',
          outputs: [],
          trigger: 'api',
          parentRunId: null,
          idempotencyKey: null,
          createdAt: now,
        },
        [{ key: 'a', node: 'a', dependsOn: [] }],
      );
      read = store.listRuns();
      wrote = store.upsertWorker({
        id: 'w1',
        host: 'h',
        pid: 1,
        startedAt: now,
        heartbeatAt: now,
        definitions: ['p'],
        labels: [],
      });
      await sleep(800);
      // Nothing could answer while the server was down: the calls are waiting, not failed.
      expect(await settled(Promise.race([created, read, wrote]))).toBe(false);
    } finally {
      await server.start();
    }
    expect((await created).created).toBe(true);
    await read;
    await wrote;
    expect((await store.listRuns()).map((r) => r.id)).toEqual([runId]);
    expect((await store.listSteps(runId)).map((s) => [s.key, s.status])).toEqual([['a', 'queued']]);
    expect((await store.listWorkers()).map((w) => w.id)).toEqual(['w1']);
  });

  it('a call still failing after the reconnect window rejects, naming Postgres and the window', async () => {
    const store = await connect({ reconnectWindowMs: 300 });
    await store.listRuns();
    await server.stop();
    let error: unknown;
    try {
      error = await store.getRun('run_missing').catch((e: unknown) => e);
    } finally {
      await server.start();
    }
    expect(error).toBeInstanceOf(WeftError);
    expect((error as WeftError).code).toBe('store_unavailable');
    expect((error as Error).message).toMatch(/^Postgres could not be reached for 300 ms/);
    expect((error as Error).message).toMatch(/reconnectWindowMs/);
    // Back up: the same store works again.
    expect(await store.getRun('run_missing')).toBeNull();
  });

  it('a store that never reached Postgres fails at once with the driver error', async () => {
    await server.stop();
    try {
      const error: unknown = await PostgresStore.connect(url).catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe('ECONNREFUSED');
    } finally {
      await server.start();
    }
  });
});

/**
 * A TCP proxy in front of the server that, when armed, lets a COMMIT through and then cuts the
 * connection before its reply comes back: the transaction committed, and the client cannot
 * know. The ambiguous case, on demand.
 */
async function commitCutter(target: string) {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  // A simple-protocol Query message of the text `COMMIT`: 'Q', length 11, the text, NUL.
  const commit = Buffer.from('Q\0\0\0\x0bCOMMIT\0', 'latin1');
  let armed = 0;
  let cuts = 0;
  const server: Server = createServer((client) => {
    const pg = netConnect(Number(upstream.port), upstream.hostname);
    sockets.add(client).add(pg);
    let cutting = false;
    const cut = () => {
      client.destroy();
      pg.destroy();
    };
    client.on('data', (chunk) => {
      if (armed > 0 && chunk.includes(commit)) {
        armed--;
        cutting = true;
      }
      pg.write(chunk);
    });
    pg.on('data', (chunk) => {
      if (!cutting) return void client.write(chunk);
      // COMMIT's reply: the transaction is durable, and its client never hears of it.
      cuts++;
      cut();
    });
    for (const s of [client, pg]) {
      s.on('error', cut);
      s.on('close', () => {
        sockets.delete(s);
        cut();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const proxied = new URL(target);
  proxied.port = String(port);
  return {
    url: proxied.toString(),
    /** Cuts the connection of each of the next `n` COMMITs, once it has committed. */
    arm(n = 1) {
      armed += n;
    },
    disarm() {
      armed = 0;
    },
    get cuts() {
      return cuts;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('a COMMIT whose reply is lost', () => {
  let proxy: Awaited<ReturnType<typeof commitCutter>>;
  beforeAll(async () => {
    proxy = await commitCutter(url);
  });
  afterAll(async () => proxy?.close());

  const newRun = (id: string, now: number) => ({
    id,
    kind: 'pipeline' as const,
    definition: 'p',
    input: '{}',
    outputs: [],
    trigger: 'api',
    createdAt: now,
  });

  it('createRun and sendEvent, tried again, return what the first try created', async () => {
    const store = await connect({ via: proxy.url });
    const now = Date.now();
    const id = newId('run', now);
    const cutsBefore = proxy.cuts;
    proxy.arm();
    const { run, created } = await store.createRun(newRun(id, now), [
      { key: 'a', node: 'a', dependsOn: [] },
      { key: 'b', node: 'b', dependsOn: ['a'] },
    ]);
    expect(proxy.cuts - cutsBefore).toBe(1);
    expect([run.id, created]).toEqual([id, true]);
    expect((await store.listRuns()).map((r) => r.id)).toEqual([id]);
    expect((await store.listSteps(id)).map((s) => [s.key, s.status])).toEqual([
      ['a', 'queued'],
      ['b', 'pending'],
    ]);

    proxy.arm();
    const eventId = newId('evt', now);
    const sent = await store.sendEvent({ id: eventId, type: 't', payload: '1', sentAt: now });
    expect(proxy.cuts - cutsBefore).toBe(2);
    expect([sent.event.id, sent.created]).toEqual([eventId, true]);
    expect((await store.listEvents()).map((e) => e.id)).toEqual([eventId]);
  });

  it('completeStep, tried again, is refused and the step has one result', async () => {
    const store = await connect({ via: proxy.url });
    const now = Date.now();
    const id = newId('run', now);
    await store.createRun(newRun(id, now), [{ key: 'a', node: 'a', dependsOn: [] }]);
    const [claimed] = await store.claimSteps({ workerId: 'w', limit: 1, now, leaseMs: 60_000 });
    const cutsBefore = proxy.cuts;
    proxy.arm();
    const result = await store.completeStep({
      runId: id,
      key: 'a',
      attempt: claimed!.attempt,
      workerId: 'w',
      output: '42',
      now,
    });
    expect(proxy.cuts - cutsBefore).toBe(1);
    // The retry found the step already succeeded by this very attempt: nothing is written twice.
    expect(result).toMatchObject({ applied: false, runStatus: 'succeeded' });
    expect((await store.getStep(id, 'a'))?.output).toBe('42');
    const attempts = await store.listAttempts(id);
    expect(attempts.map((a) => [a.stepKey, a.status])).toEqual([['a', 'succeeded']]);
  });

  it('an engine whose commits lose their replies still finishes its runs', async () => {
    const chain = pipeline('cut-chain', {}, (p) => {
      let prev: Ref<number> = p.node('n0', {}, async () => (await sleep(10), 0));
      for (let i = 1; i < 12; i++) {
        prev = p.node(`n${i}`, { prev }, async ({ prev }) => (await sleep(10), prev + 1));
      }
      return { last: prev };
    });
    const store = await connect({ via: proxy.url });
    // A short lease: a step claimed by a commit whose reply was lost waits for it to expire.
    const engine = new Engine({
      store,
      definitions: [chain],
      leaseMs: 1500,
      pollMs: 50,
      captureConsole: false,
      // Cut the replies of two completions, each of which also claimed the next node.
      faults: {
        beforeCommit: ({ step }) => {
          if (step === 'n3' || step === 'n7') proxy.arm();
        },
      },
    });
    await engine.start();
    try {
      const run = await engine.submit(chain);
      const cutsBefore = proxy.cuts;
      proxy.arm(3);
      expect((await engine.wait(run.id)).status).toBe('succeeded');
      expect(proxy.cuts - cutsBefore).toBeGreaterThan(0);
      expect(await engine.result(run.id)).toEqual({ n11: 11 });
      const wins = (await store.listAttempts(run.id)).filter((a) => a.status === 'succeeded');
      expect(wins.map((a) => a.stepKey).sort()).toEqual(
        Array.from({ length: 12 }, (_, i) => `n${i}`).sort(),
      );
    } finally {
      proxy.disarm();
      await engine.stop({ graceMs: 1000 });
    }
  });
});

describe('an engine through a Postgres restart', () => {
  it('finishes every run, each step succeeding once, without a restart of the process', async () => {
    const work = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const chain = pipeline('restart-chain', {}, (p) => {
      let prev: Ref<number> = p.node('n0', {}, async () => (await work(20), 0));
      for (let i = 1; i < 30; i++) {
        prev = p.node(`n${i}`, { prev }, async ({ prev }) => (await work(20), prev + 1));
      }
      return { last: prev };
    });
    const fan = pipeline('restart-fan', {
      items: () => Array.from({ length: 24 }, (_, i) => i),
      doubled: map('items', async (i: number) => (await work(20), i * 2)),
      total: async ({ doubled }: { doubled: number[] }) => (
        await work(20),
        doubled.reduce((a, b) => a + b, 0)
      ),
    });
    const flow = workflow('restart-flow', {}, async (ctx) => {
      let sum = 0;
      for (let i = 0; i < 4; i++) {
        sum += await ctx.step(`part-${i}`, async () => (await work(20), i));
        await ctx.sleep(`pause-${i}`, 150);
      }
      return sum;
    });

    const store = await connect();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => void warnings.push(w);
    process.on('warning', onWarning);
    const engine = new Engine({
      store,
      definitions: [chain, fan, flow],
      concurrency: 8,
      leaseMs: 5000,
      pollMs: 100,
      captureConsole: false,
    });
    let succeeded = 0;
    let runsDone = 0;
    engine.on((e) => {
      if (e.type === 'step' && e.status === 'succeeded') succeeded++;
      if (e.type === 'run' && e.status === 'succeeded') runsDone++;
    });
    await engine.start();
    try {
      const runs = [
        ...(await Promise.all([1, 2, 3].map(() => engine.submit(chain)))),
        ...(await Promise.all([1, 2].map(() => engine.submit(fan)))),
        ...(await Promise.all([1, 2, 3].map(() => engine.submit(flow)))),
      ];
      while (succeeded < 10) await sleep(10);
      await server.stop();
      const doneBeforeOutage = runsDone;
      await sleep(1500);
      await server.start();
      // The outage came in the middle of the runs.
      expect(doneBeforeOutage).toBeLessThan(runs.length);

      const finished = await Promise.all(runs.map((r) => engine.wait(r.id)));
      expect(finished.map((r) => r.status)).toEqual(runs.map(() => 'succeeded'));
      expect(await engine.result(runs[0]!.id)).toEqual({ n29: 29 });
      expect(await engine.result(runs[3]!.id)).toMatchObject({ total: 552 });
      expect(await engine.result(runs[5]!.id)).toBe(6);
      for (const run of runs) {
        const steps = await store.listSteps(run.id);
        expect(steps.filter((s) => s.status !== 'succeeded')).toEqual([]);
        const wins = new Map<string, number>();
        for (const a of await store.listAttempts(run.id)) {
          if (a.status === 'succeeded') wins.set(a.stepKey, (wins.get(a.stepKey) ?? 0) + 1);
        }
        // Every step that ran its own attempts (not a map step, not a sleep) succeeded once.
        const ran = steps.filter((s) => s.kind !== 'sleep' && s.key !== 'doubled');
        expect(ran.map((s) => [s.key, wins.get(s.key)])).toEqual(ran.map((s) => [s.key, 1]));
      }
      // The worker never saw a store error: every call waited the outage out.
      expect(warnings.filter((w) => w.message.includes('weft worker'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await engine.stop({ graceMs: 1000 });
    }
  });
});
