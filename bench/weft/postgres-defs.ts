/**
 * The pipelines and workflows of the Postgres benchmarks, shared by the bench process and its
 * worker processes (`postgres-worker.ts`), which must register the same definitions.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pipeline, workflow, type Ref, type WorkflowContext } from '../../src/index.js';

/** Wall-clock time in ms with sub-millisecond precision, comparable across processes. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/** One node that returns the time it started: a single task. */
export const single = pipeline('pg-single', {}, (p) => ({
  started: p.node('work', {}, () => wallNow()),
}));

/** One no-op node: the drain benchmark's task. */
export const noop = pipeline('pg-noop', {}, (p) => ({ done: p.node('work', {}, () => 0) }));

const tenNoOps = async (ctx: WorkflowContext): Promise<number> => {
  let total = 0;
  for (let i = 0; i < 10; i++) total += await ctx.step(`s${i}`, () => i);
  return total;
};
/** A durable workflow of 10 no-op steps, each result committed before the next step. */
export const tenSteps = workflow('pg-ten-steps', {}, tenNoOps);
/** The same with a batched journal: results commit behind the steps, together. */
export const tenStepsBatched = workflow('pg-ten-steps-batched', { journal: 'batched' }, tenNoOps);

/** 1 root → 100 parallel → 1 join, the 100 as a fan-out (a map over 100 items). */
export const fanMap = pipeline('pg-fan-map', {}, (p) => {
  const root = p.node('root', {}, () => Array.from({ length: 100 }, (_, i) => i));
  const items = p.map('items', root, {}, (x: number) => x + 1);
  return { join: p.node('join', { items }, ({ items }) => items.length) };
});

/** 1 root → 100 parallel → 1 join, the 100 as 100 nodes of the graph. */
export const fanNodes = pipeline('pg-fan-nodes', {}, (p) => {
  const root = p.node('root', {}, () => 1);
  const deps: Record<string, Ref<number>> = {};
  for (let i = 0; i < 100; i++) deps[`b${i}`] = p.node(`b${i}`, { root }, ({ root }) => root + i);
  return { join: p.node('join', deps, (d) => Object.keys(d).length) };
});

/** Windmill's shape: 40 sequential tasks of ~10 ms each. */
export const seq40 = pipeline('pg-seq40', {}, (p) => {
  let prev: Ref<number> = p.node('t0', {}, async () => {
    await sleep(10);
    return 0;
  });
  for (let i = 1; i < 40; i++) {
    prev = p.node(`t${i}`, { prev }, async ({ prev }) => {
      await sleep(10);
      return prev + 1;
    });
  }
  return { last: prev };
});

export const definitions = [single, noop, tenSteps, tenStepsBatched, fanMap, fanNodes, seq40];
