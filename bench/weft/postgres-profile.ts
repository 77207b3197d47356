/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`; the Postgres benchmarks write one per drain
 * worker with `npm run bench -- --postgres-only --pg=2 --pg-cpu-prof=DIR`): self time by area
 * (Weft's engine, its Postgres store, the pg driver, Node internals, GC, idle) and the
 * functions with the most self time.
 *
 *   node --import tsx bench/weft/postgres-profile.ts DIR/some.cpuprofile
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function area(url: string, fn: string): string {
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return 'program (V8, native)';
  if (url.includes('/src/engine/')) return 'weft engine (src/engine)';
  if (url.includes('/src/store/postgres/')) return 'weft Postgres store (src/store/postgres)';
  if (url.includes('/src/')) return 'weft other (src/core, src/sdk)';
  if (url.includes('node_modules/pg-protocol')) return 'pg-protocol (wire parsing)';
  if (url.includes('node_modules/pg')) return 'pg driver (pg, pg-pool, pg-types)';
  if (url.includes('node_modules/')) return 'other packages';
  if (url.startsWith('node:') || url === '') return 'Node internals (net, streams, timers)';
  return 'other';
}

const file = process.argv[2];
if (!file) {
  console.error('usage: postgres-profile.ts <file.cpuprofile>');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) =>
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
);
const total = [...self.values()].reduce((a, b) => a + b, 0);
const areas = new Map<string, number>();
const fns = new Map<string, number>();
for (const [id, us] of self) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const a = area(url, functionName);
  areas.set(a, (areas.get(a) ?? 0) + us);
  const short = url.replace(/^.*\/(node_modules|src)\//, '$1/');
  const key = `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
console.log('\nself time by area');
for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1])) console.log(`  ${pct(us)}  ${a}`);
console.log('\ntop functions by self time');
for (const [f, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, 25)) {
  console.log(`  ${pct(us)}  ${f}`);
}
