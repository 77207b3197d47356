/**
 * A worker process for the Postgres benchmarks, forked by `postgres-bench.ts` with an IPC
 * channel. Connects to the database (`WEFT_BENCH_URL`, schema `WEFT_BENCH_SCHEMA`), says
 * `ready`, and on `start` starts an engine with the benchmark definitions (`WEFT_BENCH_CONCURRENCY`,
 * `WEFT_BENCH_POLL_MS`). With `expect` in the start message it reports `drained` with the time
 * from start until that many runs finished here, and the SQL round trips it made meanwhile.
 * On `stop` (or when the parent goes away) it stops the engine and exits.
 */
import { Engine } from '../../src/engine/engine.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { definitions } from './postgres-defs.js';
import { startCounting, stopCounting } from './postgres-count.js';

type Message = { type: 'start'; expect?: number; count?: boolean } | { type: 'stop' };

const send = (message: unknown) => process.send?.(message);
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const store = await PostgresStore.connect(process.env.WEFT_BENCH_URL!, {
  schema: process.env.WEFT_BENCH_SCHEMA!,
  migrate: false,
});
const engine = new Engine({
  store,
  definitions,
  captureConsole: false,
  concurrency: env('WEFT_BENCH_CONCURRENCY', 16),
  pollMs: env('WEFT_BENCH_POLL_MS', 1000),
});

let stopping: Promise<void> | null = null;
const stop = () =>
  (stopping ??= (async () => {
    await engine.stop({ graceMs: 1000 });
    await store.close();
    send({ type: 'stopped' });
    process.exit(0);
  })());

process.on('disconnect', () => void stop());
process.on('message', (message: Message) => {
  if (message.type === 'stop') {
    void stop();
    return;
  }
  const expect = message.expect ?? 0;
  let finished = 0;
  const begin = performance.now();
  if (expect > 0) {
    if (message.count) startCounting();
    const off = engine.on((event) => {
      if (event.type !== 'run' || event.status !== 'succeeded') return;
      if (++finished < expect) return;
      off();
      const ms = performance.now() - begin;
      send({ type: 'drained', ms, queries: message.count ? stopCounting() : null });
    });
  }
  void engine.start().then(() => send({ type: 'started' }));
});
send({ type: 'ready' });
