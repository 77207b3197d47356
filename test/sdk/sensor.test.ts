/** Declaring sensors: names, intervals and timeouts, checked results, and a file's exports. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkSensorResult, sensorsOf } from '../../src/sdk/sensor.js';
import { isSensor, pipeline, sensor, workflow } from '../../src/index.js';

const ingest = pipeline(
  'ingest',
  { rows: ({ path }: { path: string }) => path.length },
  { params: z.object({ path: z.string() }) },
);
const greet = workflow(
  'greet',
  { input: z.object({ name: z.string() }) },
  async (_ctx, { name }) => name,
);
const nothing = () => ({ runs: [] });

describe('sensor()', () => {
  it('names it, and takes the interval and timeout with their defaults', () => {
    const s = sensor(ingest, { evaluate: nothing });
    expect(s).toMatchObject({
      kind: 'sensor',
      name: 'ingest sensor',
      target: ingest,
      intervalMs: 30_000,
      timeoutMs: 30_000,
    });
    expect(isSensor(s)).toBe(true);
    expect(Object.isFrozen(s)).toBe(true);
    // The timeout defaults to the interval, at most a minute.
    expect(sensor(ingest, { every: '1s', evaluate: nothing }).timeoutMs).toBe(1000);
    expect(sensor(ingest, { every: '10m', evaluate: nothing }).timeoutMs).toBe(60_000);
    expect(
      sensor(greet, { name: 'g', every: 5000, timeout: '2m', evaluate: nothing }),
    ).toMatchObject({ name: 'g', intervalMs: 5000, timeoutMs: 120_000 });
  });

  it('types the requests from the target', () => {
    sensor(ingest, { evaluate: () => ({ runs: [{ key: 'a', params: { path: '/a' } }] }) });
    sensor(greet, { evaluate: () => ({ runs: [{ key: 'a', params: { name: 'Ada' } }] }) });
    // @ts-expect-error -- a pipeline's params, checked
    sensor(ingest, { evaluate: () => ({ runs: [{ key: 'a', params: { path: 1 } }] }) });
    // @ts-expect-error -- the key is required
    sensor(greet, { evaluate: () => ({ runs: [{ params: { name: 'Ada' } }] }) });
  });

  it('refuses what cannot work, naming the sensor', () => {
    const bad: [() => unknown, RegExp][] = [
      [() => sensor(ingest, { name: '', evaluate: nothing }), /name of 1 to 200 characters/],
      [() => sensor(ingest, { name: 'x'.repeat(201), evaluate: nothing }), /1 to 200/],
      [
        () => sensor(ingest, { name: 'n', every: '500ms', evaluate: nothing }),
        /"n": every must be at least 1s/,
      ],
      [
        () => sensor(ingest, { name: 'n', every: '5 mins' as never, evaluate: nothing }),
        /"n": every: "5 mins" is not a duration/,
      ],
      [
        () => sensor(ingest, { name: 'n', timeout: 0, evaluate: nothing }),
        /"n": timeout must be more than 0/,
      ],
      [
        () => sensor(ingest, { name: 'n' } as never),
        /"n": give the function that looks for new work/,
      ],
      [() => sensor({} as never, { evaluate: nothing }), /target must be a pipeline or a workflow/],
    ];
    for (const [make, message] of bad) expect(make).toThrow(message);
  });

  it('finds the sensors among exports; two with one name are an error', () => {
    const a = sensor(ingest, { name: 'a', evaluate: nothing });
    const b = sensor(greet, { name: 'b', evaluate: nothing });
    expect(sensorsOf([a, ingest, b, a, 'x', null])).toEqual([a, b]);
    const twin = sensor(greet, { name: 'a', evaluate: nothing });
    expect(() => sensorsOf([a, twin])).toThrow(/two sensors are named "a"/);
  });
});

describe('checkSensorResult()', () => {
  it('reads the requests and the cursor', () => {
    expect(checkSensorResult('s', { runs: [] })).toEqual({ runs: [], cursor: undefined });
    expect(
      checkSensorResult('s', {
        runs: [{ key: 'k', params: { a: 1 }, tags: ['t'] }, { key: 'l' }],
        cursor: null,
      }),
    ).toEqual({
      runs: [
        { key: 'k', params: { a: 1 }, tags: ['t'] },
        { key: 'l', params: undefined, tags: [] },
      ],
      cursor: null,
    });
  });

  it('refuses anything else, saying what to return', () => {
    const bad: [unknown, RegExp][] = [
      [undefined, /^sensor "s" returned nothing; return \{ runs: \[\{ key: /],
      [[], /returned an array;/],
      [{ runs: 'x' }, /returned runs that are "x";/],
      [{ runs: [1] }, /returned runs\[0\] that is number 1;/],
      [{ runs: [{ key: '' }] }, /runs\[0\] with the key "" \(a key is a string of 1 to 200/],
      [{ runs: [{ key: 'k', tags: [1] }] }, /runs\[0\] \(key "k"\) with tags that are not strings/],
      [{ runs: [], cursor: { at: 1 } }, /a cursor that is an object \(a cursor is a string/],
      [{ runs: [], cursor: 'c'.repeat(70_000) }, /a cursor of 70000 characters \(at most 65536\)/],
    ];
    for (const [value, message] of bad) {
      expect(() => checkSensorResult('s', value)).toThrow(message);
    }
  });
});
