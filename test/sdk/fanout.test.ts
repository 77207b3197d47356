import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock, RunFailedError, map, node, pipeline, task } from '../../src/index.js';
import { drive, recorder } from '../support/run-helpers.js';

describe('fan-out', () => {
  it('runs each item as its own step and keeps the input order', async () => {
    const clock = new ManualClock();
    const finished: number[] = [];
    const rec = recorder();
    const p = pipeline(
      'ordered',
      {
        items: ({ n }: { n: number }) => Array.from({ length: n }, (_, i) => i),
        // Later items finish first; the result must still be in item order.
        squares: map('items', async (i: number, { n }: { n: number }, { signal }) => {
          await clock.sleep((n - i) * 10, signal);
          finished.push(i);
          return i * i;
        }),
        total: ({ squares }: { squares: number[] }) => squares.reduce((a, b) => a + b, 0),
      },
      { params: z.object({ n: z.number() }) },
    );
    const out = await drive(clock, p.run({ n: 5 }, { clock, onEvent: rec.onEvent }), {
      stepMs: 5,
    });
    expect(finished).toEqual([4, 3, 2, 1, 0]);
    expect(out.squares).toEqual([0, 1, 4, 9, 16]);
    expect(out.total).toBe(30);
    for (let i = 0; i < 5; i++)
      expect(rec.statuses(`squares[${i}]`)).toEqual(['running', 'succeeded']);
    expect(rec.statuses('squares')).toEqual([]);
  });

  it('passes the map its other dependencies', async () => {
    const p = pipeline(
      'deps',
      {
        words: () => ['a', 'bb'],
        tagged: map('words', (w: string, { prefix }: { prefix: string }) => `${prefix}${w}`),
      },
      { params: z.object({ prefix: z.string() }) },
    );
    await expect(p.run({ prefix: '#' })).resolves.toMatchObject({ tagged: ['#a', '#bb'] });
  });

  it('maps over a param list', async () => {
    const p = pipeline(
      'over-param',
      { lengths: map('names', (s: string) => s.length) },
      { params: z.object({ names: z.array(z.string()) }) },
    );
    await expect(p.run({ names: ['ann', 'bo'] })).resolves.toEqual({ lengths: [3, 2] });
  });

  it('retries each item on its own', async () => {
    const clock = new ManualClock();
    const calls = new Map<number, number>();
    const rec = recorder();
    const p = pipeline('per-item', {
      items: () => [10, 11, 12, 13],
      checked: map(
        'items',
        (x: number) => {
          const n = (calls.get(x) ?? 0) + 1;
          calls.set(x, n);
          if (x % 2 === 1 && n < 3) throw new Error(`item ${x} attempt ${n}`);
          return x * 10;
        },
        { retries: { retries: 2, initialDelay: '1s', jitter: 0 }, deps: [] },
      ),
    });
    const out = await drive(clock, p.run({}, { clock, onEvent: rec.onEvent }), { stepMs: 100 });
    expect(out.checked).toEqual([100, 110, 120, 130]);
    expect(Object.fromEntries(calls)).toEqual({ 10: 1, 11: 3, 12: 1, 13: 3 });
    expect(rec.attempts('checked[1]')).toBe(3);
    expect(rec.attempts('checked[2]')).toBe(1);
  });

  it('fails the map when an item fails for good, lets the other items finish, skips downstream', async () => {
    const rec = recorder();
    const done: number[] = [];
    const p = pipeline('item-fails', {
      items: () => [1, 2, 3],
      parsed: map(
        'items',
        async (x: number) => {
          if (x === 2) throw new Error('bad item 2');
          done.push(x);
          return x;
        },
        { deps: [] },
      ),
      sum: ({ parsed }: { parsed: number[] }) => parsed.length,
    });
    const error = (await p
      .run({}, { onEvent: rec.onEvent })
      .catch((e: unknown) => e)) as RunFailedError;
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.failed.map((f) => f.step)).toEqual(['parsed[1]']);
    expect(done.sort()).toEqual([1, 3]);
    expect(rec.final()).toMatchObject({
      'parsed[0]': 'succeeded',
      'parsed[1]': 'failed',
      'parsed[2]': 'succeeded',
      sum: 'skipped',
    });
  });

  it('handles an empty list: no item steps, an empty result, downstream runs', async () => {
    const rec = recorder();
    let itemCalls = 0;
    const p = pipeline('empty', {
      items: (): number[] => [],
      doubled: map('items', (x: number) => (itemCalls++, x * 2)),
      count: ({ doubled }: { doubled: number[] }) => doubled.length,
    });
    await expect(p.run({}, { onEvent: rec.onEvent })).resolves.toEqual({
      items: [],
      doubled: [],
      count: 0,
    });
    expect(itemCalls).toBe(0);
    expect(rec.statuses('doubled')).toEqual(['succeeded']);
    expect(rec.steps().some((e) => e.step.startsWith('doubled['))).toBe(false);
  });

  it('maps over any iterable (a Set) at runtime', async () => {
    const p = pipeline('iterable', {
      tags: () => new Set(['x', 'y']),
      // @ts-expect-error -- the compiler asks for an array; the runtime accepts any iterable
      upper: map('tags', (t: string) => t.toUpperCase()),
    });
    await expect(p.run()).resolves.toMatchObject({ upper: ['X', 'Y'] });
  });

  it('fails the map with a clear error when its list is not a list', async () => {
    const p = pipeline('not-a-list', {
      count: () => 3,
      each: map('count', (x: never) => x),
    });
    const error = (await p.run().catch((e: unknown) => e)) as RunFailedError;
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.failed[0]?.step).toBe('each');
    expect(error.failed[0]?.error.message).toContain('map "each": "count" is number, not a list');
  });

  it('nests with each: a list of lists, one step per inner item', async () => {
    const rec = recorder();
    const p = pipeline('nested', {
      regions: () => [
        { name: 'eu', stores: ['paris', 'rome'] },
        { name: 'us', stores: [] as string[] },
        { name: 'apac', stores: ['tokyo'] },
      ],
      perStore: map('regions', (store: string) => store.toUpperCase(), {
        each: (r: { name: string; stores: string[] }) => r.stores,
      }),
      counts: ({ perStore }: { perStore: string[][] }) => perStore.map((s) => s.length),
    });
    const out = await p.run({}, { onEvent: rec.onEvent });
    expect(out.perStore).toEqual([['PARIS', 'ROME'], [], ['TOKYO']]);
    expect(out.counts).toEqual([2, 0, 1]);
    const keys = rec
      .steps()
      .filter((e) => e.node === 'perStore' && e.status === 'succeeded')
      .map((e) => e.step);
    expect(keys).toEqual(['perStore[0][0]', 'perStore[0][1]', 'perStore[2][0]']);
  });

  it('nests with mapEach in the explicit builder, empty inner lists included', async () => {
    const p = pipeline(
      'nested-explicit',
      { params: z.object({ sizes: z.array(z.number()) }) },
      (b) => {
        const groups = b.node('groups', { sizes: b.params.sizes }, ({ sizes }) =>
          sizes.map((n, g) => Array.from({ length: n }, (_, i) => `${g}.${i}`)),
        );
        const labelled = b.mapEach(
          'labelled',
          groups,
          (g) => g,
          { suffix: b.params.sizes },
          async (item, { suffix }) => `${item}/${suffix.length}`,
        );
        return { labelled };
      },
    );
    await expect(p.run({ sizes: [2, 0, 1] })).resolves.toMatchObject({
      labelled: [['0.0/3', '0.1/3'], [], ['2.0/3']],
    });
    await expect(p.run({ sizes: [0, 0] })).resolves.toMatchObject({ labelled: [[], []] });
  });

  it('runs a task per item with its own context (signal, attempt, step)', async () => {
    const clock = new ManualClock();
    const seen: { item: number; attempt: number; step: string | null; aborted: boolean }[] = [];
    const check = task(
      'check',
      { retries: { retries: 1, initialDelay: 10, jitter: 0 } },
      (item: number, ctx) => {
        seen.push({ item, attempt: ctx.attempt, step: ctx.step, aborted: ctx.signal.aborted });
        if (item === 1 && ctx.attempt === 1) throw new Error('first try fails');
        return item + 100;
      },
    );
    const p = pipeline('task-map', {}, (b) => {
      const items = b.node('items', {}, () => [0, 1]);
      const checked = b.map('checked', items, {}, check);
      return { checked };
    });
    const out = await drive(clock, p.run({}, { clock }), { stepMs: 5 });
    expect(out.checked).toEqual([100, 101]);
    expect(seen).toEqual([
      { item: 0, attempt: 1, step: 'checked[0]', aborted: false },
      { item: 1, attempt: 1, step: 'checked[1]', aborted: false },
      { item: 1, attempt: 2, step: 'checked[1]', aborted: false },
    ]);
  });

  it('runs a task per item in a Hamilton-style map, under the task policy', async () => {
    const clock = new ManualClock();
    const steps: (string | null)[] = [];
    let calls = 0;
    const fetchPage = task(
      'fetch-page',
      { retries: { retries: 2, initialDelay: 10, jitter: 0 } },
      async (page: number, ctx) => {
        calls++;
        steps.push(ctx.step);
        if (page === 2 && ctx.attempt < 3) throw new Error('503');
        return `page ${page}`;
      },
    );
    const p = pipeline('hamilton-task-map', {
      pages: () => [1, 2],
      fetched: map('pages', fetchPage),
    });
    expect(p.spec.nodes.get('fetched')).toMatchObject({ task: 'fetch-page', inputs: [] });
    const out = await drive(clock, p.run({}, { clock }), { stepMs: 5 });
    expect(out.fetched).toEqual(['page 1', 'page 2']);
    expect(calls).toBe(4);
    expect(steps).toEqual(['fetched[0]', 'fetched[1]', 'fetched[1]', 'fetched[1]']);
  });

  it('gives a configured map node the same item context', async () => {
    const steps: (string | null)[] = [];
    const p = pipeline('ctx', {
      items: () => ['a', 'b'],
      out: map('items', (x: string, _deps: object, ctx) => (steps.push(ctx.step), x), { deps: [] }),
      after: node({ deps: ['out'] }, (d: { out: string[] }) => d.out.join('')),
    });
    await expect(p.run()).resolves.toMatchObject({ after: 'ab' });
    expect(steps).toEqual(['out[0]', 'out[1]']);
  });
});
