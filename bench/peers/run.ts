/**
 * The peer benchmark (`npm run bench:peers` at the repository root): Weft embedded, Weft on
 * Postgres and its peers through the same workloads on the same machine and the same Postgres.
 *
 * 1. enqueue rate and drain rate of 20,000 no-op tasks, one worker process;
 * 2. 300 sequential round trips: enqueue → start and enqueue → result, p50/p95/p99;
 * 3. a 10-step durable workflow: 500 runs with 10 in flight, and one run alone (p50);
 * 4. 1 → 100 → 1 fan-out/fan-in: p50 per run over 20 runs;
 * 5. Windmill's shape: 40 sequential ~10 ms tasks, total time;
 * 6. scale: the drain of 1 with 1, 2 and 4 worker processes.
 *
 * Flags: `--quick` (smaller counts, one repetition), `--peers=a,b` (ids, see `adapters/index.ts`),
 * `--workloads=1,3`, `--merge` (keep the figures of `bench/results/peers.json` that this run
 * doesn't measure again: rerun one peer or workload without losing the rest). Every figure is a median over repetitions after a warm-up, with min and
 * max. Writes `bench/results/peers.json` and `bench/results/peers.md`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize, type Summary } from '../weft/stats.js';
import { peers as allPeers } from './adapters/index.js';
import { wallNow, type EnqueueResult, type Peer, type PeerConfig } from './adapter.js';
import {
  killAll,
  removeTempDir,
  removeTempDirs,
  startPostgres,
  startRedis,
  startRestate,
  startedPids,
  tempDir,
  type PostgresServer,
  type RedisServer,
} from './backends.js';
import type { Job, LocalPlan, Measured } from './child.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Flags and plan

const argv = process.argv.slice(2);
const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
for (const a of argv) {
  if (!/^--(quick|merge|peers=.+|workloads=.+)$/.test(a)) {
    console.error(`unknown flag ${a}; use --quick, --peers=a,b, --workloads=1,3, --merge`);
    process.exit(2);
  }
}
const quick = argv.includes('--quick');
const merge = argv.includes('--merge');
const wantedPeers = flag('peers')?.split(',');
const wantedWorkloads = new Set(
  (flag('workloads') ?? '1,2,3,4,5,6').split(',').map((w) => Number(w.trim())),
);
for (const w of wantedWorkloads) {
  if (!(w >= 1 && w <= 6)) {
    console.error(`--workloads: ${w} is not a workload (1–6)`);
    process.exit(2);
  }
}
const unknown = wantedPeers?.filter((id) => !allPeers.some((p) => p.id === id)) ?? [];
if (unknown.length) {
  console.error(
    `--peers: unknown ${unknown.join(', ')}; known: ${allPeers.map((p) => p.id).join(', ')}`,
  );
  process.exit(2);
}
const peers = wantedPeers ? allPeers.filter((p) => wantedPeers.includes(p.id)) : allPeers;
/** The systems in the written tables: those measured, and with `--merge` those kept. */
let listed = peers;

const DRAIN_TASKS = quick ? 2000 : 20_000;
const DRAIN_REPS = quick ? 1 : 3;
const plan: LocalPlan = quick
  ? {
      reps: 1,
      warmup: 1,
      roundTrips: 50,
      workflowRuns: 50,
      aloneRuns: 5,
      fanRuns: 3,
      budgetMs: 20_000,
    }
  : {
      reps: 3,
      warmup: 2,
      roundTrips: 300,
      workflowRuns: 500,
      aloneRuns: 20,
      fanRuns: 20,
      budgetMs: 90_000,
    };

// ---------------------------------------------------------------------------------------------
// Workloads and their metrics

interface Metric {
  name: string;
  unit: string;
  better: 'higher' | 'lower';
}
const rate = (name: string): Metric => ({ name, unit: 'tasks/s', better: 'higher' });
const ms = (name: string): Metric => ({ name, unit: 'ms', better: 'lower' });
const WORKLOADS: Record<number, { title: string; metrics: Metric[] }> = {
  1: {
    title: `enqueue and drain ${DRAIN_TASKS.toLocaleString('en')} no-op tasks, one worker process`,
    metrics: [rate('enqueue'), rate('drain')],
  },
  2: {
    title: `${plan.roundTrips} sequential round trips (caller and worker in one process)`,
    metrics: ['start p50', 'start p95', 'start p99', 'result p50', 'result p95', 'result p99'].map(
      ms,
    ),
  },
  3: {
    title: `10-step durable workflow: ${plan.workflowRuns} runs with 10 in flight, and one run alone`,
    metrics: [
      { name: 'runs/s', unit: 'runs/s', better: 'higher' },
      { name: 'steps/s', unit: 'steps/s', better: 'higher' },
      ms('alone p50'),
    ],
  },
  4: { title: `1 → 100 → 1 fan-out/fan-in, ${plan.fanRuns} runs`, metrics: [ms('p50 per run')] },
  5: { title: "Windmill's shape: 40 sequential ~10 ms tasks in one run", metrics: [ms('total')] },
  6: {
    title: `scale: drain ${DRAIN_TASKS.toLocaleString('en')} tasks with 1, 2 and 4 worker processes`,
    metrics: [rate('1 worker'), rate('2 workers'), rate('4 workers')],
  },
};

interface Cell {
  summary: Summary;
  values: number[];
}
interface PeerResult {
  metrics: Record<string, Cell>;
  notes: string[];
  na?: string;
}
const results: Record<number, Record<string, PeerResult>> = {};

// ---------------------------------------------------------------------------------------------
// Children

interface Child {
  process: ChildProcess;
  next<T>(type: string): Promise<T>;
  on(type: string, fn: (message: Record<string, unknown>) => void): void;
  send(message: unknown): void;
  exited: Promise<void>;
}

const children = new Set<ChildProcess>();

function spawnChild(job: Job, env: Record<string, string> = {}): Child {
  const child = fork(CHILD, [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Restate's SDK logs two lines per invocation at its default level; it reads the level
    // once, at import.
    env: { RESTATE_LOGGING: 'WARN', ...process.env, ...env },
  });
  children.add(child);
  const exited = new Promise<void>((resolve) =>
    child.on('exit', () => {
      children.delete(child);
      resolve();
    }),
  );
  const waiting = new Map<string, ((m: never) => void)[]>();
  const listeners = new Map<string, (m: Record<string, unknown>) => void>();
  let failure: Error | null = null;
  const failed: ((e: Error) => void)[] = [];
  child.on('message', (m: { type: string; message?: string }) => {
    if (m.type === 'error') {
      failure = new Error(m.message);
      for (const f of failed) f(failure);
      return;
    }
    listeners.get(m.type)?.(m);
    const first = waiting.get(m.type)?.shift();
    if (first) first(m as never);
  });
  child.send(job);
  return {
    process: child,
    exited,
    on: (type, fn) => listeners.set(type, fn),
    send: (m) => {
      if (child.connected) child.send(m as never);
    },
    next: <T>(type: string) =>
      new Promise<T>((resolve, reject) => {
        if (failure) return reject(failure);
        const list = waiting.get(type) ?? [];
        list.push(resolve);
        waiting.set(type, list);
        failed.push(reject);
        void exited.then(() =>
          reject(failure ?? new Error(`${job.peer} ${job.role} exited before "${type}"`)),
        );
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Instances: a fresh database, Redis, Restate server or folder per measurement

let pgServer: PostgresServer | null = null;
let redis: RedisServer | string | null = null;
let instances = 0;

async function instance(peer: Peer): Promise<{ config: PeerConfig; done(): Promise<void> }> {
  const dir = tempDir(`weft-peers-${peer.id}-`);
  const config: PeerConfig = { dir, quick };
  const cleanups: (() => Promise<void>)[] = [async () => removeTempDir(dir)];
  if (peer.backend === 'postgres') {
    const name = `peers_${peer.id.replace(/\W/g, '_')}_${++instances}`;
    config.pgUrl = await pgServer!.database(name);
    cleanups.push(() => pgServer!.drop(name));
  }
  if (peer.backend === 'redis') {
    if (typeof redis !== 'object' || !redis) throw new Error('no Redis');
    await redis.flush();
    config.redisUrl = redis.url;
  }
  if (peer.backend === 'restate') {
    const server = await startRestate();
    config.restate = { ingress: server.ingress, admin: server.admin };
    cleanups.push(() => server.stop());
  }
  return {
    config,
    async done() {
      for (const c of cleanups.reverse()) await c();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Measurements

async function drain(
  peer: Peer,
  n: number,
  workers: number,
): Promise<{ enqueue: EnqueueResult; rate: number; note?: string }> {
  const inst = await instance(peer);
  const ws: Child[] = [];
  try {
    const enqueue = async () => {
      const child = spawnChild({ role: 'enqueue', peer: peer.id, config: inst.config, n });
      const result = await child.next<EnqueueResult>('enqueued');
      await child.exited;
      return { ...result, end: wallNow() };
    };
    let enqueued = peer.workersFirst ? null : await enqueue();
    for (let i = 0; i < workers; i++) {
      const config = { ...inst.config, workerIndex: i, workers };
      ws.push(spawnChild({ role: 'worker', peer: peer.id, config }));
    }
    await Promise.all(ws.map((w) => w.next('ready')));
    let count = 0;
    let last = 0;
    const finished = new Promise<void>((resolve) => {
      for (const w of ws) {
        w.on('progress', (m) => {
          count += m.count as number;
          last = Math.max(last, m.at as number);
          if (count >= n) resolve();
        });
      }
    });
    const t0 = wallNow();
    for (const w of ws) w.send({ type: 'start' });
    await Promise.all(ws.map((w) => w.next('started')));
    if (peer.workersFirst) enqueued = await enqueue();
    const limit = quick ? 120_000 : 600_000;
    // A worker that dies (a peer's own error) ends the drain as failed, not as a wait.
    const died = new Promise<never>((_, reject) => {
      for (const w of ws) {
        void w.exited.then(() =>
          reject(
            new Error(`a drain worker exited before the queue was drained (${count} of ${n})`),
          ),
        );
      }
    });
    died.catch(() => undefined);
    const timedOut = await Promise.race([
      finished.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), limit).unref()),
      died,
    ]);
    const begin = peer.workersFirst ? Math.max(enqueued!.dueAt ?? 0, enqueued!.end) : t0;
    let note: string | undefined;
    if (peer.workersFirst && enqueued!.end > (enqueued!.dueAt ?? 0))
      note = 'enqueueing outlasted the due time: the drain overlapped it';
    if (timedOut) {
      note = `did not finish within ${limit / 1000} s: ${count} of ${n} tasks`;
      return { enqueue: enqueued!, rate: (count * 1000) / (wallNow() - begin), note };
    }
    return {
      enqueue: enqueued!,
      rate: (n * 1000) / (last - begin),
      ...(note ? { note } : {}),
    };
  } finally {
    for (const w of ws) w.send({ type: 'stop' });
    const stopped = Promise.all(ws.map((w) => w.exited));
    const timer = setTimeout(() => ws.forEach((w) => w.process.kill('SIGKILL')), 15_000);
    await stopped;
    clearTimeout(timer);
    await inst.done();
  }
}

async function local(peer: Peer, workload: number): Promise<Measured> {
  const inst = await instance(peer);
  try {
    const child = spawnChild({
      role: 'local',
      peer: peer.id,
      config: inst.config,
      workload,
      plan,
    });
    // A peer that stops making progress (a lost wake-up, a stuck flow) fails this workload
    // instead of the whole benchmark.
    const limitMs = plan.budgetMs * (2 * plan.reps + 1) + 60_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        child.next<Measured>('measured'),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no result within ${Math.round(limitMs / 1000)} s`)),
            limitMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (child.process.exitCode === null) child.process.kill('SIGKILL');
      await child.exited;
    }
  } finally {
    await inst.done();
  }
}

function record(workload: number, peer: Peer, values: Record<string, number[]>, notes: string[]) {
  const metrics: Record<string, Cell> = {};
  for (const [name, list] of Object.entries(values)) {
    if (list.length) metrics[name] = { summary: summarize(list), values: list };
  }
  (results[workload] ??= {})[peer.id] = { metrics, notes };
}

async function measure(workload: number, peer: Peer): Promise<void> {
  const na = peer.notApplicable?.[String(workload)];
  if (na) {
    (results[workload] ??= {})[peer.id] = { metrics: {}, notes: [], na };
    return;
  }
  const notes: string[] = [];
  const values: Record<string, number[]> = {};
  const put = (name: string, v: number) => (values[name] ??= []).push(v);
  if (workload === 1 || workload === 6) {
    const counts = workload === 1 ? [1] : [1, 2, 4];
    for (const k of counts) {
      const name = workload === 1 ? 'drain' : k === 1 ? '1 worker' : `${k} workers`;
      const reason = peer.notApplicable?.[`6:${k}`];
      if (reason) {
        notes.push(`${name}: n/a, ${reason}`);
        continue;
      }
      if (workload === 6 && k === 1 && results[1]?.[peer.id]?.metrics.drain) {
        values[name] = results[1][peer.id]!.metrics.drain!.values;
        continue;
      }
      // The warm-up: a small drain, unmeasured (the first start of a library is slower).
      if (!quick) await drain(peer, Math.min(1000, DRAIN_TASKS), k);
      for (let r = 0; r < DRAIN_REPS; r++) {
        let result: Awaited<ReturnType<typeof drain>>;
        try {
          result = await drain(peer, DRAIN_TASKS, k);
        } catch (error) {
          // One failed repetition (a peer's own error) is noted; the others still count.
          const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
          notes.push(`${name} rep ${r + 1}: failed, ${message}`);
          continue;
        }
        put(name, result.rate);
        if (workload === 1) {
          put('enqueue', (DRAIN_TASKS * 1000) / result.enqueue.ms);
          if (r === 0) notes.push(`enqueue: ${result.enqueue.method}`);
        }
        if (result.note) notes.push(`${name} rep ${r + 1}: ${result.note}`);
      }
    }
  } else {
    const measured = await local(peer, workload);
    Object.assign(values, measured.values);
    notes.push(...measured.notes);
  }
  const shape = peer.shapes?.[String(workload) as '2'];
  if (shape) notes.unshift(shape);
  record(workload, peer, values, notes);
}

// ---------------------------------------------------------------------------------------------
// Output

const digits = (v: number) => (v >= 100 ? 0 : v >= 10 ? 1 : 2);
const num = (v: number) =>
  v.toLocaleString('en', { minimumFractionDigits: digits(v), maximumFractionDigits: digits(v) });
const cell = (c: Cell | undefined) =>
  !c
    ? '—'
    : c.summary.runs > 1
      ? `${num(c.summary.median)} (${num(c.summary.min)}–${num(c.summary.max)})`
      : num(c.summary.median);

/** "Weft 1.8× faster" or "peer 2.1× faster", from Weft's point of view. */
function ratio(metric: Metric, weft: Cell | undefined, peer: Cell | undefined): string {
  if (!weft || !peer) return '—';
  const w = weft.summary.median;
  const p = peer.summary.median;
  const factor = metric.better === 'higher' ? w / p : p / w;
  if (!Number.isFinite(factor) || factor <= 0) return '—';
  if (factor >= 1) return `Weft ${num(factor)}× faster`;
  return `**peer ${num(1 / factor)}× faster**`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(rows[0]!),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

function workloadMarkdown(workload: number): string {
  const w = WORKLOADS[workload]!;
  const byPeer = results[workload] ?? {};
  const shown = listed.filter((p) => byPeer[p.id]);
  const out: string[] = [`### ${workload}. ${w.title}`, ''];
  out.push(
    table([
      ['system', ...w.metrics.map((m) => (m.name === m.unit ? m.name : `${m.name} (${m.unit})`))],
      ...shown.map((p) => {
        const r = byPeer[p.id]!;
        if (r.na) return [p.label, ...w.metrics.map((_, i) => (i === 0 ? `n/a` : ''))];
        return [p.label, ...w.metrics.map((m) => cell(r.metrics[m.name]))];
      }),
    ]),
  );
  for (const weftId of [
    'weft-postgres',
    'weft-postgres-batched',
    'weft-sqlite',
    'weft-sqlite-batched',
  ]) {
    const weft = byPeer[weftId];
    const others = shown.filter((p) => !p.id.startsWith('weft-') && !byPeer[p.id]!.na);
    if (!weft || weft.na || !others.length) continue;
    const label = listed.find((p) => p.id === weftId)!.label;
    out.push('', `${label} against each peer (medians):`, '');
    out.push(
      table([
        ['peer', ...w.metrics.map((m) => m.name)],
        ...others.map((p) => [
          p.label,
          ...w.metrics.map((m) => ratio(m, weft.metrics[m.name], byPeer[p.id]!.metrics[m.name])),
        ]),
      ]),
    );
  }
  const notes = shown.flatMap((p) => {
    const r = byPeer[p.id]!;
    if (r.na) return [`- ${p.label}: n/a — ${r.na}`];
    return r.notes.map((n) => `- ${p.label}: ${n}`);
  });
  if (notes.length) out.push('', ...notes);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main

const log = (line: string) => console.log(line);
let interrupted = false;
const cleanup = () => {
  for (const child of children) child.kill('SIGKILL');
  killAll();
  removeTempDirs();
};
process.on('SIGINT', () => {
  interrupted = true;
  cleanup();
  process.exit(130);
});
process.on('SIGTERM', () => {
  interrupted = true;
  cleanup();
  process.exit(143);
});

const startedAt = new Date();
const load = { start: loadavg(), end: [] as number[] };
const machine = {
  cpus: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown'}`,
  memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
  os: `${process.platform} ${release()} ${process.arch}`,
  node: process.version,
};
log(`Peer benchmark${quick ? ' (--quick: smaller counts, one repetition)' : ''}`);
log(`machine: ${machine.cpus}, ${machine.memory}, ${machine.os}, Node ${machine.node}`);
log(`load average at start: ${load.start.map((x) => x.toFixed(2)).join(' ')}`);

const skipped: Record<string, string> = {};
try {
  if (peers.some((p) => p.backend === 'postgres')) {
    pgServer = await startPostgres();
    log(
      `Postgres ${pgServer.version} (${pgServer.source}): ${Object.entries(pgServer.settings)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
    );
  }
  if (peers.some((p) => p.backend === 'redis')) {
    redis = await startRedis(log);
    if (typeof redis === 'string') log(`Redis: unavailable (${redis}); its peers are skipped`);
    else log(`Redis ${redis.version} (${redis.url}): ${redis.settings.join(', ')}`);
  }
  for (const p of peers) {
    if (p.backend === 'redis' && typeof redis === 'string') skipped[p.id] = redis;
  }
  log('');
  for (const p of peers) {
    log(`${p.label} — ${p.version}${skipped[p.id] ? ` — SKIPPED: ${skipped[p.id]}` : ''}`);
    for (const s of p.settings) log(`  · ${s}`);
  }
  for (const workload of [1, 2, 3, 4, 5, 6].filter((w) => wantedWorkloads.has(w))) {
    log('');
    log(`== ${workload}. ${WORKLOADS[workload]!.title}`);
    for (const peer of peers) {
      if (skipped[peer.id]) continue;
      // A variant row (Weft with a batched journal) runs only the workloads it differs in.
      if (peer.workloads && !peer.workloads.includes(workload)) continue;
      const t0 = performance.now();
      try {
        await measure(workload, peer);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        (results[workload] ??= {})[peer.id] = {
          metrics: {},
          notes: [],
          na: `failed: ${message.split('\n')[0]}`,
        };
        log(`  ${peer.label}: FAILED\n${message}`);
        continue;
      }
      const r = results[workload]![peer.id]!;
      const figures = r.na
        ? `n/a (${r.na})`
        : WORKLOADS[workload]!.metrics.filter((m) => r.metrics[m.name])
            .map((m) => `${m.name} ${cell(r.metrics[m.name])} ${m.unit}`)
            .join(', ');
      log(`  ${peer.label}: ${figures}  [${((performance.now() - t0) / 1000).toFixed(0)} s]`);
    }
    log('');
    log(workloadMarkdown(workload));
  }
} finally {
  load.end = loadavg();
  if (pgServer) await pgServer.stop();
  if (redis && typeof redis === 'object') await redis.stop();
  if (!interrupted) {
    const left = startedPids();
    if (left.length) log(`still running (stopping): ${left.join(', ')}`);
    killAll();
  }
}

log(`load average at end: ${load.end.map((x) => x.toFixed(2)).join(' ')}`);

interface RunInfo {
  date: string;
  flags: string[];
  load: { start: number[]; end: number[] };
}
/** This run, then (with `--merge`) the earlier runs whose figures are kept. */
const runs: RunInfo[] = [{ date: startedAt.toISOString(), flags: argv, load }];
interface ServerInfo {
  version: string;
  source: string;
  settings: Record<string, string>;
}
interface RedisInfo {
  version: string;
  settings: string[];
}
let postgresInfo: ServerInfo | null = pgServer
  ? { version: pgServer.version, source: pgServer.source, settings: pgServer.settings }
  : null;
let redisInfo: RedisInfo | string | null =
  redis && typeof redis === 'object' ? { version: redis.version, settings: redis.settings } : redis;
let merged = '';
if (merge && existsSync(join(RESULTS, 'peers.json'))) {
  const old = JSON.parse(readFileSync(join(RESULTS, 'peers.json'), 'utf8')) as RunInfo & {
    runs?: RunInfo[];
    postgres: ServerInfo | null;
    redis: RedisInfo | string | null;
    workloads: Record<string, { byPeer: Record<string, PeerResult> }>;
  };
  runs.push(...(old.runs ?? [{ date: old.date, flags: old.flags, load: old.load }]));
  // The servers the kept figures were measured on, when this run started none.
  postgresInfo ??= old.postgres;
  redisInfo ??= old.redis;
  for (const [w, { byPeer }] of Object.entries(old.workloads)) {
    for (const [id, result] of Object.entries(byPeer)) {
      if (!results[Number(w)]?.[id]) (results[Number(w)] ??= {})[id] = result;
    }
  }
  listed = allPeers.filter((p) => Object.values(results).some((byPeer) => byPeer[p.id]));
  const described = runs
    .slice(1)
    .map(
      (r) =>
        `${r.date.slice(0, 16).replace('T', ' ')} UTC (\`${['npm run bench:peers', ...(r.flags.length ? ['--', ...r.flags] : [])].join(' ')}\`, ` +
        `load average ${r.load.start.map((x) => x.toFixed(1)).join(' ')} at start)`,
    );
  merged = `Figures not measured by this run are kept from earlier runs: ${described.join('; ')}.`;
}

const header = [
  `Measured ${startedAt.toISOString().slice(0, 10)} with \`npm run bench:peers${argv.length ? ` -- ${argv.join(' ')}` : ''}\`` +
    ` on ${machine.cpus}, ${machine.memory}, ${machine.os}, Node ${machine.node}` +
    ` (load average ${load.start.map((x) => x.toFixed(1)).join(' ')} at start, ${load.end.map((x) => x.toFixed(1)).join(' ')} at end).`,
  postgresInfo
    ? `Postgres ${postgresInfo.version} (${postgresInfo.source.replace(/ \(pid \d+\)/, '')}), ` +
      `${Object.entries(postgresInfo.settings)
        .map(([k, v]) => `\`${k}=${v}\``)
        .join(', ')}: every commit waits for the disk. Each system gets a fresh database.`
    : '',
  redisInfo && typeof redisInfo === 'object'
    ? `Redis ${redisInfo.version} (BullMQ): ${redisInfo.settings.join(', ')}: Redis acknowledges a write before it reaches the disk.`
    : '',
  merged,
  `Figures are medians of ${quick ? 1 : DRAIN_REPS} repetition(s) after a warm-up${quick ? '' : ', min–max in brackets'}; ` +
    `"faster" compares medians.`,
]
  .filter(Boolean)
  .join('\n');
const settings = listed
  .map(
    (p) =>
      `- **${p.label}** (${p.version})${skipped[p.id] ? ` — skipped: ${skipped[p.id]}` : ''}: ${p.settings.join('; ')}.`,
  )
  .join('\n');
const markdown = [
  '## Weft and its peers (`bench/peers`)',
  '',
  header,
  '',
  settings,
  '',
  ...[1, 2, 3, 4, 5, 6].filter((w) => results[w]).flatMap((w) => [workloadMarkdown(w), '']),
].join('\n');

mkdirSync(RESULTS, { recursive: true });
writeFileSync(join(RESULTS, 'peers.md'), markdown);
writeFileSync(
  join(RESULTS, 'peers.json'),
  JSON.stringify(
    {
      date: startedAt.toISOString(),
      quick,
      flags: argv,
      runs,
      machine,
      load,
      postgres: postgresInfo,
      redis: redisInfo,
      peers: listed.map((p) => ({
        id: p.id,
        label: p.label,
        version: p.version,
        backend: p.backend,
        settings: p.settings,
        skipped: skipped[p.id] ?? null,
      })),
      workloads: Object.fromEntries(
        Object.entries(results).map(([w, byPeer]) => [
          w,
          { title: WORKLOADS[Number(w)]!.title, metrics: WORKLOADS[Number(w)]!.metrics, byPeer },
        ]),
      ),
    },
    null,
    2,
  ),
);
log(`\nwrote bench/results/peers.json and bench/results/peers.md`);
process.exit(0);
