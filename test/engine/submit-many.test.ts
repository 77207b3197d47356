/**
 * Submitting in bulk (`engine.submitMany`): every item checked before anything is stored, one
 * store transaction for all, idempotency keys honoured within the batch and across batches,
 * and the runs executed like any others.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InputError } from '../../src/core/errors.js';
import { pipeline, workflow } from '../../src/index.js';
import { engineScope } from './helpers.js';

const scope = engineScope();
afterEach(() => scope.closeAll());

const double = pipeline(
  'double',
  {
    twice: ({ n }: { n: number }) => n * 2,
    plus: ({ twice }: { twice: number }) => twice + 1,
  },
  { params: z.object({ n: z.number().int() }) },
);

const greet = workflow('greet', { input: z.object({ name: z.string() }) }, async (ctx, { name }) =>
  ctx.step('hello', () => `hello ${name}`),
);

describe('engine.submitMany', () => {
  it('creates every run in one call and runs them all', async () => {
    const { engine, store } = await scope.engineFor({
      definitions: [double, greet],
      captureConsole: false,
    });
    const items = Array.from({ length: 50 }, (_, n) => ({ params: { n }, tags: ['bulk'] }));
    const results = await engine.submitMany(double, items);
    expect(results).toHaveLength(50);
    expect(results.every((r) => r.created && r.run.definition === 'double')).toBe(true);
    for (const [n, { run }] of results.entries()) {
      await engine.wait(run.id);
      expect(await engine.outputs(run.id)).toEqual({ twice: n * 2, plus: n * 2 + 1 });
    }
    expect((await store.listRuns({ search: 'bulk' })).length).toBe(50);
    const flows = await engine.submitMany('greet', [
      { params: { name: 'ada' } },
      { params: { name: 'bo' } },
    ]);
    for (const { run } of flows) await engine.wait(run.id);
    expect(await engine.result(flows[1]!.run.id)).toBe('hello bo');
  });

  it('checks every item first: one bad item stores nothing', async () => {
    const { engine, store } = await scope.engineFor({
      definitions: [double],
      worker: false,
      captureConsole: false,
    });
    await expect(
      engine.submitMany(double, [{ params: { n: 1 } }, { params: { n: 'two' } }]),
    ).rejects.toBeInstanceOf(InputError);
    expect(await store.listRuns()).toEqual([]);
  });

  it("plans steps per priority and outputs, and checks each item's params", async () => {
    // A worker: it registers the definition (its runs may start meanwhile; their steps stay).
    const { engine, store } = await scope.engineFor({
      definitions: [double],
      captureConsole: false,
    });
    // A client without the code plans from what the first engine registered.
    const { engine: client } = await scope.engineFor({
      store,
      definitions: [],
      worker: false,
      captureConsole: false,
    });
    for (const submitter of [engine, client]) {
      const results = await submitter.submitMany('double', [
        { params: { n: 1 } },
        { params: { n: 2 }, outputs: ['twice'] },
        { params: { n: 3 }, priority: 5 },
        { params: { n: 4 }, outputs: ['plus'] },
        { params: { n: 5 } },
        { params: { n: 6 }, outputs: ['twice'], priority: 5 },
      ]);
      const steps = await Promise.all(results.map(({ run }) => store.listSteps(run.id)));
      const shape = steps.map((list) => list.map((s) => `${s.key}@${s.priority}`).sort());
      expect(shape).toEqual([
        ['plus@0', 'twice@0'],
        ['twice@0'],
        ['plus@5', 'twice@5'],
        ['plus@0', 'twice@0'],
        ['plus@0', 'twice@0'],
        ['twice@5'],
      ]);
      expect(results.map(({ run }) => JSON.parse(run.input) as unknown)).toEqual(
        [1, 2, 3, 4, 5, 6].map((n) => ({ n })),
      );
      // An item after the first with the same plan is still checked.
      await expect(
        submitter.submitMany('double', [{ params: { n: 7 } }, { params: { n: 8.5 } }]),
      ).rejects.toThrow(/double: invalid params/);
    }
    expect(await store.listRuns()).toHaveLength(12);
  });

  it('honours idempotency keys within a batch and across batches', async () => {
    const { engine } = await scope.engineFor({
      definitions: [double],
      worker: false,
      captureConsole: false,
    });
    const first = await engine.submitMany(double, [
      { params: { n: 1 }, idempotencyKey: 'a' },
      { params: { n: 2 }, idempotencyKey: 'a' },
    ]);
    expect(first.map((r) => r.created)).toEqual([true, false]);
    expect(first[1]!.run.id).toBe(first[0]!.run.id);
    const again = await engine.submitMany(double, [
      { params: { n: 3 }, idempotencyKey: 'a' },
      { params: { n: 4 }, idempotencyKey: 'b' },
    ]);
    expect(again.map((r) => r.created)).toEqual([false, true]);
    expect(again[0]!.run.id).toBe(first[0]!.run.id);
    expect(await engine.submitMany(double, [])).toEqual([]);
  });
});
