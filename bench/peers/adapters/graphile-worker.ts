/**
 * graphile-worker: a job queue on Postgres (LISTEN/NOTIFY, SKIP LOCKED). Configured as its
 * performance documentation advises for throughput (worker.graphile.org/docs/performance):
 * `localQueue` batching, completions batched with no delay, more concurrent jobs than the
 * default 1. It keeps no job results and has no workflows or fan-in: a workflow is a job chain
 * (each job adds the next), fan-in a counter row counted down by the fanned-out jobs, and
 * "result seen" is the `job:success` event of the worker (caller and worker share a process).
 */
import {
  Logger,
  makeWorkerUtils,
  run,
  runMigrations,
  type JobHelpers,
  type Runner,
  type TaskList,
} from 'graphile-worker';
import { sleep, uid, Waiters, wallNow, type Peer, type PeerConfig } from '../adapter.js';

const quiet = new Logger(() => () => undefined);
const CONCURRENT_JOBS = 24;
const LOCAL_QUEUE = 500;

const preset = (config: PeerConfig) => ({
  worker: {
    connectionString: config.pgUrl!,
    concurrentJobs: CONCURRENT_JOBS,
    maxPoolSize: CONCURRENT_JOBS + 2,
    localQueue: { size: LOCAL_QUEUE },
    completeJobBatchDelay: 0,
    failJobBatchDelay: 0,
  },
});

async function start(config: PeerConfig, taskList: TaskList): Promise<Runner> {
  return run({
    preset: preset(config),
    connectionString: config.pgUrl!,
    concurrency: CONCURRENT_JOBS,
    noHandleSignals: true,
    logger: quiet,
    taskList,
  });
}

type RunPayload = { run: string; i: number };

export const graphileWorker: Peer = {
  id: 'graphile-worker',
  label: 'graphile-worker',
  backend: 'postgres',
  version: 'graphile-worker 0.17.3 (0.18 needs Node ≥ 22.18)',
  settings: [
    `concurrentJobs ${CONCURRENT_JOBS}, maxPoolSize ${CONCURRENT_JOBS + 2}`,
    `localQueue.size ${LOCAL_QUEUE} (batched job fetching, the documentation's throughput setting)`,
    'completeJobBatchDelay 0, failJobBatchDelay 0 (batched completions)',
    'enqueue: addJobs, 1,000 jobs per call',
  ],
  shapes: {
    '2': 'no stored results: "result" is the worker\'s job:success event',
    '3': 'a chain of 10 jobs, each adding the next',
    '4': 'root job adds 100 jobs (addJobs) and a counter row; each counts it down, the last adds the join job',
    '5': 'a chain of 40 jobs, each adding the next',
  },
  async enqueue(config, n) {
    await runMigrations({ connectionString: config.pgUrl!, logger: quiet });
    const utils = await makeWorkerUtils({ connectionString: config.pgUrl!, logger: quiet });
    const t0 = performance.now();
    for (let i = 0; i < n; i += 1000) {
      const count = Math.min(1000, n - i);
      await utils.addJobs(
        Array.from({ length: count }, () => ({ identifier: 'noop', payload: {} })),
      );
    }
    const ms = performance.now() - t0;
    await utils.release();
    return { ms, method: 'addJobs, 1,000 per call' };
  },
  async worker(config) {
    let runner: Runner | null = null;
    await runMigrations({ connectionString: config.pgUrl!, logger: quiet });
    return {
      async start(done) {
        runner = await start(config, { noop: async () => undefined });
        runner.events.on('job:success', () => done());
      },
      async stop() {
        await runner?.stop();
      },
    };
  },
  async local(config) {
    const starts = new Map<string, number>();
    const finished = new Waiters<void>();
    const last: Record<string, number> = { step: 9, seq: 39 };
    const taskList: TaskList = {
      rt: async (payload) => void starts.set((payload as { id: string }).id, wallNow()),
      step: async (payload, helpers) => {
        const { run, i } = payload as RunPayload;
        if (i < 9) await helpers.addJob('step', { run, i: i + 1 });
      },
      seq: async (payload, helpers) => {
        const { run, i } = payload as RunPayload;
        await sleep(10);
        if (i < 39) await helpers.addJob('seq', { run, i: i + 1 });
      },
      root: async (payload, helpers) => {
        const { run } = payload as RunPayload;
        await helpers.withPgClient((c) =>
          c.query('INSERT INTO bench_fan (run, remaining) VALUES ($1, 100)', [run]),
        );
        await helpers.addJobs(
          Array.from({ length: 100 }, (_, i) => ({ identifier: 'item', payload: { run, i } })),
        );
      },
      item: async (payload, helpers: JobHelpers) => {
        const { run } = payload as RunPayload;
        const left = await helpers.withPgClient((c) =>
          c.query<{ remaining: number }>(
            'UPDATE bench_fan SET remaining = remaining - 1 WHERE run = $1 RETURNING remaining',
            [run],
          ),
        );
        if (left.rows[0]!.remaining === 0) await helpers.addJob('join', { run });
      },
      join: async (payload, helpers) => {
        const { run } = payload as RunPayload;
        await helpers.withPgClient((c) => c.query('DELETE FROM bench_fan WHERE run = $1', [run]));
      },
    };
    const runner = await start(config, taskList);
    const utils = await makeWorkerUtils({ connectionString: config.pgUrl!, logger: quiet });
    await utils.withPgClient((c) =>
      c.query('CREATE TABLE bench_fan (run text PRIMARY KEY, remaining int NOT NULL)'),
    );
    runner.events.on('job:success', ({ job }) => {
      const p = job.payload as { id?: string; run?: string; i?: number };
      if (job.task_identifier === 'rt') finished.settle(p.id!, undefined);
      else if (job.task_identifier === 'join') finished.settle(p.run!, undefined);
      else if (p.run && p.i === last[job.task_identifier]) finished.settle(p.run, undefined);
    });
    const chain = async (task: string) => {
      const id = uid(task);
      const done = finished.wait(id);
      await utils.addJob(task, { run: id, i: 0 });
      await done;
    };
    return {
      async roundTrip() {
        const id = uid('rt');
        const done = finished.wait(id);
        const t0 = wallNow();
        await utils.addJob('rt', { id });
        await done;
        const result = wallNow() - t0;
        return { start: starts.get(id)! - t0, result };
      },
      workflow10: () => chain('step'),
      seq40: () => chain('seq'),
      async fan() {
        const id = uid('fan');
        const done = finished.wait(id);
        await utils.addJob('root', { run: id });
        await done;
      },
      async close() {
        await utils.release();
        await runner.stop();
      },
    };
  },
};
