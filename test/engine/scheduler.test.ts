/**
 * The scheduler on real stores under a manual clock: ticks fire exactly once (also when the
 * scheduler dies between firing and recording it, and across three schedulers whose leader is
 * stopped mid-day), catch-up after a downtime, overlap policies, pause and resume, and
 * schedules declared in code registered by workers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../src/core/clock.js';
import { Engine } from '../../src/engine/index.js';
import { Maintenance } from '../../src/engine/maintenance.js';
import { scheduleTicks, tickKey, type TickEvent } from '../../src/engine/scheduler.js';
import { pipeline, schedule } from '../../src/index.js';
import type { Store } from '../../src/store/contract/index.js';
import { tempStore, type Backend } from '../server/helpers.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 2026-03-02 00:00 UTC. */
const T0 = Date.UTC(2026, 2, 2);

const report = pipeline(
  'report',
  { total: ({ region }: { region: string }) => region.length },
  { params: z.object({ region: z.string() }) },
);

const hourly = schedule(report, {
  name: 'hourly',
  cron: '0 * * * *',
  params: { region: 'eu' },
  catchUp: 'all',
  maxCatchUp: 5,
});

for (const backend of ['sqlite', 'postgres'] as Backend[]) {
  describe(`the scheduler (${backend})`, () => {
    let store: Store;
    let reopen: () => Promise<Store>;
    let cleanup: () => Promise<void>;
    let clock: ManualClock;
    let client: Engine;
    const closers: (() => Promise<void>)[] = [];

    beforeEach(async () => {
      ({ store, reopen, cleanup } = await tempStore(backend));
      clock = new ManualClock(T0 - 30 * 60_000);
      // A worker registers the schedule and the definition; a client engine submits runs.
      const worker = new Engine({
        store,
        definitions: [report],
        schedules: [hourly],
        clock,
        worker: true,
        concurrency: 1,
        captureConsole: false,
      });
      await worker.start();
      // Registered, it runs nothing more: runs the scheduler starts stay queued.
      await worker.stop();
      client = new Engine({ store, definitions: [], clock, worker: false, captureConsole: false });
      await client.start();
    });

    afterEach(async () => {
      while (closers.length) await closers.pop()!();
      await client.stop();
      await cleanup();
    });

    /** One pass of the scheduler at the clock's time. */
    async function pass(events: TickEvent[] = [], on: Store = store): Promise<TickEvent[]> {
      const duty = scheduleTicks({ engine: client, onTick: (e) => events.push(e) });
      await duty.run({ store: on, now: clock.now(), signal: new AbortController().signal });
      return events;
    }

    const runsOf = async () =>
      (await store.listRuns({ definition: 'report' })).filter(
        (r) => r.trigger === 'schedule:hourly',
      );

    it('registers schedules declared in code, and fires each tick once', async () => {
      expect(await store.getSchedule('hourly')).toMatchObject({
        target: 'report',
        source: 'code',
        paused: false,
        cursor: null,
      });
      await pass();
      expect(await runsOf()).toHaveLength(0); // no tick before the schedule existed
      for (let h = 0; h < 6; h++) {
        await clock.advance(HOUR);
        await pass();
        await pass(); // a second pass at the same time fires nothing more
      }
      const runs = await runsOf();
      expect(runs).toHaveLength(6);
      expect(runs.map((r) => r.idempotencyKey).sort()).toEqual(
        Array.from({ length: 6 }, (_, h) => tickKey('hourly', T0 + h * HOUR)).sort(),
      );
      expect((await store.getSchedule('hourly'))?.cursor).toBe(T0 + 5 * HOUR);
    });

    it('fires a tick once when the scheduler dies before recording it', async () => {
      await clock.advance(HOUR);
      // The first scheduler fires the tick, then fails to move the cursor (it died).
      const failing = new Proxy(store, {
        get(target, property) {
          if (property === 'advanceSchedule') return () => Promise.reject(new Error('died'));
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
        },
      });
      const warnings: unknown[] = [];
      const duty = scheduleTicks({ engine: client, warn: (_m, e) => warnings.push(e) });
      await duty.run({ store: failing, now: clock.now(), signal: new AbortController().signal });
      expect(warnings).toHaveLength(1);
      const events = await pass();
      expect(events).toEqual([expect.objectContaining({ kind: 'fired', created: false })]);
      expect(await runsOf()).toHaveLength(1);
    });

    it('catches up after a downtime by its policy', async () => {
      await clock.advance(HOUR);
      await pass();
      await clock.advance(3 * DAY); // 72 ticks missed
      const events = await pass();
      const fired = events.filter((e) => e.kind === 'fired');
      expect(fired).toHaveLength(5); // maxCatchUp, the latest ones
      expect(events.find((e) => e.kind === 'missed')).toMatchObject({ count: 67 });
      expect((await runsOf()).length).toBe(6);
    });

    it('skips or cancels while the previous run is unfinished', async () => {
      const skipper = schedule(report, {
        name: 'skipper',
        cron: '0 * * * *',
        params: { region: 'us' },
        overlap: 'skip',
      });
      const canceller = schedule(report, {
        name: 'canceller',
        cron: '0 * * * *',
        params: { region: 'ap' },
        overlap: 'cancel-previous',
      });
      await store.upsertSchedules(
        [skipper, canceller].map((s) => ({
          name: s.name,
          target: 'report',
          spec: s.spec,
          source: 'code' as const,
          now: clock.now(),
        })),
      );
      await store.setSchedulePaused('hourly', true, clock.now());
      await clock.advance(HOUR);
      await pass();
      await clock.advance(HOUR);
      const events = await pass();
      expect(events).toContainEqual(
        expect.objectContaining({ kind: 'skipped', schedule: 'skipper' }),
      );
      const cancelled = (await store.listRuns({ definition: 'report', status: 'cancelled' })).map(
        (r) => r.trigger,
      );
      expect(cancelled).toEqual(['schedule:canceller']);
      const queued = (await store.listRuns({ definition: 'report', status: 'queued' })).map(
        (r) => r.trigger,
      );
      expect(queued.sort()).toEqual(['schedule:canceller', 'schedule:skipper']);
    });

    it('fires nothing while paused; on resume, missed ticks follow the catch-up policy', async () => {
      await store.setSchedulePaused('hourly', true, clock.now());
      await clock.advance(10 * HOUR);
      await pass();
      expect(await runsOf()).toHaveLength(0);
      // A worker starting again registers the schedule: it stays paused.
      const again = new Engine({
        store,
        definitions: [report],
        schedules: [hourly],
        clock,
        captureConsole: false,
      });
      await again.start();
      await again.stop();
      expect((await store.getSchedule('hourly'))?.paused).toBe(true);
      await store.setSchedulePaused('hourly', false, clock.now());
      await pass();
      expect(await runsOf()).toHaveLength(5);
    });

    it('three schedulers, leader stopped mid-day: every tick fires exactly once', async () => {
      const stores = [store, await reopen(), await reopen()];
      const schedulers = stores.map(
        (s, i) =>
          new Maintenance({
            store: s,
            clock,
            intervalMs: 5 * 60_000,
            holderId: `srv_${i}`,
            duties: [scheduleTicks({ engine: client })],
          }),
      );
      for (const m of schedulers) await m.start();
      closers.push(async () => {
        for (const m of schedulers) await m.stop();
        for (const s of stores.slice(1)) await s.close();
      });
      const step = async () => {
        await clock.advance(5 * 60_000);
        // Let the loops and their store calls run at this time before moving on.
        for (let i = 0; i < 8; i++) await new Promise((r) => setTimeout(r, 2));
      };
      for (let i = 0; i < 12 * 12; i++) await step();
      const leader = schedulers.find((m) => m.isLeader)!;
      expect(leader).toBeDefined();
      await leader.stop();
      for (let i = 0; i < 12 * 12 + 5; i++) await step();
      const keys = (await runsOf()).map((r) => r.idempotencyKey);
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys.sort()).toEqual(
        Array.from({ length: 24 }, (_, h) => tickKey('hourly', T0 + h * HOUR)).sort(),
      );
    });
  });
}
