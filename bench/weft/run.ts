/**
 * Weft's own benchmarks: `npm run bench` at the repository root. Prints a table and writes
 * `bench/results/weft.json`. Medians of several runs, with min and max.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { durableBenchmarks, inProcessBenchmarks } from './pipelines.js';
import { workflowBenchmarks } from './workflows.js';
import { fmt } from './stats.js';

const quick = process.argv.includes('--quick');
const N = quick ? 2000 : 10_000;
const REPS = quick ? 3 : 7;

const machine = {
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
};
console.log(`weft benchmarks — ${machine.cpus}, ${machine.memory}, Node ${machine.node}`);
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
const print = (cols: string[]) => console.log(cols.map((c, i) => c.padEnd(widths[i]!)).join('  '));
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
