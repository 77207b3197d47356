/**
 * Sensors on real stores under a manual clock: requests start runs with their idempotency
 * keys (a request made again starts none), the cursor is kept across a restart, a failing
 * evaluation records its error and keeps the cursor, pause, the interval and the timeout, two
 * evaluators racing record once, and the `weft:sensors` loop of the workers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../src/core/clock.js';
import { decode } from '../../src/core/codec.js';
import { Engine } from '../../src/engine/index.js';
import {
  SENSORS_LEADERSHIP,
  evaluateSensors,
  sensorMaintenance,
  sensorRunKey,
  type SensorEvaluationEvent,
  type SensorsOptions,
} from '../../src/engine/sensors.js';
import { pipeline, sensor, workflow, type Sensor, type SensorContext } from '../../src/index.js';
import type { Store } from '../../src/store/contract/index.js';
import { tempStore, type Backend } from '../server/helpers.js';

const T0 = Date.UTC(2026, 2, 2);

const ingest = pipeline(
  'ingest',
  { rows: ({ path }: { path: string }) => path.length },
  { params: z.object({ path: z.string() }) },
);
const notify = workflow(
  'notify',
  { input: z.object({ user: z.string() }) },
  async (ctx, { user }) => ctx.step('send', () => user),
);

/**
 * A sensor over a list of files that grows: each evaluation asks for a run of every file after
 * the cursor and moves the cursor to the last. `seen` records the cursors it was given.
 */
function fileSensor(files: string[], seen: (string | null)[] = []): Sensor {
  return sensor(ingest, {
    name: 'new-files',
    every: '30s',
    evaluate({ cursor }) {
      seen.push(cursor);
      const after = cursor === null ? files : files.slice(files.indexOf(cursor) + 1);
      return {
        runs: after.map((f) => ({ key: f, params: { path: `/in/${f}` }, tags: ['sensor'] })),
        ...(after.length ? { cursor: after.at(-1)! } : {}),
      };
    },
  });
}

for (const backend of ['sqlite', 'postgres'] as Backend[]) {
  describe(`sensors (${backend})`, () => {
    let store: Store;
    let reopen: () => Promise<Store>;
    let cleanup: () => Promise<void>;
    let clock: ManualClock;
    const closers: (() => Promise<void>)[] = [];

    beforeEach(async () => {
      ({ store, reopen, cleanup } = await tempStore(backend));
      clock = new ManualClock(T0);
    });

    afterEach(async () => {
      while (closers.length) await closers.pop()!();
      await cleanup();
    });

    /** Registers `sensors` as a worker does (then stops it: the runs stay queued). */
    async function register(sensors: Sensor[], on: Store = store): Promise<void> {
      const worker = new Engine({
        store: on,
        definitions: [],
        sensors,
        clock,
        concurrency: 1,
        captureConsole: false,
      });
      await worker.start();
      await worker.stop();
    }

    /** An engine with the sensors' code that submits runs and runs nothing. */
    async function client(sensors: Sensor[], on: Store = store): Promise<Engine> {
      const engine = new Engine({
        store: on,
        definitions: [],
        sensors,
        clock,
        worker: false,
        captureConsole: false,
      });
      await engine.start();
      closers.push(() => engine.stop());
      return engine;
    }

    /** One pass of a sensors duty over `engine`'s sensors, at the clock's time. */
    async function pass(
      engine: Engine,
      options: Omit<SensorsOptions, 'engine'> = {},
      on: Store = store,
    ): Promise<SensorEvaluationEvent[]> {
      const events: SensorEvaluationEvent[] = [];
      const duty = evaluateSensors({
        engine,
        warn: () => undefined,
        onEvaluation: (e) => events.push(e),
        ...options,
      });
      await duty.run({ store: on, now: clock.now(), signal: new AbortController().signal });
      return events;
    }

    const runsOf = async (definition = 'ingest') =>
      (await store.listRuns({ definition })).sort((a, b) =>
        (a.idempotencyKey ?? '').localeCompare(b.idempotencyKey ?? ''),
      );

    it('registers sensors and starts a run per request, with its idempotency key', async () => {
      const files = ['a.csv', 'b.csv'];
      const s = fileSensor(files);
      await register([s]);
      expect(await store.getSensor('new-files')).toMatchObject({
        target: 'ingest',
        intervalMs: 30_000,
        paused: false,
        cursor: null,
        evaluatedAt: null,
      });
      const engine = await client([s]);
      const [event] = await pass(engine);
      expect(event).toMatchObject({
        sensor: 'new-files',
        from: null,
        cursor: 'b.csv',
        error: null,
      });
      expect(event!.recorded).toBe(true);
      const runs = await runsOf();
      expect(runs.map((r) => [r.idempotencyKey, r.trigger, decode(r.input), r.tags])).toEqual([
        ['sensor:new-files:a.csv', 'sensor:new-files', { path: '/in/a.csv' }, ['sensor']],
        ['sensor:new-files:b.csv', 'sensor:new-files', { path: '/in/b.csv' }, ['sensor']],
      ]);
      expect(await store.getSensor('new-files')).toMatchObject({
        cursor: 'b.csv',
        evaluatedAt: T0,
        lastError: null,
        lastRequested: 2,
      });
      // A workflow's input, too.
      const greet = sensor(notify, {
        every: '1m',
        evaluate: () => ({ runs: [{ key: 'ada', params: { user: 'ada' } }] }),
      });
      expect(greet.name).toBe('notify sensor');
      await register([greet]);
      await pass(await client([greet]));
      expect((await runsOf('notify')).map((r) => [r.idempotencyKey, decode(r.input)])).toEqual([
        [sensorRunKey('notify sensor', 'ada'), { user: 'ada' }],
      ]);
    });

    it('starts one run for a request made again', async () => {
      // Asks for the same file at every evaluation, and keeps its cursor.
      const again = sensor(ingest, {
        name: 'again',
        every: '1s',
        evaluate: () => ({ runs: [{ key: 'same', params: { path: '/in/same' } }] }),
      });
      await register([again]);
      const engine = await client([again]);
      const first = await pass(engine);
      await clock.advance(1000);
      const second = await pass(engine);
      expect(first[0]!.runs[0]).toMatchObject({ key: 'same', created: true });
      expect(second[0]!.runs[0]).toMatchObject({ key: 'same', created: false });
      expect(second[0]!.runs[0]!.run.id).toBe(first[0]!.runs[0]!.run.id);
      expect(await runsOf()).toHaveLength(1);
      expect((await store.getSensor('again'))?.lastRequested).toBe(1);
    });

    it('sensor cursor survives a restart', async () => {
      const files = ['a.csv'];
      const seen: (string | null)[] = [];
      await register([fileSensor(files, seen)]);
      await pass(await client([fileSensor(files, seen)]));
      expect((await store.getSensor('new-files'))?.cursor).toBe('a.csv');
      // The process ends; another starts on the same database, with the same code and one
      // more file.
      while (closers.length) await closers.pop()!();
      files.push('b.csv');
      const other = await reopen();
      closers.push(() => other.close());
      const restarted = fileSensor(files, seen);
      await register([restarted], other);
      await clock.advance(30_000);
      const [event] = await pass(await client([restarted], other), {}, other);
      expect(seen).toEqual([null, 'a.csv']);
      expect(event).toMatchObject({ from: 'a.csv', cursor: 'b.csv', error: null });
      expect((await runsOf()).map((r) => r.idempotencyKey)).toEqual([
        'sensor:new-files:a.csv',
        'sensor:new-files:b.csv',
      ]);
    });

    it('records a failed evaluation with the cursor unchanged, and reports it once', async () => {
      let fail = false;
      const seen: (string | null)[] = [];
      let n = 0;
      const flaky = sensor(ingest, {
        name: 'flaky',
        every: '10s',
        evaluate({ cursor }) {
          seen.push(cursor);
          if (fail) throw new Error('bucket unreachable');
          n++;
          return { runs: [{ key: `f${n}`, params: { path: `/in/${n}` } }], cursor: `c${n}` };
        },
      });
      await register([flaky]);
      const engine = await client([flaky]);
      const warnings: string[] = [];
      const warn = (message: string, error: unknown) =>
        warnings.push(`${message}: ${(error as Error).message}`);
      const duty = evaluateSensors({ engine, warn });
      const at = () => ({ store, now: clock.now(), signal: new AbortController().signal });
      await duty.run(at());
      fail = true;
      for (let i = 0; i < 3; i++) {
        await clock.advance(10_000);
        await duty.run(at());
      }
      expect(await store.getSensor('flaky')).toMatchObject({
        cursor: 'c1',
        lastError: 'bucket unreachable',
        evaluatedAt: clock.now(),
        lastRequested: 1,
      });
      expect(warnings).toEqual([
        'sensor flaky failed (its cursor stays; evaluated again in 10s): bucket unreachable',
      ]);
      fail = false;
      await clock.advance(10_000);
      await duty.run(at());
      expect(seen).toEqual([null, 'c1', 'c1', 'c1', 'c1']);
      expect(await store.getSensor('flaky')).toMatchObject({ cursor: 'c2', lastError: null });
      expect(await runsOf()).toHaveLength(2);
    });

    it('refuses a bad result or a run that cannot start, naming what to return', async () => {
      let result: unknown = 42;
      const odd = sensor(ingest, { name: 'odd', every: '1s', evaluate: () => result as never });
      await register([odd]);
      const engine = await client([odd]);
      const errorOf = async () => {
        await clock.advance(1000);
        const [event] = await pass(engine);
        return event!.error;
      };
      expect(await errorOf()).toMatch(/^sensor "odd" returned number 42; return \{ runs: \[/);
      result = { cursor: 'x' };
      expect(await errorOf()).toMatch(/returned no runs/);
      result = { runs: [{ params: { path: '/x' } }] };
      expect(await errorOf()).toMatch(/runs\[0\] with no key \(a key is a string of 1 to 200/);
      result = { runs: [{ key: 'k'.repeat(201) }] };
      expect(await errorOf()).toMatch(/runs\[0\] with the key a string of 201 characters/);
      result = { runs: [], cursor: 7 };
      expect(await errorOf()).toMatch(/a cursor that is number 7 \(a cursor is a string/);
      // Params the target refuses: the request's run cannot start, and nothing is recorded
      // as done (the cursor stays, the next evaluation asks again).
      result = {
        runs: [
          { key: 'ok', params: { path: '/ok' } },
          { key: 'bad', params: {} },
        ],
      };
      expect(await errorOf()).toMatch(/^the run of request "bad" could not start: /);
      expect(await store.getSensor('odd')).toMatchObject({ cursor: null, lastRequested: 0 });
      result = { runs: [{ key: 'ok', params: { path: '/ok' } }], cursor: 'done' };
      expect(await errorOf()).toBeNull();
      expect((await runsOf()).map((r) => r.idempotencyKey)).toEqual(['sensor:odd:ok']);
      expect((await store.getSensor('odd'))?.cursor).toBe('done');
    });

    it('evaluates a sensor once per interval, and not while paused', async () => {
      const seen: (string | null)[] = [];
      const s = fileSensor([], seen);
      await register([s]);
      const engine = await client([s]);
      await pass(engine);
      await clock.advance(10_000);
      expect(await pass(engine)).toEqual([]);
      await clock.advance(19_999);
      expect(await pass(engine)).toEqual([]);
      await clock.advance(1);
      expect(await pass(engine)).toHaveLength(1);
      expect(seen).toHaveLength(2);

      await store.setSensorPaused('new-files', true, clock.now());
      await clock.advance(120_000);
      expect(await pass(engine)).toEqual([]);
      // A worker registering it again does not resume it.
      await register([s]);
      expect((await store.getSensor('new-files'))?.paused).toBe(true);
      await store.setSensorPaused('new-files', false, clock.now());
      expect(await pass(engine)).toHaveLength(1);
      expect(seen).toHaveLength(3);
    });

    it('aborts an evaluation at its timeout and records the error', async () => {
      let signal: AbortSignal | null = null;
      const stuck = sensor(ingest, {
        name: 'stuck',
        every: '1m',
        timeout: '5s',
        // Never answers, nor listens to its signal.
        evaluate(context: SensorContext) {
          signal = context.signal;
          return new Promise<never>(() => undefined);
        },
      });
      await register([stuck]);
      const engine = await client([stuck]);
      // A clock of its own for the timeout (the engine's loop sleeps on the other).
      const timer = new ManualClock(T0);
      const running = pass(engine, { clock: timer });
      await vi.waitFor(() => expect(timer.pending).toBe(1));
      await timer.advance(4999);
      expect(signal).not.toBeNull();
      expect(signal!.aborted).toBe(false);
      await timer.advance(1);
      const [event] = await running;
      expect(signal!.aborted).toBe(true);
      expect(event!.error).toMatch(/took longer than its timeout of 5s/);
      expect(await store.getSensor('stuck')).toMatchObject({ cursor: null, evaluatedAt: T0 });
    });

    it('two evaluators racing: one records, one run per request', async () => {
      const seen: (string | null)[] = [];
      let arrived = 0;
      let release!: () => void;
      const both = new Promise<void>((resolve) => (release = resolve));
      const raced = sensor(ingest, {
        name: 'raced',
        every: '5s',
        async evaluate({ cursor }) {
          seen.push(cursor);
          // Both evaluations read the cursor before either records.
          if (++arrived === 2) release();
          await both;
          return { runs: [{ key: 'r1', params: { path: '/r1' } }], cursor: 'after-r1' };
        },
      });
      await register([raced]);
      const other = await reopen();
      closers.push(() => other.close());
      const [a, b] = await Promise.all([
        pass(await client([raced])),
        pass(await client([raced], other), {}, other),
      ]);
      expect(seen).toEqual([null, null]);
      expect([a[0]!.recorded, b[0]!.recorded].sort()).toEqual([false, true]);
      expect(await runsOf()).toHaveLength(1);
      expect((await store.getSensor('raced'))?.cursor).toBe('after-r1');
    });

    it("evaluates the engine's sensors as reloaded, in one loop of the cluster", async () => {
      const seen: (string | null)[] = [];
      const worker = new Engine({
        store,
        definitions: [ingest],
        clock,
        concurrency: 1,
        captureConsole: false,
      });
      await worker.start();
      closers.push(() => worker.stop());
      const other = await reopen();
      const loops = [store, other].map((s, i) =>
        sensorMaintenance({ store: s, engine: worker, clock, holderId: `wkr_${i}` }),
      );
      closers.push(async () => {
        for (const m of loops) await m.stop();
        await other.close();
      });
      for (const m of loops) await m.start();
      expect(loops.filter((m) => m.isLeader)).toHaveLength(1);
      expect(loops[0]!.leadershipName).toBe(SENSORS_LEADERSHIP);
      // Only the sensors duty: no lease or worker housekeeping.
      expect(loops[0]!.duties.map((d) => d.name)).toEqual(['evaluate sensors']);
      expect(await store.listSensors()).toEqual([]);

      // A reload (`weft dev`) brings a sensor: registered, then evaluated by the loop's leader.
      await worker.reload([ingest], [], [], [], [fileSensor(['a.csv'], seen)]);
      expect(worker.sensors.map((s) => s.name)).toEqual(['new-files']);
      await vi.waitFor(async () => {
        await clock.advance(1000);
        expect((await store.getSensor('new-files'))?.cursor).toBe('a.csv');
      });
      expect(seen).toEqual([null]);
      expect((await runsOf()).map((r) => r.idempotencyKey)).toEqual(['sensor:new-files:a.csv']);

      // The leader stops: the other takes over, from the stored cursor.
      const leader = loops.find((m) => m.isLeader)!;
      await leader.stop();
      await vi.waitFor(async () => {
        await clock.advance(1000);
        expect(loops.find((m) => m.isLeader)).toBeDefined();
      });
      await vi.waitFor(async () => {
        await clock.advance(5000);
        expect(seen.length).toBeGreaterThan(1);
      });
      expect(seen.slice(1).every((c) => c === 'a.csv')).toBe(true);
      expect(await runsOf()).toHaveLength(1);
    });
  });
}
