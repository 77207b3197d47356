import { describe, expect, it } from 'vitest';
import { DefinitionError, map, node, pipeline } from '../../src/index.js';
import { readDestructuredDeps } from '../../src/sdk/deps-parser.js';

type AnyFn = (...args: never[]) => unknown;

/**
 * Builds a function from exact source text, so the test sees the source a user's runtime
 * would (the TypeScript transform of this file may rewrite or drop comments).
 */
function fromSource(source: string): AnyFn {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- exact source text on purpose
  const make = new Function(`return (${source});`) as () => AnyFn;
  return make();
}

/** A method's function, whose source reads `name(…) { … }` rather than an expression. */
function methodFromSource(source: string, name: string): AnyFn {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- exact source text on purpose
  const make = new Function(`return ({ ${source} });`) as () => Record<string, AnyFn>;
  const holder = make();
  const fn = holder[name];
  if (!fn) throw new Error(`no method ${name}`);
  return fn;
}

function depsOf(fn: AnyFn, index = 0) {
  const read = readDestructuredDeps(fn, index);
  if ('error' in read) throw new Error(`unexpected parse error: ${read.error}`);
  return read.deps;
}

function errorOf(fn: AnyFn, index = 0): string {
  const read = readDestructuredDeps(fn, index);
  if (!('error' in read)) throw new Error(`expected an error, read ${JSON.stringify(read.deps)}`);
  return read.error;
}

const names = (fn: AnyFn, index = 0) => depsOf(fn, index).map((d) => d.name);

describe('reading dependencies from a destructured parameter', () => {
  it.each([
    ['arrow', '({ orders, day }) => orders.length + day'],
    ['async arrow', 'async ({ orders, day }) => orders.length + day'],
    ['anonymous function', 'function ({ orders, day }) { return day; }'],
    ['named function', 'function total({ orders, day }) { return day; }'],
    ['async function', 'async function total({ orders, day }) { return day; }'],
    ['generator function', 'function* total({ orders, day }) { yield day; }'],
  ])('reads the %s form', (_form, source) => {
    expect(names(fromSource(source))).toEqual(['orders', 'day']);
  });

  it.each([
    ['method', 'total({ orders, day }) { return day; }'],
    ['async method', 'async total({ orders, day }) { return day; }'],
    ['generator method', '*total({ orders, day }) { yield day; }'],
  ])('reads the %s form', (_form, source) => {
    expect(names(methodFromSource(source, 'total'))).toEqual(['orders', 'day']);
  });

  it('reads functions written in this (TypeScript) file', () => {
    const module = {
      arrow: ({ orders, day }: { orders: number[]; day: string }) => orders.length + day,
      async method(this: void, { orders }: { orders: number[] }) {
        return Promise.resolve(orders.length);
      },
    };
    expect(names(module.arrow as AnyFn)).toEqual(['orders', 'day']);
    expect(names(module.method as AnyFn)).toEqual(['orders']);
  });

  it('marks dependencies with a default as optional', () => {
    const deps = depsOf(fromSource('({ orders, limit = 10, label = "x" }) => orders'));
    expect(deps).toEqual([
      { name: 'orders', optional: false },
      { name: 'limit', optional: true },
      { name: 'label', optional: true },
    ]);
  });

  it('accepts a default for the whole parameter', () => {
    expect(names(fromSource('({ orders, day } = {}) => day'))).toEqual(['orders', 'day']);
  });

  it('names a renamed property by the property, not the local name', () => {
    const deps = depsOf(fromSource('({ orders: o, day: d = "today", "raw-rows": r }) => o'));
    expect(deps).toEqual([
      { name: 'orders', optional: false },
      { name: 'day', optional: true },
      { name: 'raw-rows', optional: false },
    ]);
  });

  it('ignores comments inside the pattern', () => {
    const source = `({
      /* the cleaned orders */ orders, // one line comment
      // a comment on its own line
      day /* trailing */,
    }) => day`;
    expect(names(fromSource(source))).toEqual(['orders', 'day']);
  });

  it('accepts nested patterns and reads only the top-level names', () => {
    expect(names(fromSource('({ config: { retries }, rows: [first] }) => first'))).toEqual([
      'config',
      'rows',
    ]);
  });

  it('reads no dependencies from a function without parameters', () => {
    expect(names(fromSource('() => 42'))).toEqual([]);
    expect(names(fromSource('function () { return 42; }'))).toEqual([]);
  });

  it('reads the second parameter of a map function', () => {
    expect(names(fromSource('(item, { orders, day }) => item'), 1)).toEqual(['orders', 'day']);
    expect(names(fromSource('(item) => item'), 1)).toEqual([]);
  });

  it('refuses a plain-name parameter, naming it', () => {
    expect(errorOf(fromSource('(deps) => deps.orders'))).toMatch(/plain name \(deps\)/);
    expect(errorOf(fromSource('deps => deps.orders'))).toMatch(/plain name \(deps\)/);
  });

  it('refuses a rest element', () => {
    expect(errorOf(fromSource('({ orders, ...rest }) => rest'))).toMatch(/rest element/);
  });

  it('refuses an array pattern and a computed key', () => {
    expect(errorOf(fromSource('([orders]) => orders'))).toMatch(/not an object pattern/);
    expect(errorOf(fromSource('({ ["or" + "ders"]: o }) => o'))).toMatch(/computed key/);
  });

  it('refuses native and bound functions', () => {
    expect(errorOf(Math.max as AnyFn)).toMatch(/native or bound/);
    const bound = fromSource('({ orders }) => orders').bind(null);
    expect(errorOf(bound)).toMatch(/native or bound/);
  });
});

describe('pipelines whose dependencies cannot be read', () => {
  function definitionError(build: () => unknown): DefinitionError {
    try {
      build();
    } catch (error) {
      expect(error).toBeInstanceOf(DefinitionError);
      return error as DefinitionError;
    }
    throw new Error('expected a DefinitionError');
  }

  it('names the node and tells how to declare deps explicitly', () => {
    const error = definitionError(() =>
      pipeline('daily', {
        orders: () => [1, 2, 3],
        total: fromSource('(deps) => deps.orders.length') as () => number,
      }),
    );
    expect(error.code).toBe('unreadable_deps');
    expect(error.nodes).toEqual(['total']);
    expect(error.message).toContain('node "total"');
    expect(error.message).toContain('plain name (deps)');
    expect(error.message).toContain("node({ deps: ['orders', 'day'] }, fn)");
  });

  it('tells a map how to declare its deps', () => {
    const error = definitionError(() =>
      pipeline('fan', {
        items: () => [1, 2],
        doubled: map('items', fromSource('(item, deps) => item * 2') as (n: number) => number),
      }),
    );
    expect(error.nodes).toEqual(['doubled']);
    expect(error.message).toContain("map('list', fn, { deps: ['orders', 'day'] })");
  });

  it('refuses a native function as a node', () => {
    const error = definitionError(() => pipeline('native', { now: Date.now }));
    expect(error.message).toMatch(/node "now".*native or bound/);
  });

  it('runs a node whose deps are declared explicitly', async () => {
    const p = pipeline('explicit-deps', {
      orders: () => [1, 2, 3],
      total: node({ deps: ['orders'] }, (deps: { orders: number[] }) =>
        deps.orders.reduce((a, b) => a + b, 0),
      ),
    });
    expect(p.spec.nodes.get('total')?.inputs.map((i) => i.from)).toEqual(['orders']);
    await expect(p.run()).resolves.toMatchObject({ total: 6 });
  });

  it('uses the default of an optional dependency that is no node or param', async () => {
    const p = pipeline('optional', {
      orders: () => [1, 2, 3],
      top: fromSource('({ orders, limit = 2 }) => orders.slice(0, limit)') as () => number[],
    });
    expect(p.spec.nodes.get('top')?.inputs.map((i) => i.from)).toEqual(['orders']);
    await expect(p.run()).resolves.toMatchObject({ top: [1, 2] });
  });

  it('wires an optional dependency that is a node', async () => {
    const p = pipeline('optional-node', {
      limit: () => 1,
      orders: () => [1, 2, 3],
      top: fromSource('({ orders, limit = 2 }) => orders.slice(0, limit)') as () => number[],
    });
    await expect(p.run()).resolves.toMatchObject({ top: [1] });
  });

  it('depends on the property of a renamed dependency', async () => {
    const p = pipeline('renamed', {
      orders: () => [1, 2, 3],
      count: ({ orders: o }: { orders: number[] }) => o.length,
    });
    expect(p.spec.dependents.get('orders')).toEqual(['count']);
    await expect(p.run()).resolves.toMatchObject({ count: 3 });
  });
});
