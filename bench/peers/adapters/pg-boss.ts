/**
 * pg-boss: a job queue on Postgres (SKIP LOCKED, polling; no LISTEN/NOTIFY). Configured as its
 * documentation advises for throughput: jobs fetched and completed in batches (`batchSize`),
 * several `work()` loops per process for concurrency (its way since `teamSize` went away), the
 * shortest polling interval it accepts (0.5 s), bulk `insert` to enqueue. Its maintenance and
 * scheduling loops are off in the benchmark processes (`supervise`, `schedule`): they would
 * only add background queries. A caller in the worker's process wakes the worker with
 * `notifyWorker` instead of waiting for its poll, as pg-boss provides. It has no workflows or
 * fan-in: a workflow is a job chain, fan-in a counter row; a caller sees a result by reading
 * the job (`getJobById`) every 2 ms until it is completed.
 */
import PgBoss from 'pg-boss';
import { sleep, uid, Waiters, wallNow, type Peer, type PeerConfig } from '../adapter.js';

const DRAIN_LOOPS = 8;
const DRAIN_BATCH = 1000;
const LOCAL_LOOPS = 4;
const LOCAL_BATCH = 32;
const POLL_S = 0.5;

async function open(config: PeerConfig, queues: string[]): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: config.pgUrl!,
    max: 20,
    supervise: false,
    schedule: false,
  });
  boss.on('error', (error) => console.error('pg-boss:', error));
  await boss.start();
  for (const name of queues) await boss.createQueue(name);
  return boss;
}

type Payload = { run: string; i: number };

export const pgBoss: Peer = {
  id: 'pg-boss',
  label: 'pg-boss',
  backend: 'postgres',
  version: 'pg-boss 10.4.2 (11 and later need Node ≥ 22)',
  settings: [
    `drain: ${DRAIN_LOOPS} work() loops per process, batchSize ${DRAIN_BATCH}, pollingIntervalSeconds ${POLL_S} (its minimum)`,
    `local workloads: ${LOCAL_LOOPS} work() loops per queue, batchSize ${LOCAL_BATCH}, notifyWorker after each send`,
    'pool max 20; supervise and schedule off',
    'enqueue: insert, 1,000 jobs per call',
  ],
  shapes: {
    '2': 'result: getJobById every 2 ms until completed',
    '3': 'a chain of 10 jobs, each sending the next',
    '4': 'root job inserts 100 jobs and a counter row; each counts it down, the last sends the join job',
    '5': 'a chain of 40 jobs, each sending the next',
  },
  async enqueue(config, n) {
    const boss = await open(config, ['noop']);
    const t0 = performance.now();
    for (let i = 0; i < n; i += 1000) {
      const count = Math.min(1000, n - i);
      await boss.insert(Array.from({ length: count }, () => ({ name: 'noop', data: {} })));
    }
    const ms = performance.now() - t0;
    await boss.stop({ graceful: false, wait: true });
    return { ms, method: 'insert, 1,000 per call' };
  },
  async worker(config) {
    const boss = await open(config, ['noop']);
    return {
      async start(done) {
        for (let i = 0; i < DRAIN_LOOPS; i++) {
          await boss.work(
            'noop',
            { batchSize: DRAIN_BATCH, pollingIntervalSeconds: POLL_S },
            async (jobs) => {
              for (let j = 0; j < jobs.length; j++) done();
            },
          );
        }
      },
      async stop() {
        await boss.stop({ graceful: true, wait: true, timeout: 5000 });
      },
    };
  },
  async local(config) {
    const queues = ['rt', 'step', 'seq', 'root', 'item', 'join'];
    const boss = await open(config, queues);
    const db = boss.getDb();
    await db.executeSql(
      'CREATE TABLE bench_fan (run text PRIMARY KEY, remaining int NOT NULL)',
      [],
    );
    const starts = new Map<string, number>();
    const lastJob = new Waiters<string>();
    const workers = new Map<string, string[]>();
    const wake = (queue: string) => {
      for (const id of workers.get(queue) ?? []) boss.notifyWorker(id);
    };
    const send = async (queue: string, data: object) => {
      const id = await boss.send(queue, data);
      wake(queue);
      return id!;
    };
    const work = async (
      queue: string,
      handler: (data: Payload & { id: string }, jobId: string) => unknown,
    ) => {
      const ids: string[] = [];
      for (let i = 0; i < LOCAL_LOOPS; i++) {
        ids.push(
          await boss.work<Payload & { id: string }>(
            queue,
            { batchSize: LOCAL_BATCH, pollingIntervalSeconds: POLL_S },
            async (jobs) => {
              await Promise.all(jobs.map((job) => handler(job.data, job.id)));
            },
          ),
        );
      }
      workers.set(queue, ids);
    };
    await work('rt', (d) => void starts.set(d.id, wallNow()));
    await work('step', async ({ run, i }, jobId) => {
      if (i < 9) await send('step', { run, i: i + 1 });
      else lastJob.settle(run, jobId);
    });
    await work('seq', async ({ run, i }, jobId) => {
      await sleep(10);
      if (i < 39) await send('seq', { run, i: i + 1 });
      else lastJob.settle(run, jobId);
    });
    await work('root', async ({ run }) => {
      await db.executeSql('INSERT INTO bench_fan (run, remaining) VALUES ($1, 100)', [run]);
      await boss.insert(
        Array.from({ length: 100 }, (_, i) => ({ name: 'item', data: { run, i } })),
      );
      wake('item');
    });
    await work('item', async ({ run }) => {
      const left = await db.executeSql(
        'UPDATE bench_fan SET remaining = remaining - 1 WHERE run = $1 RETURNING remaining',
        [run],
      );
      const { remaining } = left.rows[0] as { remaining: number };
      if (remaining === 0) await send('join', { run, i: 0 });
    });
    await work('join', async ({ run }, jobId) => {
      await db.executeSql('DELETE FROM bench_fan WHERE run = $1', [run]);
      lastJob.settle(run, jobId);
    });

    /** Reads the job until pg-boss has completed it. */
    const completed = async (queue: string, id: string) => {
      for (;;) {
        const job = await boss.getJobById(queue, id);
        if (job?.state === 'completed') return;
        if (job && job.state !== 'created' && job.state !== 'active' && job.state !== 'retry')
          throw new Error(`pg-boss job ${id}: ${job.state}`);
        await sleep(2);
      }
    };
    /** A chain's last job: its handler names it, then the caller reads it until completed. */
    const chainEnd = async (queue: string, run: string) =>
      completed(queue, await lastJob.wait(run));
    return {
      async roundTrip() {
        const id = uid('rt');
        const t0 = wallNow();
        const jobId = await send('rt', { id });
        await completed('rt', jobId);
        const result = wallNow() - t0;
        return { start: starts.get(id)! - t0, result };
      },
      async workflow10() {
        const run = uid('step');
        await send('step', { run, i: 0 });
        await chainEnd('step', run);
      },
      async seq40() {
        const run = uid('seq');
        await send('seq', { run, i: 0 });
        await chainEnd('seq', run);
      },
      async fan() {
        const run = uid('fan');
        await send('root', { run, i: 0 });
        await chainEnd('join', run);
      },
      async close() {
        await boss.stop({ graceful: true, wait: true, timeout: 5000 });
      },
    };
  },
};
