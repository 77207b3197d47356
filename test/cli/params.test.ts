import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseParams, splitParams } from '../../src/cli/params.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { pipeline } from '../../src/index.js';

const withParams = (params: z.ZodObject) =>
  pipeline('p', { params }, (p) => ({ x: p.node('x', {}, () => 1) })).spec;

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
    expect(() => parseParams(pipeline('q', { a: () => 1 }).spec, ['a=1'])).toThrow(
      /takes no params/,
    );
  });
});
