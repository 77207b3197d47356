/**
 * DBOS Transact: durable workflows whose steps are checkpointed in Postgres (its system
 * database), and queues of workflows. A task is a workflow (the unit a DBOS queue runs). Queues
 * are polled: the documented `minPollingIntervalMs` (default 1000 ms) is lowered to 50 ms, and
 * `workerConcurrency` bounds each process, which then needs an `executorID` of its own. The
 * local workloads run workflows started in the process (no queue) except the round trip, which
 * enqueues, and fan-out, which enqueues 100 child workflows as the queue tutorial does.
 */
import { DBOS, type DLogger } from '@dbos-inc/dbos-sdk';
import { inFlight, sleep, uid, wallNow, type Peer, type PeerConfig } from '../adapter.js';

const WORKER_CONCURRENCY = 256;
const POLL_MS = 50;
const ENQUEUE_IN_FLIGHT = 16;

const silent: DLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (...args: unknown[]) => console.error('dbos:', ...args),
};

let onDone: () => void = () => undefined;
const starts = new Map<string, number>();

// Workflows are registered at import, before `DBOS.launch`, as DBOS requires.
const noop = DBOS.registerWorkflow(
  async () => {
    onDone();
    return 0;
  },
  { name: 'noop' },
);
const rt = DBOS.registerWorkflow(
  async (id: string) => {
    starts.set(id, wallNow());
    return 0;
  },
  { name: 'rt' },
);
const tenSteps = DBOS.registerWorkflow(
  async () => {
    let total = 0;
    for (let i = 0; i < 10; i++) total += await DBOS.runStep(async () => i, { name: `s${i}` });
    return total;
  },
  { name: 'tenSteps' },
);
const seq40 = DBOS.registerWorkflow(
  async () => {
    let last = 0;
    for (let i = 0; i < 40; i++) {
      last = await DBOS.runStep(
        async () => {
          await sleep(10);
          return i;
        },
        { name: `t${i}` },
      );
    }
    return last;
  },
  { name: 'seq40' },
);
const item = DBOS.registerWorkflow(async (i: number) => i + 1, { name: 'item' });
const fan = DBOS.registerWorkflow(
  async () => {
    const n = await DBOS.runStep(async () => 100, { name: 'root' });
    const handles = [];
    for (let i = 0; i < n; i++)
      handles.push(await DBOS.startWorkflow(item, { queueName: 'fan' })(i));
    const results = await Promise.all(handles.map((h) => h.getResult({ pollingIntervalMs: 10 })));
    return DBOS.runStep(async () => results.length, { name: 'join' });
  },
  { name: 'fan' },
);

async function launch(config: PeerConfig, options: { executorID?: string; listen?: string[] }) {
  DBOS.setConfig({
    name: 'bench',
    systemDatabaseUrl: config.pgUrl!,
    logger: silent,
    ...(options.executorID ? { executorID: options.executorID } : {}),
    ...(options.listen ? { listenQueues: options.listen } : {}),
  });
  await DBOS.launch();
}

const queue = (name: string) =>
  DBOS.registerQueue(name, {
    workerConcurrency: WORKER_CONCURRENCY,
    minPollingIntervalMs: POLL_MS,
    onConflict: 'always_update',
  });

export const dbos: Peer = {
  id: 'dbos',
  label: 'DBOS Transact',
  backend: 'postgres',
  version: '@dbos-inc/dbos-sdk 5.3.0',
  settings: [
    `queues: workerConcurrency ${WORKER_CONCURRENCY} per process, minPollingIntervalMs ${POLL_MS} (default 1000)`,
    'an executorID per worker process (required with workerConcurrency)',
    `enqueue: DBOS.startWorkflow(…, { queueName }), ${ENQUEUE_IN_FLIGHT} in flight (no bulk enqueue)`,
    'system database pool: its default (10)',
  ],
  shapes: {
    '2': 'a workflow enqueued on a queue; result: handle.getResult({ pollingIntervalMs: 2 })',
    '3': 'a workflow of 10 DBOS.runStep steps, started directly',
    '4': 'a workflow: root step, 100 child workflows enqueued on a queue, awaited (getResult polling every 10 ms), then a join step',
    '5': 'a workflow of 40 DBOS.runStep steps',
  },
  async enqueue(config, n) {
    await launch(config, { listen: ['none'] });
    await queue('drain');
    const t0 = performance.now();
    await inFlight(n, ENQUEUE_IN_FLIGHT, () => DBOS.startWorkflow(noop, { queueName: 'drain' })());
    const ms = performance.now() - t0;
    await DBOS.shutdown();
    return { ms, method: `DBOS.startWorkflow on a queue, ${ENQUEUE_IN_FLIGHT} in flight` };
  },
  async worker(config) {
    return {
      async start(done) {
        onDone = done;
        await launch(config, {
          executorID: `bench-worker-${config.workerIndex ?? 0}`,
          listen: ['drain'],
        });
      },
      async stop() {
        await DBOS.shutdown();
      },
    };
  },
  async local(config) {
    await launch(config, { executorID: 'bench-local' });
    await queue('local');
    await queue('fan');
    return {
      async roundTrip() {
        const id = uid('rt');
        const t0 = wallNow();
        const handle = await DBOS.startWorkflow(rt, { queueName: 'local' })(id);
        await handle.getResult({ pollingIntervalMs: 2 });
        const result = wallNow() - t0;
        return { start: starts.get(id)! - t0, result };
      },
      workflow10: async () => void (await (await DBOS.startWorkflow(tenSteps)()).getResult()),
      seq40: async () => void (await (await DBOS.startWorkflow(seq40)()).getResult()),
      async fan() {
        const joined = await (await DBOS.startWorkflow(fan)()).getResult();
        if (joined !== 100) throw new Error(`join saw ${joined}`);
      },
      async close() {
        await DBOS.shutdown();
      },
    };
  },
};
