/**
 * A Weft server over sample data, to develop and look at the web UI against real runs:
 *
 * ```sh
 * node --conditions=weft-source --import tsx ui/scripts/sample-server.ts [--port 8080] [--runs 0]
 * npx vite --config ui/vite.config.ts   # the UI in dev mode, its /api proxied here
 * ```
 *
 * It opens a SQLite store in a temporary directory, starts an engine with the examples'
 * definitions (and a slow `ticker` pipeline, so there is always something running to watch),
 * submits runs that succeed, fail, and one expense that waits for approval, then serves the
 * API. `--runs N` adds N runs of an `archive` pipeline no worker here runs (so they stay
 * queued and cost nothing), to try the runs table against a large history.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pipeline } from 'weft';
import { z } from 'zod';
import { Engine } from '../../src/engine/engine.js';
import { createServer } from '../../src/server/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { expenseApproval } from '../../examples/approval/workflow.js';
import { etl } from '../../examples/etl/pipeline.js';
import { flaky } from '../../examples/flaky/pipeline.js';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    runs: { type: 'string', default: '0' },
    token: { type: 'string' },
  },
});

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** Takes a few seconds and logs as it goes: live updates have something to show. */
const ticker = pipeline(
  'ticker',
  {
    params: z.object({ seconds: z.number().int().min(1).max(600).default(8) }),
    description: 'Counts slowly, logging every second (a run to watch live)',
  },
  (p) => {
    const count = p.node('count', { seconds: p.params.seconds }, async ({ seconds }, ctx) => {
      for (let i = 1; i <= seconds; i++) {
        await sleep(1000, ctx.signal);
        ctx.log.info(`tick ${i} of ${seconds}`);
      }
      return seconds;
    });
    const parts = p.node('parts', { count }, ({ count }) =>
      Array.from({ length: count }, (_, i) => i),
    );
    const squares = p.map('squares', parts, {}, async (i, _deps, ctx) => {
      await sleep(300 + 100 * i, ctx.signal);
      return i * i;
    });
    const done = p.node('done', { squares }, ({ squares }) => ({
      sum: squares.reduce((a, b) => a + b, 0),
    }));
    return { done };
  },
);

const dir = mkdtempSync(join(tmpdir(), 'weft-ui-sample-'));
const store = SqliteStore.open(join(dir, 'weft.db'));
await store.migrate();
const engine = new Engine({
  store,
  definitions: [etl, flaky, expenseApproval, ticker],
  pollMs: 200,
  labels: ['sample'],
});
await engine.start();

const out = join(dir, 'report.md');
const submitted = [
  await engine.submit(etl, { params: { out }, trigger: 'cli', tags: ['nightly'] }),
  await engine.submit(etl, {
    params: { out, source: join(dir, 'missing.json') },
    trigger: 'api',
    tags: ['adhoc'],
  }),
  await engine.submit(flaky, { params: { failures: 2, items: 8 }, trigger: 'cli' }),
  await engine.submit(flaky, { params: { failures: 5, items: 4 }, trigger: 'schedule' }),
  await engine.submit(expenseApproval, {
    params: { expenseId: 'exp-1', employee: 'ada', amount: 120, description: 'a keyboard' },
    trigger: 'api',
    tags: ['expenses'],
  }),
  await engine.submit(expenseApproval, {
    params: { expenseId: 'exp-2', employee: 'bob', amount: 25_000 },
    trigger: 'api',
  }),
  await engine.submit(ticker, { params: { seconds: 60 }, trigger: 'cli' }),
];

// A new ticker run every 45 s, so the runs page always has something live.
const schedule = setInterval(() => {
  void engine.submit(ticker, { params: { seconds: 15 }, trigger: 'schedule', tags: ['every-45s'] });
}, 45_000);

const history = Number(args.runs);
if (history > 0) {
  // Submitted without a worker picking them up would leave them queued; they are only rows
  // for the table, so a submit-only engine writes them and they stay queued.
  const client = new Engine({ store, definitions: [flaky], worker: false, captureConsole: false });
  await client.start();
  const started = Date.now();
  for (let i = 0; i < history; i++) {
    await client.submit(flaky, {
      params: { items: 1 },
      trigger: 'bulk',
      tags: [`batch-${i % 10}`],
    });
  }
  await client.stop();
  process.stdout.write(`wrote ${history} runs in ${Date.now() - started} ms\n`);
}

const api = createServer({ store, ...(args.token ? { token: args.token } : {}) });
const { url } = await api.listen(Number(args.port), '127.0.0.1');
process.stdout.write(
  `sample server on ${url} (store ${dir}); runs: ${submitted.map((r) => r.id).join(' ')}\n`,
);

let stopping = false;
async function stop() {
  if (stopping) process.exit(1);
  stopping = true;
  clearInterval(schedule);
  await api.close({ graceMs: 500 });
  await engine.stop({ graceMs: 0 });
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
