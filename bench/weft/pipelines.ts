/**
 * Pipeline overhead per node, for no-op nodes:
 * - in-process, against calling the same functions directly (10,000-node chain, 10,000-wide fan-out);
 * - embedded durable on SQLite (every node's result committed), same shapes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/index.js';
import { pipeline, type TaskContext } from '../../src/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { measure, summarize, type Summary } from './stats.js';

type Step = (deps: { prev: number }) => number;

function chainFns(n: number): Step[] {
  return Array.from(
    { length: n },
    () =>
      ({ prev }: { prev: number }) =>
        prev + 1,
  );
}

function chainPipeline(name: string, fns: Step[]) {
  return pipeline(name, {}, (p) => {
    let prev = p.node('n0', {}, () => 0);
    for (let i = 0; i < fns.length - 1; i++) prev = p.node(`n${i + 1}`, { prev }, fns[i]!);
    return { last: prev };
  });
}

function fanOutPipeline(name: string, width: number, fn: (x: number) => number) {
  return pipeline(name, {}, (p) => {
    const items = p.node('items', {}, () => Array.from({ length: width }, (_, i) => i));
    const out = p.map('out', items, {}, fn);
    return { out };
  });
}

export interface PipelineBench {
  name: string;
  nodes: number;
  direct: Summary;
  weft: Summary;
  /** Median overhead per node, µs. */
  perNodeUs: number;
}

export async function inProcessBenchmarks(n: number, reps: number): Promise<PipelineBench[]> {
  const fns = chainFns(n);
  const chain = chainPipeline('bench-chain', fns);
  const ctx = {} as TaskContext;
  const directChain = () => {
    let v = 0;
    for (let i = 0; i < n - 1; i++) v = fns[i]!({ prev: v });
    return v;
  };
  const itemFn = (x: number) => x + 1;
  const fan = fanOutPipeline('bench-fan', n, itemFn);
  const list = Array.from({ length: n }, (_, i) => i);
  const directFan = () =>
    list.map((x) => (itemFn as (x: number, d: object, c: TaskContext) => number)(x, {}, ctx));

  const results: PipelineBench[] = [];
  for (const [name, run, direct, nodes] of [
    [
      'in-process chain',
      () => chain.run(undefined, { outputs: ['n' + (n - 1)] as never }),
      directChain,
      n,
    ],
    ['in-process fan-out', () => fan.run(), directFan, n + 1],
  ] as const) {
    const d = summarize(await measure(direct, reps, 3));
    const w = summarize(await measure(run, reps, 2));
    results.push({
      name,
      nodes,
      direct: d,
      weft: w,
      perNodeUs: ((w.median - d.median) * 1000) / nodes,
    });
  }
  return results;
}

export async function durableBenchmarks(n: number, reps: number): Promise<PipelineBench[]> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
  const chain = chainPipeline('bench-chain', chainFns(n));
  const fan = fanOutPipeline('bench-fan', n, (x) => x + 1);
  const store = SqliteStore.open(join(dir, 'bench.db'));
  await store.migrate();
  const engine = new Engine({ store, definitions: [chain, fan], captureConsole: false });
  await engine.start();
  const results: PipelineBench[] = [];
  try {
    for (const [name, target, nodes] of [
      ['durable chain (SQLite)', chain, n],
      ['durable fan-out (SQLite)', fan, n + 1],
    ] as const) {
      const w = summarize(
        await measure(
          async () => {
            const run = await engine.submit(target);
            const done = await engine.wait(run.id);
            if (done.status !== 'succeeded') throw new Error(`${name}: run ${done.status}`);
          },
          reps,
          1,
        ),
      );
      const zero = { median: 0, min: 0, max: 0, runs: 0 };
      results.push({ name, nodes, direct: zero, weft: w, perNodeUs: (w.median * 1000) / nodes });
    }
  } finally {
    await engine.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
