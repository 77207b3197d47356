/**
 * Weft's own benchmarks: `npm run bench` at the repository root. Prints a table and writes
 * `bench/results/weft.json` (embedded, SQLite) and `bench/results/weft-postgres.json`
 * (distributed, Postgres). Medians of several runs, with min and max.
 *
 * Flags: `--quick` (smaller), `--no-postgres` (SQLite suites only), `--postgres-only`,
 * `--pg=1,3` (only those Postgres benchmarks), `--pg-poll-ms=N` (poll interval of the separate
 * worker in Postgres benchmark 1b; default 1000, the engine's), `--pg-cpu-prof=DIR` (CPU profiles
 * of the drain workers; summarize one with `bench/weft/postgres-profile.ts`), `--ui-only` (the
 * server and UI benchmarks of `ui.ts` alone), `--no-ui` (without them).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { durableBenchmarks, inProcessBenchmarks } from './pipelines.js';
import { workflowBenchmarks } from './workflows.js';
import { fmt } from './stats.js';
import { postgresBenchmarks } from './postgres-bench.js';
import { uiSuite } from './ui.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const withPostgres = !argv.includes('--no-postgres');
const onlyPostgres = argv.includes('--postgres-only');
const onlyUi = argv.includes('--ui-only');
const withUi = !argv.includes('--no-ui');
const flag = (name: string): string | undefined =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const N = quick ? 2000 : 10_000;
const REPS = quick ? 3 : 7;

const machine = {
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
};
console.log(`weft benchmarks — ${machine.cpus}, ${machine.memory}, Node ${machine.node}`);

if (!onlyPostgres && !onlyUi) await sqliteSuites();
if (withPostgres && !onlyUi) await postgresSuite();
if (withUi || onlyUi) {
  await uiSuite({ quick, sqlite: !onlyPostgres, postgres: withPostgres, machine });
}

async function sqliteSuites(): Promise<void> {
  console.log(`no-op nodes, ${N} per run, median of ${REPS} runs (min–max)\n`);

  const rows = [...(await inProcessBenchmarks(N, REPS)), ...(await durableBenchmarks(N, REPS))];
  const header = ['benchmark', 'nodes', 'direct ms', 'weft ms', 'overhead µs/node', 'nodes/s'];
  const lines = rows.map((r) => [
    r.name,
    String(r.nodes),
    r.direct.runs ? `${fmt(r.direct.median)} (${fmt(r.direct.min)}–${fmt(r.direct.max)})` : '—',
    `${fmt(r.weft.median)} (${fmt(r.weft.min)}–${fmt(r.weft.max)})`,
    fmt(r.perNodeUs),
    String(Math.round((r.nodes * 1000) / r.weft.median)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const print = (cols: string[]) =>
    console.log(cols.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  print(header);
  print(widths.map((w) => '-'.repeat(w)));
  lines.forEach(print);

  const wf = await workflowBenchmarks(quick ? 100 : 500, 1000);
  console.log('\ndurable workflows (SQLite)');
  console.log(
    `  3-step workflow, start to result: p50 ${fmt(wf.threeStep.p50, 3)} ms, p95 ${fmt(wf.threeStep.p95, 3)} ms (${wf.threeStep.runs} runs, one at a time)`,
  );
  const ps = wf.perStep;
  console.log(
    `  per durable step (${ps.steps}-step run, median of 3 runs): steps 1–10 ${fmt(ps.first10Us.median, 1)} µs, steps ${ps.steps - 9}–${ps.steps} ${fmt(ps.last10Us.median, 1)} µs, all steps ${fmt(ps.allUs.median, 1)} µs`,
  );

  mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
  writeFileSync(
    new URL('../results/weft.json', import.meta.url),
    JSON.stringify({ machine, nodes: N, reps: REPS, results: rows, workflows: wf }, null, 2),
  );
}

async function postgresSuite(): Promise<void> {
  const only = flag('pg');
  console.log('\ndistributed (Postgres), default durability');
  const results = await postgresBenchmarks({
    quick,
    pollMs: Number(flag('pg-poll-ms') ?? 1000),
    ...(flag('pg-cpu-prof') ? { cpuProf: flag('pg-cpu-prof')! } : {}),
    ...(only ? { only: new Set(only.split(',').map(Number)) } : {}),
  });
  const header = ['benchmark', 'median (min–max)', 'target', 'SQL per task', 'note'];
  const lines = results.figures.map((f) => {
    const d = f.unit === 'ms' ? 2 : 0;
    const v = f.value;
    return [
      f.name,
      `${fmt(v.median, d)} ${f.unit} (${fmt(v.min, d)}–${fmt(v.max, d)})`,
      f.target ? `${f.target} ${f.met ? '✔' : '✘'}` : '',
      f.perTask
        ? `${fmt(f.perTask.queries, 1)} stmts, ${fmt(f.perTask.transactions, 1)} tx / ${f.perTask.what}`
        : '',
      f.note ?? '',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const print = (cols: string[]) =>
    console.log(
      cols
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
  console.log('');
  print(header);
  print(widths.map((w) => '-'.repeat(w)));
  lines.forEach(print);
  console.log('\n  Postgres alone (bare statements on the same server):');
  for (const [name, v] of Object.entries(results.bare)) {
    console.log(`    ${name}: ${fmt(v.median, 3)} ms (${fmt(v.min, 3)}–${fmt(v.max, 3)})`);
  }
  mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
  writeFileSync(
    new URL('../results/weft-postgres.json', import.meta.url),
    JSON.stringify({ machine, quick, ...results }, null, 2),
  );
}
