import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, DefinitionError, map, pipeline, task, type Ref } from '../../src/index.js';

/** Runs `build` and returns the error it throws, failing the test when it throws nothing. */
function thrown<E extends Error>(build: () => unknown, type: new (...args: never[]) => E): E {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error(`expected ${type.name}, nothing was thrown`);
}

// Hamilton-style modules built from loosely typed functions: these tests feed the runtime checks
// definitions the compiler would (rightly) reject.
type Loose = Record<string, (deps: never) => unknown>;
const loose = (nodes: Loose) => nodes as Record<string, () => unknown>;

describe('load-time validation', () => {
  it('rejects a cycle and shows it, arrow by arrow', () => {
    const error = thrown(
      () =>
        pipeline(
          'cyclic',
          loose({
            a: ({ b }: { b: number }) => b,
            b: ({ c }: { c: number }) => c,
            c: ({ a }: { a: number }) => a,
          }),
        ),
      DefinitionError,
    );
    expect(error.code).toBe('cycle');
    expect(error.message).toContain('a → b → c → a');
    expect(error.nodes).toEqual(['a', 'b', 'c']);
    expect(error.definition).toBe('cyclic');
  });

  it('finds a cycle that does not start at the first node', () => {
    const error = thrown(
      () =>
        pipeline(
          'cyclic',
          loose({
            source: () => 1,
            x: ({ source, z }: { source: number; z: number }) => source + z,
            y: ({ x }: { x: number }) => x,
            z: ({ y }: { y: number }) => y,
          }),
        ),
      DefinitionError,
    );
    expect(error.message).toContain('x → z → y → x');
    expect(error.nodes).not.toContain('source');
  });

  it('rejects a node that depends on itself', () => {
    const error = thrown(
      () => pipeline('selfish', loose({ a: ({ a }: { a: number }) => a })),
      DefinitionError,
    );
    expect(error.code).toBe('cycle');
    expect(error.message).toContain('"a" depends on itself');
  });

  it('rejects a cycle in the explicit builder through a map', () => {
    // References can't form a cycle, but a map over a list produced downstream of it can't
    // be declared either: references exist only once their node is declared.
    const p = pipeline('explicit-ok', {}, (b) => {
      const list = b.node('list', {}, () => [1, 2]);
      const doubled = b.map('doubled', list, {}, (n) => n * 2);
      return { doubled };
    });
    expect(p.spec.order).toEqual(['list', 'doubled']);
  });

  it('rejects a missing dependency with a suggestion', () => {
    const error = thrown(
      () =>
        pipeline(
          'daily',
          loose({
            orders: () => [1],
            total: ({ ordrs }: { ordrs: number[] }) => ordrs.length,
          }),
        ),
      DefinitionError,
    );
    expect(error.code).toBe('missing_dependency');
    expect(error.nodes).toEqual(['total']);
    expect(error.message).toContain('node "total" depends on "ordrs", which is no node or param');
    expect(error.message).toContain('did you mean "orders"?');
  });

  it('suggests a param name too, and no suggestion when nothing is close', () => {
    const params = z.object({ day: z.string() });
    const near = thrown(
      () => pipeline('p', loose({ a: ({ dya }: { dya: string }) => dya }), { params }),
      DefinitionError,
    );
    expect(near.message).toContain('did you mean "day"?');
    const far = thrown(
      () =>
        pipeline('p', loose({ a: ({ customers }: { customers: string }) => customers }), {
          params,
        }),
      DefinitionError,
    );
    expect(far.message).not.toContain('did you mean');
  });

  it('lists every missing dependency at once', () => {
    const error = thrown(
      () =>
        pipeline(
          'p',
          loose({
            a: ({ nope }: { nope: number }) => nope,
            b: ({ alsoNope }: { alsoNope: number }) => alsoNope,
          }),
        ),
      DefinitionError,
    );
    expect(error.nodes).toEqual(['a', 'b']);
    expect(error.message).toContain('"nope"');
    expect(error.message).toContain('"alsoNope"');
  });

  it('rejects a map over a list that does not exist', () => {
    const error = thrown(
      // @ts-expect-error -- the compiler rejects it too
      () => pipeline('p', { items: () => [1], each: map('itmes', (n: number) => n) }),
      DefinitionError,
    );
    expect(error.message).toContain('depends on "itmes"');
    expect(error.message).toContain('did you mean "items"?');
  });

  it('rejects a node named like a param', () => {
    const error = thrown(
      () =>
        pipeline('p', loose({ day: () => 'x', other: () => 1 }), {
          params: z.object({ day: z.string() }),
        }),
      DefinitionError,
    );
    expect(error.code).toBe('name_clash');
    expect(error.nodes).toEqual(['day']);
    expect(error.message).toContain('"day" is both a node and a param');
  });

  it('rejects a node named like a param in the explicit builder', () => {
    const error = thrown(
      () =>
        pipeline('p', { params: z.object({ day: z.string() }) }, (b) => {
          const day = b.node('day', { d: b.params.day }, ({ d }) => d);
          return { day };
        }),
      DefinitionError,
    );
    expect(error.code).toBe('name_clash');
  });

  it('rejects duplicate names in the explicit builder', () => {
    const error = thrown(
      () =>
        pipeline('p', {}, (b) => {
          b.node('load', {}, () => 1);
          const again = b.node('load', {}, () => 2);
          return { again };
        }),
      DefinitionError,
    );
    expect(error.code).toBe('duplicate_node');
    expect(error.nodes).toEqual(['load']);
    expect(error.message).toContain('two nodes are named "load"');
  });

  it('rejects a reference from another pipeline', () => {
    let foreign: unknown;
    pipeline('first', {}, (b) => {
      const x = b.node('x', {}, () => 1);
      foreign = x;
      return { x };
    });
    const error = thrown(
      () =>
        pipeline('second', {}, (b) => {
          const y = b.node('y', { x: foreign as never }, () => 2);
          return { y };
        }),
      DefinitionError,
    );
    expect(error.message).toContain(
      'dependency "x" is not a reference to a node or param of this pipeline',
    );
  });

  it.each([
    ['a string schema', z.string()],
    ['an array schema', z.array(z.string())],
    ['not a schema at all', 42],
  ])('rejects params that are %s', (_what, params) => {
    const error = thrown(
      () => pipeline('p', { a: () => 1 }, { params: params as z.ZodType }),
      DefinitionError,
    );
    expect(error.code).toBe('invalid_params');
    expect(error.message).toContain('params must be a zod object schema');
    const explicit = thrown(
      () =>
        pipeline('p', { params: params as z.ZodType }, (b) => ({ a: b.node('a', {}, () => 1) })),
      DefinitionError,
    );
    expect(explicit.code).toBe('invalid_params');
  });

  it('rejects an empty pipeline in both styles', () => {
    expect(thrown(() => pipeline('empty', {}), DefinitionError).code).toBe('empty_pipeline');
    expect(
      thrown(() => pipeline('empty', { notANode: 42, _private: () => 1 }), DefinitionError).code,
    ).toBe('empty_pipeline');
    expect(thrown(() => pipeline('empty', {}, () => ({})), DefinitionError).code).toBe(
      'empty_pipeline',
    );
  });

  it('rejects a build function that returns no object', () => {
    const error = thrown(
      () =>
        pipeline('p', {}, (b) => {
          b.node('a', {}, () => 1);
          return undefined as never;
        }),
      DefinitionError,
    );
    expect(error.message).toContain('must return an object of node references');
  });

  it.each(['', 'has space', '1starts-with-digit', 'semi;colon', 'slash/name'])(
    'rejects the invalid name %j for pipelines, nodes and tasks',
    (bad) => {
      expect(thrown(() => pipeline(bad, { a: () => 1 }), ConfigError).code).toBe('invalid_name');
      expect(thrown(() => pipeline('p', { [bad]: () => 1 }), ConfigError).message).toContain(
        JSON.stringify(bad),
      );
      expect(
        thrown(() => pipeline('p', {}, (b) => ({ a: b.node(bad, {}, () => 1) })), ConfigError).code,
      ).toBe('invalid_name');
      expect(thrown(() => task(bad, () => 1), ConfigError).code).toBe('invalid_name');
    },
  );

  it('accepts names with letters, digits, _ - and .', () => {
    const p = pipeline('etl.daily-v2', { _x1: () => 0, 'clean.rows-2': () => 1 });
    expect([...p.spec.nodes.keys()]).toEqual(['clean.rows-2']);
  });

  it('rejects a bad policy option, naming the node and option', () => {
    const error = thrown(
      () =>
        pipeline('p', {}, (b) => ({ a: b.node('a', {}, () => 1, { timeout: '5 mins' as never }) })),
      ConfigError,
    );
    expect(error.code).toBe('invalid_duration');
    expect(error.message).toContain('pipeline p: node a: timeout');
    expect(error.message).toContain('"5 mins"');
  });

  it('orders nodes topologically, keeping definition order otherwise', () => {
    const p = pipeline(
      'order',
      loose({
        report: ({ total, count }: { total: number; count: number }) => total / count,
        total: ({ rows }: { rows: number[] }) => rows.length,
        rows: () => [1],
        count: () => 1,
      }),
    );
    expect(p.spec.order).toEqual(['rows', 'total', 'count', 'report']);
    expect(p.spec.dependents.get('rows')).toEqual(['total']);
  });

  it('builds a 10,000-node chain without overflowing the stack', async () => {
    const p = pipeline('chain', {}, (b) => {
      let prev: Ref<number> = b.node('n0', {}, () => 0);
      for (let i = 1; i < 10_000; i++) prev = b.node(`n${i}`, { prev }, ({ prev }) => prev + 1);
      return { last: prev };
    });
    expect(p.spec.order.length).toBe(10_000);
    const out = (await p.run({}, { outputs: ['n9999'] as never })) as Record<string, unknown>;
    expect(out['n9999']).toBe(9_999);
  });
});
