import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { DefinitionError, map, node, pipeline, task } from '../../src/index.js';

interface Order {
  id: number;
  region: string;
  amount: number;
}

describe('Hamilton-style wiring is checked by the compiler', () => {
  const params = z.object({ day: z.string() });
  const nodes = {
    orders: ({ day }: { day: string }): Order[] => [{ id: 1, region: day, amount: 2 }],
    total: ({ orders }: { orders: Order[] }) => orders.reduce((s, o) => s + o.amount, 0),
    label: async ({ total, day }: { total: number; day: string }) => `${day}: ${total}`,
  };

  it('infers outputs and params', async () => {
    const p = pipeline('daily', nodes, { params });
    await expect(p.run({ day: 'mon' })).resolves.toMatchObject({ total: 2, label: 'mon: 2' });
    expectTypeOf<Parameters<typeof p.run>[0]>().toEqualTypeOf<{ day: string }>();
    expectTypeOf<Awaited<ReturnType<typeof p.run<'label'>>>>().toEqualTypeOf<{ label: string }>();
    expectTypeOf<Awaited<ReturnType<typeof p.run>>>().toEqualTypeOf<{
      orders: Order[];
      total: number;
      label: string;
    }>();
  });

  it('rejects an unknown dependency', () => {
    // Rejected at load time too (the runtime check names the node).
    expect(() =>
      pipeline(
        'bad',
        // @ts-expect-error -- "ordrs" is no node or param
        { ...nodes, broken: ({ ordrs }: { ordrs: Order[] }) => ordrs.length },
        { params },
      ),
    ).toThrow(DefinitionError);
  });

  it('rejects a dependency of the wrong type', () => {
    pipeline(
      'bad',
      // @ts-expect-error -- total is a number, not a string
      { ...nodes, broken: ({ total }: { total: string }) => total.length },
      { params },
    );
  });

  it('rejects a missing param', () => {
    expect(() =>
      // @ts-expect-error -- day is not a param when no schema is given
      pipeline('bad', nodes),
    ).toThrow(DefinitionError);
  });

  it('accepts tasks, configured nodes and maps', () => {
    const load = task('load', { retries: 2 }, ({ day }: { day: string }) => [day]);
    const p = pipeline(
      'mixed',
      {
        days: load,
        upper: node({ retries: 1 }, ({ days }: { days: string[] }) =>
          days.map((d) => d.toUpperCase()),
        ),
        lengths: map('upper', (d: string, { day }: { day: string }) => d.length + day.length),
        chars: map('upper', (c: string) => c, { each: (d: string) => d.split('') }),
      },
      { params },
    );
    expectTypeOf<Awaited<ReturnType<typeof p.run>>>().toEqualTypeOf<{
      days: string[];
      upper: string[];
      lengths: number[];
      chars: string[][];
    }>();
    expect([...p.spec.nodes.keys()]).toEqual(['days', 'upper', 'lengths', 'chars']);
  });

  it('rejects a map over a list of the wrong item type', () => {
    pipeline(
      'bad',
      // @ts-expect-error -- upper is string[], the map expects numbers
      { upper: () => ['a'], doubled: map('upper', (n: number) => n * 2) },
    );
  });
});

describe('explicit references are checked by the compiler', () => {
  it('infers from references', async () => {
    const p = pipeline('explicit', { params: z.object({ n: z.number() }) }, (b) => {
      const nums = b.node('nums', { n: b.params.n }, ({ n }) =>
        Array.from({ length: n }, (_, i) => i),
      );
      const squares = b.map('squares', nums, {}, (x) => x * x);
      const total = b.node('total', { squares }, async ({ squares }) =>
        squares.reduce((a, x) => a + x, 0),
      );
      return { total, squares };
    });
    await expect(p.run({ n: 3 })).resolves.toMatchObject({ total: 5, squares: [0, 1, 4] });
    expectTypeOf<Parameters<typeof p.run>[0]>().toEqualTypeOf<{ n: number }>();
    expectTypeOf<Awaited<ReturnType<typeof p.run>>>().toEqualTypeOf<{
      total: number;
      squares: number[];
    }>();
  });

  it('rejects a mistyped reference', () => {
    pipeline('explicit', {}, (b) => {
      const nums = b.node('nums', {}, () => [1, 2]);
      // @ts-expect-error -- nums is number[], not string
      const bad = b.node('bad', { nums }, ({ nums }: { nums: string }) => nums);
      return { bad };
    });
  });

  it('rejects an unknown param reference', () => {
    expect(() =>
      pipeline('explicit', { params: z.object({ n: z.number() }) }, (b) => {
        // @ts-expect-error -- there is no param "m"
        const x = b.node('x', { m: b.params.m }, () => 0);
        return { x };
      }),
    ).toThrow(DefinitionError);
  });
});
