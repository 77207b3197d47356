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
