/**
 * The server and the web UI at scale:
 * (a) `GET /api/runs` over HTTP on a store of 100,000 runs (SQLite, and Postgres unless
 *     `--no-postgres`): the first page, filtered by status and by definition, a next and a deep
 *     page (`before`), searches (`q`) by tag, by id prefix and for what no run has, a page of
 *     500; p50/p95 of 200 requests each (100 with `--quick`, on 20,000 runs);
 * (b) `GET /api/runs/:id` of a finished 1,000-node pipeline run; p50/p95;
 * (c) the UI lays out and renders a 500-node graph (`/__bench/graph?n=500`, the real graph
 *     component over a synthetic DAG) in headless Chromium: navigation start to
 *     `data-ready="true"` on `dag-graph`, with the layout and render times the page reports;
 *     median of 5 loads, each in a fresh browser context (nothing cached).
 *
 * The 100,000 runs are made quickly: a few template runs of each definition and status go
 * through the engine (one-node pipelines that succeed, fail, are cancelled or stay queued), then
 * SQL copies each template as many times as its share, with ids and times of their own spread
 * over 30 days, and tags. The copies are what the engine would have written, apart from their
 * ids and times.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { z } from 'zod';
import { newId } from '../../src/core/ids.js';
import { Engine } from '../../src/engine/engine.js';
import { pipeline } from '../../src/index.js';
import type { Ref } from '../../src/sdk/pipeline.js';
import { createServer } from '../../src/server/index.js';
import type { Store } from '../../src/store/contract/store.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { spawnPostgres } from '../../test/support/spawn-postgres.js';
import { fmt } from './stats.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UI_DIR = join(ROOT, 'dist/ui');

export interface UiBenchOptions {
  quick: boolean;
  sqlite: boolean;
  postgres: boolean;
  /** Run the browser part (c). */
  browser: boolean;
  log?: (line: string) => void;
}

export interface Latency {
  name: string;
  p50: number;
  p95: number;
  requests: number;
  /** Runs (or steps) in the answer, to show what was measured. */
  items: number;
}

export interface StoreFigures {
  dialect: 'sqlite' | 'postgres';
  runs: number;
  /** Runs by status, as written. */
  statuses: Record<string, number>;
  fillMs: number;
  list: Latency[];
  detail: Latency & { nodes: number };
}

export interface GraphFigures {
  nodes: number;
  loads: number;
  /** Navigation start → `data-ready="true"`, ms, per load. */
  readyMs: number[];
  median: { readyMs: number; layoutMs: number | null; renderMs: number | null };
  /** Graph nodes in the page's DOM once ready (a virtualized graph draws only what is in view). */
  drawnNodes: number;
  chromium: string;
}

export interface UiBenchResults {
  /** Load averages (1, 5, 15 min) when the group began and ended: other work skews figures. */
  load: { start: number[]; end: number[] };
  stores: StoreFigures[];
  graph: GraphFigures | { skipped: string };
}

const DEFINITIONS = ['ingest', 'report', 'billing', 'sync', 'cleanup'] as const;

/** How the runs divide among statuses (cumulative shares of the 100,000). */
const STATUS_SHARES = [
  ['succeeded', 0.7],
  ['failed', 0.15],
  ['cancelled', 0.1],
  ['queued', 0.05],
] as const;

type TemplateStatus = (typeof STATUS_SHARES)[number][0];

const oneNode = (name: string) =>
  pipeline(name, { params: z.object({ fail: z.boolean().default(false) }) }, (p) => {
    const main = p.node('main', { fail: p.params.fail }, ({ fail }) => {
      if (fail) throw new Error(`${name} failed on purpose`);
      return { rows: 42 };
    });
    return { main };
  });

/** A pipeline of `n` nodes: layers of 25, each node reading two nodes of the layer before. */
function wide(n: number) {
  return pipeline('wide', {}, (p) => {
    const width = 25;
    let previous: Ref<number>[] = [];
    let made = 0;
    while (made < n) {
      const layer: typeof previous = [];
      for (let i = 0; i < width && made < n; i++, made++) {
        const name = `n${made}`;
        if (previous.length === 0) {
          const seed = made;
          layer.push(p.node(name, {}, () => seed));
        } else {
          const a = previous[i % previous.length]!;
          const b = previous[(i + 1) % previous.length]!;
          layer.push(p.node(name, { a, b }, ({ a, b }) => a + b + 1));
        }
      }
      previous = layer;
    }
    // The whole last layer: every node is upstream of it, so the run computes all `n`.
    return Object.fromEntries(previous.map((ref, i) => [`out${i}`, ref]));
  });
}

// ---------------------------------------------------------------------------------------------
// Filling a store

interface Template {
  id: string;
  createdAt: number;
  status: TemplateStatus;
  definition: string;
}

/** Template runs through the engine: each definition in each status. */
async function makeTemplates(store: Store): Promise<Template[]> {
  const defs = DEFINITIONS.map(oneNode);
  const templates: Template[] = [];
  const worker = new Engine({ store, definitions: defs, captureConsole: false, pollMs: 50 });
  await worker.start();
  for (const def of defs) {
    for (const fail of [false, true]) {
      const run = await worker.submit(def, { params: { fail }, trigger: 'bench' });
      const done = await worker.wait(run.id);
      templates.push({
        id: done.id,
        createdAt: done.createdAt,
        status: fail ? 'failed' : 'succeeded',
        definition: def.name,
      });
    }
  }
  await worker.stop();
  // Submitted with no worker to take them: they stay queued, or are cancelled while queued.
  const client = new Engine({ store, definitions: defs, worker: false, captureConsole: false });
  await client.start();
  for (const def of defs) {
    const queued = await client.submit(def, { trigger: 'bench' });
    templates.push({
      id: queued.id,
      createdAt: queued.createdAt,
      status: 'queued',
      definition: def.name,
    });
    const cancelled = await client.submit(def, { trigger: 'bench' });
    await client.cancel(cancelled.id, 'cancelled by the benchmark');
    templates.push({
      id: cancelled.id,
      createdAt: cancelled.createdAt,
      status: 'cancelled',
      definition: def.name,
    });
  }
  await client.stop();
  for (const t of templates) {
    const run = await store.getRun(t.id);
    if (run?.status !== t.status) {
      throw new Error(`template ${t.id} is ${run?.status}, expected ${t.status}`);
    }
  }
  return templates;
}

/** A small seeded generator (mulberry32): the same fill every time. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Copy {
  id: string;
  createdAt: number;
  tags: string[];
}

/** The `n` runs to write, oldest first, grouped by the template each copies. */
function plan(templates: Template[], n: number, now: number): Map<Template, Copy[]> {
  const next = random(7);
  const span = 30 * 24 * 3600 * 1000;
  const start = now - span - 3600_000;
  const copies = new Map<Template, Copy[]>(templates.map((t) => [t, []]));
  for (let i = 0; i < n; i++) {
    const createdAt = start + Math.floor((i * span) / n);
    const definition = DEFINITIONS[Math.floor(next() * DEFINITIONS.length)]!;
    const roll = next();
    let cumulative = 0;
    let status: TemplateStatus = 'succeeded';
    for (const [s, share] of STATUS_SHARES) {
      cumulative += share;
      if (roll < cumulative) {
        status = s;
        break;
      }
    }
    const template = templates.find((t) => t.definition === definition && t.status === status)!;
    const tags = [`batch-${i % 20}`];
    if (i % 10 === 0) tags.push('nightly');
    copies.get(template)!.push({ id: newId('run', createdAt), createdAt, tags });
  }
  return copies;
}

/** Columns whose values are times: shifted with the copy (a parked step's sentinel stays). */
const TIMES = new Set([
  'started_at',
  'finished_at',
  'updated_at',
  'queued_at',
  'available_at',
  'lease_expires_at',
]);
/** Tables holding a run's rows, by the column naming the run. */
const TABLES = [
  ['runs', 'id'],
  ['steps', 'run_id'],
  ['attempts', 'run_id'],
] as const;

async function fillSqlite(path: string, store: Store, n: number): Promise<void> {
  const templates = await makeTemplates(store);
  const copies = plan(templates, n, Date.now());
  const db = new Database(path);
  try {
    db.pragma('busy_timeout = 5000');
    const columns = (table: string) =>
      (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
    const statements = TABLES.map(([table, idColumn]) => {
      const cols = columns(table);
      const select = cols.map((col) => {
        if (col === idColumn) return `json_extract(j.value, '$[0]')`;
        if (col === 'created_at') return `json_extract(j.value, '$[1]')`;
        if (table === 'runs' && col === 'tags') return `json_extract(j.value, '$[2]')`;
        if (TIMES.has(col)) {
          return `CASE WHEN x.${col} < 1e15 THEN x.${col} + (json_extract(j.value, '$[1]') - @t) ELSE x.${col} END`;
        }
        return `x.${col}`;
      });
      return db.prepare(
        `INSERT INTO ${table} (${cols.join(', ')}) SELECT ${select.join(', ')}
         FROM ${table} x, json_each(@copies) j WHERE x.${idColumn} = @id`,
      );
    });
    const remove = TABLES.map(([table, idColumn]) =>
      db.prepare(`DELETE FROM ${table} WHERE ${idColumn} = ?`),
    );
    db.transaction(() => {
      for (const [template, list] of copies) {
        const json = JSON.stringify(list.map((c) => [c.id, c.createdAt, JSON.stringify(c.tags)]));
        for (const s of statements) s.run({ copies: json, id: template.id, t: template.createdAt });
      }
      for (const t of templates) for (const r of [...remove].reverse()) r.run(t.id);
    })();
    db.exec('ANALYZE');
  } finally {
    db.close();
  }
}

async function fillPostgres(url: string, schema: string, store: Store, n: number): Promise<void> {
  const templates = await makeTemplates(store);
  const copies = plan(templates, n, Date.now());
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
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
    await c.query('BEGIN');
    for (const [table, idColumn] of TABLES) {
      const cols = await columns(table);
      const select = cols.map((col) => {
        if (col === idColumn) return 'u.id';
        if (col === 'created_at') return 'u.t';
        if (table === 'runs' && col === 'tags') {
          return `ARRAY(SELECT jsonb_array_elements_text(u.tags::jsonb))`;
        }
        if (TIMES.has(col)) {
          return `CASE WHEN x.${col} < 1e15 THEN x.${col} + (u.t - $5) ELSE x.${col} END`;
        }
        return `x.${col}`;
      });
      const sql = `INSERT INTO ${table} (${cols.join(', ')}) SELECT ${select.join(', ')}
        FROM ${table} x, unnest($2::text[], $3::bigint[], $4::text[]) AS u(id, t, tags)
        WHERE x.${idColumn} = $1`;
      for (const [template, list] of copies) {
        await c.query(sql, [
          template.id,
          list.map((l) => l.id),
          list.map((l) => l.createdAt),
          list.map((l) => JSON.stringify(l.tags)),
          template.createdAt,
        ]);
      }
    }
    for (const t of templates) {
      for (const [table, idColumn] of [...TABLES].reverse()) {
        await c.query(`DELETE FROM ${table} WHERE ${idColumn} = $1`, [t.id]);
      }
    }
    await c.query('COMMIT');
    await c.query('ANALYZE');
  } finally {
    await c.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Measuring

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** Times `requests` GETs of `url` one after another (after 10 unmeasured), body read whole. */
async function latency(
  name: string,
  url: string,
  requests: number,
  count: (body: unknown) => number,
): Promise<Latency> {
  let items = 0;
  const once = async () => {
    const res = await fetch(url);
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${text}`);
    return text;
  };
  for (let i = 0; i < 10; i++) items = count(JSON.parse(await once()));
  const times: number[] = [];
  for (let i = 0; i < requests; i++) {
    const start = process.hrtime.bigint();
    await once();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { name, p50: percentile(times, 50), p95: percentile(times, 95), requests, items };
}

async function measureStore(
  dialect: 'sqlite' | 'postgres',
  store: Store,
  fill: () => Promise<void>,
  runs: number,
  requests: number,
  log: (line: string) => void,
): Promise<StoreFigures> {
  const fillStart = Date.now();
  await fill();
  const fillMs = Date.now() - fillStart;
  log(`  ${dialect}: ${runs.toLocaleString('en')} runs written in ${(fillMs / 1000).toFixed(1)} s`);

  // The 1,000-node run, run for real.
  const nodes = 1000;
  const big = wide(nodes);
  const engine = new Engine({ store, definitions: [big], captureConsole: false, pollMs: 50 });
  await engine.start();
  const bigRun = await engine.wait((await engine.submit(big, { trigger: 'bench' })).id);
  await engine.stop();
  if (bigRun.status !== 'succeeded') throw new Error(`the ${nodes}-node run ${bigRun.status}`);

  const api = createServer({ store, ui: false });
  const { url } = await api.listen(0, '127.0.0.1');
  try {
    const runsOf = (body: unknown) => (body as { runs: unknown[] }).runs.length;
    const page = async (query: string) =>
      (await (await fetch(`${url}/api/runs?${query}`)).json()) as {
        runs: { id: string }[];
        next: string | null;
      };
    const all = await store.listRuns({});
    const statuses: Record<string, number> = {};
    for (const r of all) {
      if (r.id !== bigRun.id) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    }
    // The 1,000-node run is the one more.
    if (all.length !== runs + 1) throw new Error(`${all.length - 1} runs written, not ${runs}`);
    // A cursor 90 % of the way down: the run 90,000th newest of 100,000.
    const deep = all[Math.floor(runs * 0.9)]!.id;
    // About 17 minutes of runs: the first 6 of an id's 10 characters of time name a span of
    // 32^4 ms.
    const prefix = deep.slice(0, 'run_'.length + 6);
    const first = await page('');
    const list = [
      await latency('first page (50)', `${url}/api/runs`, requests, runsOf),
      await latency('status=failed', `${url}/api/runs?status=failed`, requests, runsOf),
      await latency('definition=billing', `${url}/api/runs?definition=billing`, requests, runsOf),
      await latency(
        'status + definition',
        `${url}/api/runs?status=cancelled&definition=sync`,
        requests,
        runsOf,
      ),
      await latency(
        'second page (before)',
        `${url}/api/runs?before=${first.next}`,
        requests,
        runsOf,
      ),
      await latency('deep page (before, 90 %)', `${url}/api/runs?before=${deep}`, requests, runsOf),
      await latency('search q=<tag> (10 %)', `${url}/api/runs?q=nightly`, requests, runsOf),
      await latency('search q=<id prefix>', `${url}/api/runs?q=${prefix}`, requests, runsOf),
      // A tag no run has: every run is looked at.
      await latency('search q=<absent tag>', `${url}/api/runs?q=no-such-tag`, requests, runsOf),
      await latency('limit=500', `${url}/api/runs?limit=500`, requests, runsOf),
    ];
    const detail = await latency(
      `run detail, ${nodes} nodes`,
      `${url}/api/runs/${bigRun.id}`,
      requests,
      (body) => (body as { steps: unknown[] }).steps.length,
    );
    return { dialect, runs, statuses, fillMs, list, detail: { ...detail, nodes } };
  } finally {
    await api.close({ graceMs: 0 });
  }
}

// ---------------------------------------------------------------------------------------------
// Postgres

async function bootPostgres(): Promise<{ url: string; stop(): Promise<void> }> {
  const given = process.env.WEFT_BENCH_PG_URL;
  if (given) return { url: given, stop: async () => undefined };
  // The tests' embedded Postgres, with Postgres's default durability (as postgres-bench.ts).
  return spawnPostgres({ WEFT_PG_DURABLE: '1' });
}

// ---------------------------------------------------------------------------------------------
// The graph in Chromium

function chromiumPath(): string {
  return process.env.WEFT_CHROMIUM ?? '/usr/bin/chromium';
}

async function graphBenchmark(
  nodes: number,
  loads: number,
): Promise<GraphFigures | { skipped: string }> {
  if (!existsSync(chromiumPath())) {
    return {
      skipped: `no Chromium at ${chromiumPath()} (apt-get install chromium, or WEFT_CHROMIUM)`,
    };
  }
  if (!existsSync(join(UI_DIR, 'index.html'))) {
    return { skipped: 'the web UI is not built (dist/ui/index.html): npm run build' };
  }
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-ui-'));
  const store = SqliteStore.open(join(dir, 'weft.db'));
  await store.migrate();
  const api = createServer({ store, ui: UI_DIR });
  const { url } = await api.listen(0, '127.0.0.1');
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  try {
    const once = async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      try {
        const page = await context.newPage();
        // Notes the moment the graph says it is ready, on the page's own clock (whose zero is
        // the navigation's start).
        await page.addInitScript(`
          new MutationObserver((_, observer) => {
            const graph = document.querySelector('[data-testid="dag-graph"][data-ready="true"]');
            if (graph && window.__weftReadyAt === undefined) {
              window.__weftReadyAt = performance.now();
              observer.disconnect();
            }
          }).observe(document, { subtree: true, attributes: true, childList: true, attributeFilter: ['data-ready'] });
        `);
        await page.goto(`${url}/__bench/graph?n=${nodes}`);
        const graph = page.locator('[data-testid="dag-graph"][data-ready="true"]');
        await graph.waitFor({ timeout: 60_000 });
        const readyAt = (await page.evaluate('window.__weftReadyAt')) as number;
        const number = async (attr: string) => {
          const v = await graph.getAttribute(attr);
          return v === null ? null : Number(v);
        };
        const drawn = await page.locator('[data-testid^="graph-node-"]').count();
        return {
          readyAt,
          layoutMs: await number('data-layout-ms'),
          renderMs: await number('data-render-ms'),
          drawn,
        };
      } finally {
        await context.close();
      }
    };
    await once(); // warm-up: Chromium's own start-up costs
    const results = [];
    for (let i = 0; i < loads; i++) results.push(await once());
    const median = (values: number[]) => {
      const s = [...values].sort((a, b) => a - b);
      return s[Math.floor(s.length / 2)]!;
    };
    const known = (values: (number | null)[]) => values.filter((v): v is number => v !== null);
    const layouts = known(results.map((r) => r.layoutMs));
    const renders = known(results.map((r) => r.renderMs));
    return {
      nodes,
      loads,
      readyMs: results.map((r) => r.readyAt),
      median: {
        readyMs: median(results.map((r) => r.readyAt)),
        layoutMs: layouts.length ? median(layouts) : null,
        renderMs: renders.length ? median(renders) : null,
      },
      drawnNodes: results[results.length - 1]!.drawn,
      chromium: browser.version(),
    };
  } finally {
    await browser.close();
    await api.close({ graceMs: 0 });
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

export async function uiBenchmarks(options: UiBenchOptions): Promise<UiBenchResults> {
  const log = options.log ?? ((line: string) => console.log(line));
  const start = loadavg();
  const runs = options.quick ? 20_000 : 100_000;
  const requests = options.quick ? 100 : 200;
  const stores: StoreFigures[] = [];

  if (options.sqlite) {
    const dir = mkdtempSync(join(tmpdir(), 'weft-bench-api-'));
    const path = join(dir, 'weft.db');
    const store = SqliteStore.open(path);
    try {
      await store.migrate();
      stores.push(
        await measureStore(
          'sqlite',
          store,
          () => fillSqlite(path, store, runs),
          runs,
          requests,
          log,
        ),
      );
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  if (options.postgres) {
    const server = await bootPostgres();
    const schema = `weft_bench_ui_${process.pid}`;
    const store = await PostgresStore.connect(server.url, { schema });
    try {
      await store.migrate();
      stores.push(
        await measureStore(
          'postgres',
          store,
          () => fillPostgres(server.url, schema, store, runs),
          runs,
          requests,
          log,
        ),
      );
    } finally {
      await store.close();
      const c = new pg.Client({ connectionString: server.url });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
      await server.stop();
    }
  }

  const graph = options.browser
    ? await graphBenchmark(500, 5)
    : { skipped: 'not run with --postgres-only' };
  return { load: { start, end: loadavg() }, stores, graph };
}

/**
 * The group as `run.ts` runs it: prints the figures and writes `bench/results/weft-ui.json`.
 * SQLite's figures and the browser's come with `sqlite`, Postgres's with `postgres`.
 */
export async function uiSuite(options: {
  quick: boolean;
  sqlite: boolean;
  postgres: boolean;
  machine: Record<string, string>;
}): Promise<void> {
  console.log(`\nserver and UI (${options.quick ? '20,000' : '100,000'} runs)`);
  const results = await uiBenchmarks({
    quick: options.quick,
    sqlite: options.sqlite,
    postgres: options.postgres,
    browser: options.sqlite,
  });
  for (const s of results.stores) {
    console.log(`\n  ${s.dialect}: p50 / p95 ms over ${s.detail.requests} requests each`);
    for (const l of [...s.list, s.detail]) {
      console.log(
        `    ${l.name.padEnd(28)} ${fmt(l.p50).padStart(7)} ${fmt(l.p95).padStart(7)}  (${l.items} items)`,
      );
    }
  }
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  console.log(
    `\n  load average: ${load(results.load.start)} at start, ${load(results.load.end)} at end`,
  );
  const g = results.graph;
  if ('skipped' in g) console.log(`\n  UI graph: skipped: ${g.skipped}`);
  else {
    const ms = (v: number | null) => (v === null ? '?' : fmt(v, 0));
    console.log(
      `\n  UI graph, ${g.nodes} nodes (Chromium ${g.chromium}), median of ${g.loads} loads: ready ${ms(g.median.readyMs)} ms after navigation start (layout ${ms(g.median.layoutMs)} ms, render ${ms(g.median.renderMs)} ms, ${g.drawnNodes} nodes in the DOM); loads: ${g.readyMs.map((v) => fmt(v, 0)).join(', ')} ms`,
    );
  }
  mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
  writeFileSync(
    new URL('../results/weft-ui.json', import.meta.url),
    JSON.stringify({ machine: options.machine, quick: options.quick, ...results }, null, 2),
  );
}
