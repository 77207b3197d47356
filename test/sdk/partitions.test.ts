/** Partitioned pipelines and run limits: the SDK option, its checks, the context, the graph. */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { encode } from '../../src/core/codec.js';
import { describeDefinition } from '../../src/engine/describe.js';
import { RunContext } from '../../src/engine/run-context.js';
import {
  ConfigError,
  DefinitionError,
  InputError,
  partitions,
  pipeline,
  workflow,
  type Partition,
  type PartitionsSpec,
  type PipelineBuilder,
  type TaskContext,
} from '../../src/index.js';
import type { Store } from '../../src/store/contract/store.js';
import type { PipelineGraph, WorkflowGraph } from '../../src/store/contract/types.js';

const at = (iso: string) => Date.parse(iso);

const params = z.object({ day: z.string(), region: z.string().default('eu') });

/** A pipeline whose one node returns its context's partition. */
function partitioned(
  spec: PartitionsSpec & { param: 'day' | 'region' },
  options: { maxActiveRuns?: number } = {},
) {
  return pipeline('daily_sales', { params, partitions: spec, ...options }, (p) => {
    const seen = p.node('seen', { day: p.params.day }, (_, ctx) => ctx.partition);
    return { seen };
  });
}

function definitionError(fn: () => unknown): DefinitionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DefinitionError);
    return error as DefinitionError;
  }
  throw new Error('expected a DefinitionError');
}

describe('partitions builders', () => {
  it('build the JSON spec of each calendar', () => {
    expect(
      partitions.daily({ param: 'day', start: '2026-01-01', timezone: 'Europe/Berlin' }),
    ).toEqual({
      kind: 'time',
      granularity: 'daily',
      param: 'day',
      start: at('2026-01-01T00:00:00+01:00'),
      end: null,
      timezone: 'Europe/Berlin',
      endOffset: 0,
    });
    expect(partitions.hourly({ param: 'hour', start: '2026-01-01T05:30' }).start).toBe(
      at('2026-01-01T05:00:00Z'),
    );
    expect(partitions.weekly({ param: 'week', start: '2026-01-01' }).start).toBe(
      at('2025-12-29T00:00:00Z'),
    );
    expect(
      partitions.monthly({ param: 'month', start: '2026-01-01', end: '2027-01-01', endOffset: 1 }),
    ).toMatchObject({ granularity: 'monthly', end: at('2027-01-01T00:00:00Z'), endOffset: 1 });
    expect(partitions.static(['eu', 'us'], { param: 'region' })).toEqual({
      kind: 'static',
      param: 'region',
      keys: ['eu', 'us'],
    });
  });

  it('keep the param name as a literal type', () => {
    const spec = partitions.daily({ param: 'day', start: '2026-01-01' });
    expectTypeOf(spec.param).toEqualTypeOf<'day'>();
    expectTypeOf(partitions.static(['eu'], { param: 'region' }).param).toEqualTypeOf<'region'>();
  });

  it('refuse bad options with a ConfigError naming them', () => {
    expect(() => partitions.daily({ param: 'day', start: 'soon' })).toThrow(ConfigError);
    expect(() => partitions.daily({ param: 'day', start: 'soon' })).toThrow(
      'daily partitions: start "soon" is not a time',
    );
    expect(() => partitions.static(['eu', 'eu'], { param: 'region' })).toThrow(
      'static partitions: key "eu" is listed twice',
    );
  });
});

describe('pipeline(…, { partitions, maxActiveRuns })', () => {
  const daily = partitions.daily({ param: 'day', start: '2026-01-01', timezone: 'Europe/Berlin' });

  it('keeps them on the spec, in either style', () => {
    const explicit = partitioned(daily, { maxActiveRuns: 2 });
    expect(explicit.spec.partitions).toEqual(daily);
    expect(explicit.spec.maxActiveRuns).toBe(2);

    const hamilton = pipeline(
      'regional',
      { total: ({ region }: { region: string }) => region.length },
      {
        params: z.object({ region: z.enum(['eu', 'us']) }),
        partitions: partitions.static(['eu', 'us'], { param: 'region' }),
        maxActiveRuns: 1,
      },
    );
    expect(hamilton.spec.partitions).toEqual({
      kind: 'static',
      param: 'region',
      keys: ['eu', 'us'],
    });
    expect(hamilton.spec.maxActiveRuns).toBe(1);

    const plain = pipeline('plain', { one: () => 1 });
    expect('partitions' in plain.spec).toBe(false);
    expect('maxActiveRuns' in plain.spec).toBe(false);
  });

  it('refuses a partition param the pipeline does not have, suggesting a close one', () => {
    const error = definitionError(() =>
      partitioned(partitions.daily({ param: 'dya', start: '2026-01-01' }) as never),
    );
    expect(error.code).toBe('invalid_partitions');
    expect(error.nodes).toEqual(['dya']);
    expect(error.message).toBe(
      'pipeline daily_sales: the partition param "dya" is no param of this pipeline; did you mean "day"?; its params: day, region',
    );
    expect(
      definitionError(() =>
        pipeline(
          'no_params',
          { one: () => 1 },
          { partitions: partitions.daily({ param: 'day', start: '2026-01-01' }) },
        ),
      ).message,
    ).toBe(
      'pipeline no_params: the partition param "day" is not declared; add it to the params: params: z.object({ day: z.string() })',
    );
  });

  it('is a compile error to name a param the schema lacks', () => {
    const wrong = partitions.daily({ param: 'dya', start: '2026-01-01' });
    expect(() =>
      // @ts-expect-error -- 'dya' is not a param of the schema
      pipeline(
        'typed',
        { n: ({ day }: { day: string }) => day },
        { params: z.object({ day: z.string() }), partitions: wrong },
      ),
    ).toThrow('the partition param "dya" is no param of this pipeline');
    expect(() =>
      // @ts-expect-error -- 'dya' is not a param of the schema
      pipeline(
        'typed',
        { params: z.object({ day: z.string() }), partitions: wrong },
        (p: PipelineBuilder<{ day: string }>) => ({ n: p.node('n', {}, () => 1) }),
      ),
    ).toThrow('the partition param "dya" is no param of this pipeline');
    // Without a schema any name compiles; loading the file refuses it.
    expect(() => pipeline('untyped', { one: () => 1 }, { partitions: wrong })).toThrow(
      DefinitionError,
    );
  });

  it('refuses a partition param whose schema does not take the keys', () => {
    const numeric = definitionError(() =>
      pipeline(
        'numeric',
        { n: ({ day }: { day: number }) => day },
        {
          params: z.object({ day: z.number() }),
          partitions: partitions.daily({ param: 'day', start: '2026-01-01' }),
        },
      ),
    );
    expect(numeric.message).toMatch(
      /^pipeline numeric: the partition param "day" does not accept the partition key "2026-01-01" \(.+\); declare it as a string: day: z.string\(\)$/,
    );
    const enumerated = definitionError(() =>
      pipeline(
        'regions',
        { n: ({ region }: { region: string }) => region },
        {
          params: z.object({ region: z.enum(['eu', 'us']) }),
          partitions: partitions.static(['eu', 'us', 'apac'], { param: 'region' }),
        },
      ),
    );
    expect(enumerated.message).toContain('does not accept the partition key "apac"');
    // A format the hourly keys don't match.
    expect(() =>
      pipeline(
        'hours',
        { n: ({ hour }: { hour: string }) => hour },
        {
          params: z.object({ hour: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) }),
          partitions: partitions.hourly({ param: 'hour', start: '2026-01-01' }),
        },
      ),
    ).toThrow('does not accept the partition key "2026-01-01T00:00"');
  });

  it('checks a hand-written spec like a built one', () => {
    const bad = { ...daily, start: daily.start + 1 };
    expect(() => partitioned(bad)).toThrow(ConfigError);
    expect(() => partitioned(bad)).toThrow(
      'pipeline daily_sales: partitions: start (2025-12-31T23:00:00.001Z) is not where a daily partition starts',
    );
  });

  it('refuses a maxActiveRuns that is not a whole number >= 1', () => {
    for (const value of [0, -1, 1.5, Number.NaN, '2']) {
      expect(() => partitioned(daily, { maxActiveRuns: value as number })).toThrow(
        /^pipeline daily_sales: maxActiveRuns .* is invalid; use a whole number >= 1/,
      );
    }
  });
});

describe('workflow(…, { maxActiveRuns })', () => {
  it('keeps it on the workflow, and checks it', () => {
    const limited = workflow('limited', { maxActiveRuns: 3 }, async () => 1);
    expect(limited.maxActiveRuns).toBe(3);
    expect(workflow('free', {}, async () => 1).maxActiveRuns).toBeUndefined();
    expect(() => workflow('bad', { maxActiveRuns: 0 }, async () => 1)).toThrow(ConfigError);
    expect(() => workflow('bad', { maxActiveRuns: 0 }, async () => 1)).toThrow(
      'workflow bad: maxActiveRuns 0 is invalid',
    );
  });
});

describe('the partition in the task context', () => {
  const daily = partitions.daily({ param: 'day', start: '2026-01-01', timezone: 'Europe/Berlin' });

  it('gives a local run its key and window', async () => {
    expectTypeOf<TaskContext['partition']>().toEqualTypeOf<Partition | null>();
    const { seen } = await partitioned(daily).run({ day: '2026-03-29' });
    expect(seen).toEqual({
      key: '2026-03-29',
      start: at('2026-03-29T00:00:00+01:00'),
      end: at('2026-03-30T00:00:00+02:00'),
    });
    // A day that has not ended yet: local runs compute any day of the calendar.
    await expect(partitioned(daily).run({ day: '2099-01-01' })).resolves.toMatchObject({
      seen: { key: '2099-01-01' },
    });
  });

  it('gives a static key without a window, and null without partitions', async () => {
    const regional = pipeline(
      'regional',
      { seen: (_: unknown, ctx: TaskContext) => ctx.partition },
      {
        params: z.object({ region: z.string() }),
        partitions: partitions.static(['eu', 'us'], { param: 'region' }),
      },
    );
    await expect(regional.run({ region: 'us' })).resolves.toEqual({
      seen: { key: 'us', start: null, end: null },
    });
    const plain = pipeline('plain', { seen: (_: unknown, ctx: TaskContext) => ctx.partition });
    await expect(plain.run({})).resolves.toEqual({ seen: null });
  });

  it('refuses a key the pipeline never has', async () => {
    const error = await partitioned(daily)
      .run({ day: '2025-12-31' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).issues).toEqual([
      {
        path: ['day'],
        message:
          '"2025-12-31" is before the first partition; expected a day as YYYY-MM-DD in Europe/Berlin, from 2026-01-01',
      },
    ]);
  });

  it('is read from a durable run’s params', () => {
    const spec = partitioned(daily).spec;
    // The constructor reads no step: a store that is never called stands in for one.
    const store = {} as Store;
    const run = new RunContext(store, { id: 'r1', input: encode({ day: '2026-01-05' }) }, spec);
    expect(run.partition).toEqual({
      key: '2026-01-05',
      start: at('2026-01-05T00:00:00+01:00'),
      end: at('2026-01-06T00:00:00+01:00'),
    });
    const plain = pipeline('plain', { one: () => 1 }).spec;
    expect(new RunContext(store, { id: 'r2', input: encode({}) }, plain).partition).toBeNull();
  });
});

describe('the registered graph', () => {
  const now = at('2026-06-01T00:00:00Z');

  it('holds partitions and maxActiveRuns only when declared', () => {
    const daily = partitions.daily({
      param: 'day',
      start: '2026-01-01',
      timezone: 'Europe/Berlin',
    });
    const record = describeDefinition(partitioned(daily, { maxActiveRuns: 2 }), now);
    const graph = record.graph as PipelineGraph;
    expect(graph.partitions).toEqual(daily);
    expect(graph.maxActiveRuns).toBe(2);
    // Plain JSON: what a server reads back is what the code declared.
    expect(JSON.parse(JSON.stringify(graph.partitions))).toEqual(daily);

    const plain = describeDefinition(pipeline('plain', { one: () => 1 }), now)
      .graph as PipelineGraph;
    expect('partitions' in plain).toBe(false);
    expect('maxActiveRuns' in plain).toBe(false);

    const limited = describeDefinition(
      workflow('limited', { maxActiveRuns: 4 }, async () => 1),
      now,
    ).graph as WorkflowGraph;
    expect(limited.maxActiveRuns).toBe(4);
    const free = describeDefinition(
      workflow('free', {}, async () => 1),
      now,
    ).graph as WorkflowGraph;
    expect('maxActiveRuns' in free).toBe(false);
  });

  it('changes the code hash when the partitions change', () => {
    const a = partitions.daily({ param: 'day', start: '2026-01-01' });
    const b = partitions.daily({ param: 'day', start: '2026-02-01' });
    expect(describeDefinition(partitioned(a), now).codeHash).not.toBe(
      describeDefinition(partitioned(b), now).codeHash,
    );
  });
});
