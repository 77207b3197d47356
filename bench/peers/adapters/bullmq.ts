/**
 * BullMQ, on Redis and on the Postgres backend that ships in the `bullmq` package itself since
 * 6.x (`createPostgresBackend`, with the `pg` peer dependency). Configured as its documentation
 * advises for throughput: a high worker `concurrency` for short jobs, `addBulk` to enqueue,
 * `removeOnComplete` with a bounded count so finished jobs don't pile up. Workflows are flows
 * (`FlowProducer`): a parent runs after its children, so a 10-step chain is a flow nested 10
 * deep and 1 → 100 → 1 a root job that adds a flow of a join with 100 children (a flow is a
 * tree: one job cannot be the child of 100 parents). Results are seen with
 * `waitUntilFinished` (QueueEvents).
 */
import {
  createPostgresBackend,
  FlowProducer,
  Job,
  Queue,
  QueueEvents,
  Worker,
  withBackend,
  type FlowJob,
} from 'bullmq';
import { sleep, uid, wallNow, type Peer, type PeerConfig } from '../adapter.js';

const CONCURRENCY = 100;
const KEEP = { count: 1000 };

type Kind = 'redis' | 'postgres';

/** The classes and connection for one backend; typed as Redis's (the API is the same). */
function backend(kind: Kind, config: PeerConfig) {
  if (kind === 'redis') {
    const url = new URL(config.redisUrl!);
    return {
      Queue,
      Worker,
      QueueEvents,
      FlowProducer,
      connection: { host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null },
    };
  }
  const classes = withBackend(createPostgresBackend) as unknown as {
    Queue: typeof Queue;
    Worker: typeof Worker;
    QueueEvents: typeof QueueEvents;
    FlowProducer: typeof FlowProducer;
  };
  return { ...classes, connection: { connectionString: config.pgUrl!, migrate: true } as never };
}

/** A chain as a flow: step `n - 1` is the root, step 0 the deepest child (it runs first). */
function chain(name: string, queueName: string, n: number, run: string): FlowJob {
  let flow: FlowJob = { name, queueName, data: { run, i: 0 } };
  for (let i = 1; i < n; i++) flow = { name, queueName, data: { run, i }, children: [flow] };
  return flow;
}

function bullmq(kind: Kind): Peer {
  return {
    id: kind === 'redis' ? 'bullmq' : 'bullmq-postgres',
    label: kind === 'redis' ? 'BullMQ (Redis)' : 'BullMQ (Postgres backend)',
    backend: kind,
    version: 'bullmq 6.7.0',
    settings: [
      `worker concurrency ${CONCURRENCY} (the documentation's advice for short, I/O-bound jobs)`,
      `removeOnComplete { count: ${KEEP.count} }`,
      'enqueue: addBulk, 1,000 jobs per call',
      kind === 'redis'
        ? 'ioredis, maxRetriesPerRequest null (required for workers)'
        : 'createPostgresBackend (bullmq/postgres), its default pool, migrate: true; QueueEvents loses some completions on this backend (6.7.0), so a caller also reads the job state every 20 ms',
    ],
    shapes: {
      '2': 'result: job.waitUntilFinished(QueueEvents)',
      '3': 'a flow nested 10 deep (each parent runs after its child)',
      '4': 'root job adds a flow: join parent with 100 children; join reads getChildrenValues()',
      '5': 'a flow nested 40 deep',
    },
    async enqueue(config, n) {
      const b = backend(kind, config);
      const queue = new b.Queue('drain', { connection: b.connection });
      await queue.waitUntilReady();
      const t0 = performance.now();
      for (let i = 0; i < n; i += 1000) {
        const count = Math.min(1000, n - i);
        await queue.addBulk(
          Array.from({ length: count }, () => ({
            name: 'noop',
            data: {},
            opts: { removeOnComplete: KEEP },
          })),
        );
      }
      const ms = performance.now() - t0;
      await queue.close();
      return { ms, method: 'addBulk, 1,000 per call' };
    },
    async worker(config) {
      const b = backend(kind, config);
      let worker: Worker | null = null;
      return {
        async start(done) {
          worker = new b.Worker('drain', async () => undefined, {
            connection: b.connection,
            concurrency: CONCURRENCY,
            autorun: false,
          });
          worker.on('completed', () => done());
          // Its Postgres backend (6.7.0) can deadlock in move_to_completed with several
          // workers; the job then stays active and the drain stalls. End this worker, so the
          // harness records the repetition as failed instead of waiting out its time limit.
          worker.on('error', (error) => {
            if ((error as { code?: string }).code !== '40P01') return;
            console.error(`BullMQ (${kind}) worker: ${error.message}; stopping this worker`);
            process.exit(1);
          });
          void worker.run();
          await worker.waitUntilReady();
        },
        async stop() {
          await worker?.close();
        },
      };
    },
    async local(config) {
      const b = backend(kind, config);
      const name = 'local';
      const queue = new b.Queue(name, { connection: b.connection });
      const events = new b.QueueEvents(name, { connection: b.connection });
      const flows = new b.FlowProducer({ connection: b.connection });
      const starts = new Map<string, number>();
      const worker = new b.Worker(
        name,
        async (job: Job) => {
          switch (job.name) {
            case 'rt':
              starts.set((job.data as { id: string }).id, wallNow());
              return 0;
            case 'step':
              return (job.data as { i: number }).i;
            case 'seq':
              await sleep(10);
              return (job.data as { i: number }).i;
            case 'root': {
              const tree = await flows.add({
                name: 'join',
                queueName: name,
                data: {},
                children: Array.from({ length: 100 }, (_, i) => ({
                  name: 'item',
                  queueName: name,
                  data: { i },
                })),
              });
              return tree.job.id;
            }
            case 'item':
              return (job.data as { i: number }).i + 1;
            case 'join':
              return Object.keys(await job.getChildrenValues()).length;
            default:
              throw new Error(`unknown job ${job.name}`);
          }
        },
        { connection: b.connection, concurrency: CONCURRENCY },
      );
      await Promise.all([
        queue.waitUntilReady(),
        events.waitUntilReady(),
        worker.waitUntilReady(),
        flows.waitUntilReady(),
      ]);
      /**
       * The job's return value once it completed. On the Postgres backend QueueEvents loses
       * some `completed` events (bullmq 6.7.0: the job is completed, `waitUntilFinished` never
       * settles), so there the job's state is also read every 20 ms.
       */
      const finished = async (job: Job): Promise<unknown> => {
        if (kind === 'redis') return job.waitUntilFinished(events);
        let settled = false;
        const polled = (async () => {
          while (!settled) {
            await sleep(20);
            const state = await job.getState();
            if (state === 'completed')
              return (await Job.fromId(queue, job.id!))!.returnvalue as unknown;
            if (state === 'failed') throw new Error(`job ${job.id} failed`);
          }
          return undefined;
        })();
        try {
          return await Promise.race([job.waitUntilFinished(events), polled]);
        } finally {
          settled = true;
        }
      };
      const flowOf = async (flow: FlowJob) => {
        const tree = await flows.add(flow);
        await finished(tree.job);
      };
      return {
        async roundTrip() {
          const id = uid('rt');
          const t0 = wallNow();
          const job = await queue.add('rt', { id });
          await finished(job);
          const result = wallNow() - t0;
          return { start: starts.get(id)! - t0, result };
        },
        workflow10: () => flowOf(chain('step', name, 10, uid('wf'))),
        seq40: () => flowOf(chain('seq', name, 40, uid('seq'))),
        async fan() {
          const root = await queue.add('root', {});
          const joinId = (await finished(root)) as string;
          const join = await Job.fromId(queue, joinId);
          const value = (await finished(join!)) as number;
          if (value !== 100) throw new Error(`join saw ${value} children`);
        },
        async close() {
          await worker.close();
          await Promise.all([queue.close(), events.close(), flows.close()]);
        },
      };
    },
  };
}

export const bullmqRedis = bullmq('redis');
export const bullmqPostgres = bullmq('postgres');
