import { describe, expect, it } from 'vitest';
import { CodecError, decode, encode } from '../../src/index.js';

const roundTrip = <T>(value: T): T => decode<T>(encode(value));

describe('codec round-trips', () => {
  it.each([
    ['a string', 'hello'],
    ['a number', 42.5],
    ['a boolean', false],
    ['null', null],
    ['an empty object', {}],
    ['an empty array', []],
    [
      'nested plain data',
      { a: [1, { b: 'c', d: [true, null] }], e: { f: { g: { h: { i: 1 } } } } },
    ],
    ['a long array', Array.from({ length: 100 }, (_, i) => ({ i }))],
  ])('keeps %s', (_what, value) => {
    expect(roundTrip(value)).toEqual(value);
  });

  it('keeps Dates, including an invalid one', () => {
    const value = { at: new Date('2026-01-02T03:04:05.678Z'), list: [new Date(0)] };
    const back = roundTrip(value);
    expect(back.at).toBeInstanceOf(Date);
    expect(back.at.toISOString()).toBe('2026-01-02T03:04:05.678Z');
    expect(back.list[0]?.getTime()).toBe(0);
    const invalid = roundTrip(new Date(Number.NaN));
    expect(invalid).toBeInstanceOf(Date);
    expect(Number.isNaN(invalid.getTime())).toBe(true);
  });

  it('keeps Maps (any keys) and Sets, nested', () => {
    const value = new Map<unknown, unknown>([
      ['a', 1],
      [2, new Set([1, 'x', new Date(5)])],
      [{ composite: true }, new Map([['inner', [1, 2]]])],
    ]);
    const back = roundTrip(value);
    expect(back).toBeInstanceOf(Map);
    expect(back).toEqual(value);
    expect([...back.keys()]).toEqual(['a', 2, { composite: true }]);
    const set = back.get(2) as Set<unknown>;
    expect(set).toBeInstanceOf(Set);
    expect([...set][2]).toBeInstanceOf(Date);
  });

  it('keeps BigInts, including ones past 2^53', () => {
    const big = 2n ** 80n + 1n;
    expect(roundTrip(big)).toBe(big);
    expect(roundTrip({ n: -5n, list: [0n] })).toEqual({ n: -5n, list: [0n] });
  });

  it('keeps bytes: Uint8Array and Buffer (decoded as Uint8Array)', () => {
    const bytes = new Uint8Array([0, 1, 127, 128, 255]);
    const back = roundTrip({ bytes });
    expect(back.bytes).toBeInstanceOf(Uint8Array);
    expect([...back.bytes]).toEqual([0, 1, 127, 128, 255]);
    const buffer = Buffer.from('héllo wörld', 'utf8');
    const fromBuffer = roundTrip(buffer);
    expect(Buffer.from(fromBuffer).toString('utf8')).toBe('héllo wörld');
    // Larger than one chunk of the base64 encoder.
    const large = new Uint8Array(100_000).map((_, i) => (i * 7) % 256);
    expect(roundTrip(large)).toEqual(large);
  });

  it('keeps undefined in objects, in arrays and at the top level', () => {
    expect(roundTrip(undefined)).toBeUndefined();
    const obj = roundTrip({ a: undefined, b: 1 });
    expect(obj).toEqual({ a: undefined, b: 1 });
    expect(Object.keys(obj)).toEqual(['a', 'b']);
    const arr = roundTrip([1, undefined, 3]);
    expect(arr).toHaveLength(3);
    expect(arr[1]).toBeUndefined();
  });

  it('keeps NaN and infinities', () => {
    expect(roundTrip(Number.NaN)).toBeNaN();
    expect(roundTrip([Infinity, -Infinity])).toEqual([Infinity, -Infinity]);
    expect(roundTrip({ x: Number.NaN }).x).toBeNaN();
  });

  it('keeps objects that have their own $t key', () => {
    const tricky = [
      { $t: 'Date', v: '2026-01-01T00:00:00.000Z' },
      { $t: 'Undef', v: 0 },
      { $t: 'Obj', v: { $t: 'BigInt', v: '1' } },
      { $t: 42 },
      { nested: { $t: 'Map', v: [] }, when: new Date(1) },
    ];
    const back = roundTrip(tricky);
    expect(back).toEqual(tricky);
    expect(typeof back[0]?.v).toBe('string');
  });

  it('keeps RegExps and Errors', () => {
    const back = roundTrip({ re: /a+b/gi, err: new TypeError('bad') });
    expect(back.re).toEqual(/a+b/gi);
    expect(back.err).toBeInstanceOf(Error);
    expect(back.err.name).toBe('TypeError');
    expect(back.err.message).toBe('bad');
  });

  it('uses toJSON when a value has one', () => {
    const value = { money: { cents: 5, toJSON: () => '0.05 EUR' } };
    expect(roundTrip(value)).toEqual({ money: '0.05 EUR' });
  });

  it('encodes small plain data as plain JSON', () => {
    expect(encode({ a: 1, b: ['x'] })).toBe('{"a":1,"b":["x"]}');
  });

  it('encodes a shared (non-circular) object twice', () => {
    const shared = { n: 1 };
    expect(roundTrip({ a: shared, b: [shared, shared] })).toEqual({
      a: { n: 1 },
      b: [{ n: 1 }, { n: 1 }],
    });
  });
});

describe('codec refusals', () => {
  function codecError(run: () => unknown): CodecError {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(CodecError);
      return error as CodecError;
    }
    throw new Error('expected a CodecError');
  }

  it('refuses a function, naming its path', () => {
    const error = codecError(() =>
      encode({ rows: [1, { fn: () => 1 }] }, 'output of node cleaned'),
    );
    expect(error.code).toBe('unencodable');
    expect(error.message).toContain(
      'cannot encode a function at output of node cleaned.rows[1].fn',
    );
  });

  it('refuses a symbol and a function inside a Map', () => {
    expect(codecError(() => encode({ s: Symbol('x') })).message).toContain('symbol at value.s');
    expect(codecError(() => encode(new Map([['k', () => 1]]))).message).toContain(
      'function at value<value 0>',
    );
  });

  it('refuses a cycle, naming where it closes', () => {
    const node: { name: string; children: unknown[] } = { name: 'root', children: [] };
    node.children.push({ parent: node });
    const error = codecError(() => encode(node, 'tree'));
    expect(error.message).toContain('circular reference at tree.children[0].parent');
  });

  it('refuses an encoding over the size limit, saying what to do', () => {
    const error = codecError(() => encode('x'.repeat(100), 'output of node big', { maxBytes: 50 }));
    expect(error.code).toBe('too_large');
    expect(error.message).toContain(
      'output of node big encodes to 102 bytes, over the limit of 50',
    );
    expect(error.message).toContain('return a reference');
    expect(encode('x'.repeat(10), 'small', { maxBytes: 50 })).toBe(`"${'x'.repeat(10)}"`);
  });

  it('counts the limit in UTF-8 bytes, not characters', () => {
    const text = 'é'.repeat(30); // 32 characters once quoted, 62 bytes
    expect(() => encode(text, 'v', { maxBytes: 62 })).not.toThrow();
    expect(codecError(() => encode(text, 'v', { maxBytes: 61 })).message).toContain('62 bytes');
  });
});
