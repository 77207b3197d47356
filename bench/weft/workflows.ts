/**
 * Durable workflows, embedded (SQLite):
 * - a 3-step workflow, start to result, one run at a time: p50/p95 latency;
 * - per-step overhead of a durable no-op step, early in a run and late in a 1,000-step run
 *   (a warm run never replays its history, so both should be about the same).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/index.js';
import { workflow } from '../../src/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { summarize, type Summary } from './stats.js';

export interface WorkflowBench {
  threeStep: { p50: number; p95: number; runs: number };
  perStep: { first10Us: Summary; last10Us: Summary; allUs: Summary; steps: number };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function workflowBenchmarks(runs: number, steps: number): Promise<WorkflowBench> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-wf-'));
  const three = workflow('three', {}, async (ctx) => {
    const a = await ctx.step('a', () => 1);
    const b = await ctx.step('b', () => a + 1);
    return ctx.step('c', () => b + 1);
  });
  let timings: number[] = [];
  const long = workflow('long', {}, async (ctx) => {
    timings = [];
    for (let i = 0; i < steps; i++) {
      const t = process.hrtime.bigint();
      await ctx.step(`s${i}`, () => i);
      timings.push(Number(process.hrtime.bigint() - t) / 1000);
    }
    return timings.length;
  });
  const store = SqliteStore.open(join(dir, 'bench.db'));
  const engine = new Engine({ store, definitions: [three, long], captureConsole: false });
  await engine.start();
  try {
    for (let i = 0; i < 20; i++) await engine.wait((await engine.submit(three)).id); // warm-up
    const latencies: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = process.hrtime.bigint();
      const run = await engine.submit(three);
      await engine.wait(run.id);
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    latencies.sort((a, b) => a - b);
    await engine.wait((await engine.submit(long)).id); // warm-up
    const first: number[] = [];
    const last: number[] = [];
    const all: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const run = await engine.submit(long);
      await engine.wait(run.id);
      first.push(summarize(timings.slice(0, 10)).median);
      last.push(summarize(timings.slice(-10)).median);
      all.push(summarize(timings).median);
    }
    return {
      threeStep: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), runs },
      perStep: {
        first10Us: summarize(first),
        last10Us: summarize(last),
        allUs: summarize(all),
        steps,
      },
    };
  } finally {
    await engine.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
