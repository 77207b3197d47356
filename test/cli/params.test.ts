import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseInput, parseParams, splitParams } from '../../src/cli/params.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { pipeline, workflow } from '../../src/index.js';

const withParams = (params: z.ZodObject) =>
  pipeline('p', { params }, (p) => ({ x: p.node('x', {}, () => 1) }));

describe('--param coercion by the params schema', () => {
  const spec = withParams(
    z.object({
      day: z.string(),
      n: z.number(),
      flag: z.boolean().optional(),
      ids: z.array(z.number()).default([]),
      mode: z.enum(['fast', 'slow']),
      either: z.union([z.string(), z.number()]),
      since: z.date(),
      big: z.bigint(),
      code: z.string().transform((s) => s.toUpperCase()),
    }),
  );

  it('keeps text for string fields and reads JSON for the others', () => {
    const flags = [
      'day=2026',
      'n=3',
      'flag=true',
      'ids=[1,2]',
      'mode=fast',
      'either=7',
      'since=2026-01-02',
      'big=9007199254740993',
      'code=007',
    ];
    expect(parseParams(spec, flags)).toEqual({
      day: '2026',
      n: 3,
      flag: true,
      ids: [1, 2],
      mode: 'fast',
      either: 7,
      since: new Date('2026-01-02'),
      big: 9007199254740993n,
      code: '007',
    });
  });

  it('keeps text that is not JSON, and lets the schema reject it later', () => {
    expect(parseParams(spec, ['n=abc', 'either=hello', 'day='])).toEqual({
      n: 'abc',
      either: 'hello',
      day: '',
    });
  });

  it('splits on the first = only', () => {
    expect(splitParams(['q=a=b'])).toEqual([['q', 'a=b']]);
  });

  it('rejects flags that are not key=value, unknown names, and repeats', () => {
    expect(() => splitParams(['=x'])).toThrow(UsageError);
    expect(() => parseParams(spec, ['nn=1'])).toThrow(
      /has no param "nn"; its params are: day, n, flag/,
    );
    expect(() => parseParams(spec, ['n=1', 'n=2'])).toThrow(/--param n is given twice/);
    expect(() => parseParams(pipeline('q', { a: () => 1 }), ['a=1'])).toThrow(/takes no params/);
  });
});

describe('workflow input from --param and --input', () => {
  const wf = workflow(
    'approve',
    {
      input: z.object({ id: z.string(), amount: z.number(), urgent: z.boolean().default(false) }),
    },
    async (_ctx, input) => input.id,
  );

  it('coerces --param fields by the input schema, like pipeline params', () => {
    expect(parseInput(wf, { param: ['id=007', 'amount=12.5'] })).toEqual({
      id: '007',
      amount: 12.5,
    });
  });

  it('takes the whole input as JSON with --input, with --param fields on top', () => {
    expect(parseInput(wf, { input: '{"id":"a","amount":1}' })).toEqual({ id: 'a', amount: 1 });
    expect(parseInput(wf, { input: '{"id":"a","amount":1}', param: ['amount=2'] })).toEqual({
      id: 'a',
      amount: 2,
    });
    expect(parseInput(wf, {})).toBeUndefined();
  });

  it('names the workflow and its fields in errors', () => {
    expect(() => parseInput(wf, { param: ['amt=1'] })).toThrow(
      /^workflow approve has no input field "amt"; its input fields are: id, amount, urgent$/,
    );
    expect(() => parseInput(wf, { input: '{id:1}' })).toThrow(/^--input is not valid JSON \(/);
    const noInput = workflow('none', {}, async () => 1);
    expect(() => parseInput(noInput, { param: ['a=1'] })).toThrow(
      /^workflow none takes no input fields; remove --param a=…$/,
    );
    const scalar = workflow('scalar', { input: z.number() }, async (_ctx, n) => n);
    expect(parseInput(scalar, { input: '42' })).toBe(42);
    expect(() => parseInput(scalar, { param: ['n=1'] })).toThrow(
      /takes an input that is not an object; pass it whole as JSON with --input/,
    );
    expect(() => parseInput(wf, { input: '[1]', param: ['id=x'] })).toThrow(
      /--param needs an object input, but --input is \[1\]/,
    );
  });
});
