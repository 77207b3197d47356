/**
 * Weft, from the repository's source: embedded (one SQLite file) and on Postgres. The task
 * shapes are the ones of Weft's own Postgres benchmarks (`bench/weft/postgres-defs.ts`): a
 * one-node pipeline, a 10-step durable workflow, 1 → 100 → 1 as a map of 100 items, and a
 * chain of 40 nodes sleeping 10 ms each.
 */
import { join } from 'node:path';
import { Engine } from '../../../src/engine/engine.js';
import type { Store } from '../../../src/store/contract/index.js';
import { PostgresStore } from '../../../src/store/postgres/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import {
  definitions,
  fanMap,
  noop,
  seq40,
  single,
  tenSteps,
  tenStepsBatched,
  wallNow,
} from '../../weft/postgres-defs.js';
import type { Peer, PeerConfig } from '../adapter.js';

/** Steps running at once per worker: the best drain concurrency of Weft's own benchmark. */
const DRAIN_CONCURRENCY = 1024;
/** Local workloads: 128, the concurrency at which Weft's own 1 → 100 → 1 figure is measured. */
const LOCAL_CONCURRENCY = 128;
/** Runs per `engine.submitMany` call, as the peers' bulk enqueues take 1,000 jobs per call. */
const ENQUEUE_BATCH = 1000;

async function runOk(engine: Engine, target: Parameters<Engine['submit']>[0]): Promise<string> {
  const run = await engine.submit(target);
  const done = await engine.wait(run.id);
  if (done.status !== 'succeeded') throw new Error(`${done.definition}: run ${done.status}`);
  return run.id;
}

/**
 * Weft on one store. `batched`: the same, with the 10-step workflow's journal batched (its
 * only difference), so it runs workload 3 alone, as a row of its own.
 */
function weft(kind: 'sqlite' | 'postgres', batched = false): Peer {
  const open = async (config: PeerConfig): Promise<Store> =>
    kind === 'sqlite'
      ? SqliteStore.open(join(config.dir, 'weft.db'))
      : PostgresStore.connect(config.pgUrl!);
  const common = [
    `worker concurrency ${DRAIN_CONCURRENCY} per drain process (the best of 64/256/1024 in Weft's own Postgres drain benchmark)`,
    `local workloads: one engine (caller and worker), concurrency ${LOCAL_CONCURRENCY}`,
    `enqueue: engine.submitMany, ${ENQUEUE_BATCH.toLocaleString('en-US')} runs per call`,
  ];
  const base = kind === 'sqlite' ? 'Weft embedded (SQLite)' : 'Weft on Postgres';
  return {
    id: `${kind === 'sqlite' ? 'weft-sqlite' : 'weft-postgres'}${batched ? '-batched' : ''}`,
    label: batched ? `${base}, batched journal` : base,
    ...(batched ? { workloads: [3] } : {}),
    backend: kind,
    version: 'repository source',
    settings:
      kind === 'sqlite'
        ? [
            ...common,
            'SQLite WAL, synchronous=NORMAL (the store’s defaults); drain workers on one file poll every 1 s when idle',
          ]
        : [...common, 'pg pool of 10 (the store’s default), LISTEN/NOTIFY wake-ups'],
    shapes: {
      '3': batched
        ? "a workflow of 10 steps with journal: 'batched' (results commit behind the steps, with the run's end)"
        : 'a workflow of 10 steps, each result committed before the next step (the default)',
      '4': 'a pipeline: root node → map over 100 items → join node',
      '5': 'a pipeline chain of 40 nodes',
    },
    async enqueue(config, n) {
      const store = await open(config);
      const engine = new Engine({ store, definitions, worker: false, captureConsole: false });
      await engine.start();
      const t0 = performance.now();
      for (let done = 0; done < n; done += ENQUEUE_BATCH) {
        const count = Math.min(ENQUEUE_BATCH, n - done);
        await engine.submitMany(
          noop,
          Array.from({ length: count }, () => ({})),
        );
      }
      const ms = performance.now() - t0;
      await engine.stop();
      await store.close();
      return { ms, method: `engine.submitMany, ${ENQUEUE_BATCH.toLocaleString('en-US')} per call` };
    },
    async worker(config) {
      const store = await open(config);
      const engine = new Engine({
        store,
        definitions,
        captureConsole: false,
        concurrency: DRAIN_CONCURRENCY,
      });
      return {
        async start(done) {
          engine.on((event) => {
            if (event.type === 'run' && event.status === 'succeeded') done();
          });
          await engine.start();
        },
        async stop() {
          await engine.stop({ graceMs: 1000 });
          await store.close();
        },
      };
    },
    async local(config) {
      const store = await open(config);
      const engine = new Engine({
        store,
        definitions,
        captureConsole: false,
        concurrency: LOCAL_CONCURRENCY,
      });
      await engine.start();
      return {
        async roundTrip() {
          const t0 = wallNow();
          const run = await engine.submit(single);
          await engine.wait(run.id);
          const result = wallNow() - t0;
          const { work } = (await engine.outputs(run.id)) as { work: number };
          return { start: work - t0, result };
        },
        workflow10: async () => void (await runOk(engine, batched ? tenStepsBatched : tenSteps)),
        fan: async () => void (await runOk(engine, fanMap)),
        seq40: async () => void (await runOk(engine, seq40)),
        async close() {
          await engine.stop();
          await store.close();
        },
      };
    },
  };
}

export const weftSqlite = weft('sqlite');
export const weftPostgres = weft('postgres');
export const weftSqliteBatched = weft('sqlite', true);
export const weftPostgresBatched = weft('postgres', true);
