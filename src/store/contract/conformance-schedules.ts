/**
 * Conformance of schedules: registering them again without losing their state, pausing, the
 * cursor's compare and set that keeps two schedulers from handling one tick twice, deleting.
 *
 * ```ts
 * describeScheduleConformance('sqlite', async () => SqliteStore.open(tempFile()), cleanup, {
 *   openSecond: async () => SqliteStore.open(sameFile),
 * });
 * ```
 *
 * Like `conformance.ts`, it imports vitest: only test files import it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConformanceOptions } from './conformance.js';
import { T0 } from './conformance-fixtures.js';
import type { Store } from './store.js';
import type { NewSchedule, ScheduleRecord, ScheduleSpec } from './types.js';

function spec(overrides: Partial<ScheduleSpec> = {}): ScheduleSpec {
  return {
    cron: '0 * * * *',
    everyMs: null,
    timezone: 'UTC',
    params: { day: 'today', options: { full: true, regions: ['eu', 'us'] } },
    start: null,
    end: null,
    jitterMs: 0,
    catchUp: 'latest',
    maxCatchUp: 1,
    overlap: 'allow',
    ...overrides,
  };
}

function schedule(name: string, overrides: Partial<NewSchedule> = {}): NewSchedule {
  return { name, target: 'etl', spec: spec(), source: 'code', now: T0, ...overrides };
}

/** The record a schedule is stored as when first registered. */
function stored(s: NewSchedule): ScheduleRecord {
  return {
    name: s.name,
    target: s.target,
    spec: s.spec,
    source: s.source,
    paused: false,
    cursor: null,
    createdAt: s.now,
    updatedAt: s.now,
  };
}

export function describeScheduleConformance(
  name: string,
  open: () => Promise<Store>,
  close: (s: Store) => Promise<void> = (s) => s.close(),
  options: ConformanceOptions = {},
): void {
  describe(`store conformance: ${name}: schedules`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
      await store.migrate();
    });
    afterEach(async () => {
      await close(store);
    });

    it('registers schedules, lists them by name and gets one', async () => {
      expect(await store.listSchedules()).toEqual([]);
      await store.upsertSchedules([]);
      const nightly = schedule('nightly', {
        spec: spec({
          cron: null,
          everyMs: 86_400_000,
          timezone: 'Europe/Berlin',
          params: { b: [1, { y: null, x: 'é' }], a: 2.5 },
          start: T0 - 1000,
          end: T0 + 86_400_000 * 30,
          jitterMs: 500,
          catchUp: 'all',
          maxCatchUp: 3,
          overlap: 'cancel-previous',
        }),
      });
      const hourly = schedule('hourly', { target: 'billing', source: 'api' });
      await store.upsertSchedules([nightly, hourly]);
      expect(await store.listSchedules()).toEqual([stored(hourly), stored(nightly)]);
      expect(await store.getSchedule('nightly')).toEqual(stored(nightly));
      expect(await store.getSchedule('missing')).toBeNull();
    });

    it('registered again with the same spec, a schedule keeps its updatedAt', async () => {
      await store.upsertSchedules([schedule('hourly')]);
      // The same spec built with its keys in another order is the same spec.
      const s = spec();
      const reordered = Object.fromEntries(Object.entries(s).reverse()) as unknown as ScheduleSpec;
      reordered.params = { options: { regions: ['eu', 'us'], full: true }, day: 'today' };
      await store.upsertSchedules([schedule('hourly', { spec: reordered, now: T0 + 10 })]);
      expect(await store.getSchedule('hourly')).toEqual(stored(schedule('hourly')));
    });

    it('registered with a changed spec or target, it keeps its pause, cursor and creation', async () => {
      await store.upsertSchedules([schedule('hourly'), schedule('daily')]);
      await store.setSchedulePaused('hourly', true, T0 + 1);
      expect(await store.advanceSchedule('hourly', null, T0 + 3_600_000)).toBe(true);

      const changed = spec({ cron: '30 * * * *', params: { day: 'yesterday' } });
      await store.upsertSchedules([schedule('hourly', { spec: changed, now: T0 + 20 })]);
      expect(await store.getSchedule('hourly')).toEqual({
        ...stored(schedule('hourly', { spec: changed })),
        paused: true,
        cursor: T0 + 3_600_000,
        updatedAt: T0 + 20,
      });

      await store.upsertSchedules([schedule('daily', { target: 'billing', now: T0 + 30 })]);
      expect(await store.getSchedule('daily')).toMatchObject({
        target: 'billing',
        createdAt: T0,
        updatedAt: T0 + 30,
      });
      // Who registered it is recorded, but is no change of what it does.
      await store.upsertSchedules([
        schedule('daily', { target: 'billing', source: 'api', now: T0 + 40 }),
      ]);
      expect(await store.getSchedule('daily')).toMatchObject({ source: 'api', updatedAt: T0 + 30 });
    });

    it('registers a name given twice in one call once, as given last', async () => {
      const last = schedule('twice', { target: 'billing' });
      await store.upsertSchedules([schedule('twice'), last]);
      expect(await store.listSchedules()).toEqual([stored(last)]);
    });

    it('pauses and resumes; null for a schedule that does not exist', async () => {
      await store.upsertSchedules([schedule('hourly')]);
      const paused = await store.setSchedulePaused('hourly', true, T0 + 5);
      expect(paused).toEqual({ ...stored(schedule('hourly')), paused: true, updatedAt: T0 + 5 });
      // Pausing it again changes nothing.
      expect(await store.setSchedulePaused('hourly', true, T0 + 6)).toEqual(paused);
      const resumed = await store.setSchedulePaused('hourly', false, T0 + 7);
      expect(resumed).toMatchObject({ paused: false, updatedAt: T0 + 7 });
      expect(await store.getSchedule('hourly')).toEqual(resumed);
      expect(await store.setSchedulePaused('missing', true, T0 + 8)).toBeNull();
      expect(await store.getSchedule('missing')).toBeNull();
    });

    it('moves the cursor only from the value it has', async () => {
      await store.upsertSchedules([schedule('hourly')]);
      const first = T0 + 3_600_000;
      const second = T0 + 7_200_000;
      expect(await store.advanceSchedule('hourly', null, first)).toBe(true);
      expect(await store.getSchedule('hourly')).toMatchObject({ cursor: first, updatedAt: T0 });
      // Stale: another scheduler moved it already.
      expect(await store.advanceSchedule('hourly', null, second)).toBe(false);
      expect(await store.advanceSchedule('hourly', T0, second)).toBe(false);
      expect((await store.getSchedule('hourly'))?.cursor).toBe(first);
      expect(await store.advanceSchedule('hourly', first, second)).toBe(true);
      expect((await store.getSchedule('hourly'))?.cursor).toBe(second);
      expect(await store.advanceSchedule('missing', null, first)).toBe(false);
    });

    it('lets one of two schedulers advancing from the same cursor win', async () => {
      // Another store on the same database when there is one: another process.
      const other = options.openSecond ? await options.openSecond() : store;
      try {
        await store.upsertSchedules([schedule('hourly')]);
        let cursor: number | null = null;
        for (let round = 1; round <= 20; round++) {
          const mine = T0 + round * 1000;
          const theirs = mine + 1;
          const [a, b] = await Promise.all([
            store.advanceSchedule('hourly', cursor, mine),
            other.advanceSchedule('hourly', cursor, theirs),
          ]);
          expect([a, b].filter(Boolean)).toHaveLength(1);
          cursor = (await other.getSchedule('hourly'))!.cursor;
          expect(cursor).toBe(a ? mine : theirs);
        }
      } finally {
        if (other !== store) await other.close();
      }
    });

    it('deletes a schedule; false when there is none', async () => {
      await store.upsertSchedules([schedule('hourly'), schedule('daily')]);
      expect(await store.deleteSchedule('hourly')).toBe(true);
      expect(await store.getSchedule('hourly')).toBeNull();
      expect((await store.listSchedules()).map((s) => s.name)).toEqual(['daily']);
      expect(await store.deleteSchedule('hourly')).toBe(false);
      // Registered again, it starts afresh.
      await store.upsertSchedules([schedule('hourly', { now: T0 + 50 })]);
      expect(await store.getSchedule('hourly')).toEqual(
        stored(schedule('hourly', { now: T0 + 50 })),
      );
    });

    it('keeps named cursors', async () => {
      expect(await store.getCursor('events')).toBeNull();
      await store.setCursor('events', T0, T0);
      await store.setCursor('events', T0 + 5, T0 + 1);
      await store.setCursor('other', 7, T0);
      expect(await store.getCursor('events')).toBe(T0 + 5);
      expect(await store.getCursor('other')).toBe(7);
    });

    it('lists events sent since a time, oldest first, a page at a time', async () => {
      const send = (id: string, sentAt: number) =>
        store.sendEvent({ id, type: 't', payload: '1', sentAt });
      await send('evt_3', T0 + 20);
      await send('evt_1', T0 + 10);
      await send('evt_2', T0 + 10);
      await send('evt_0', T0 - 10);
      const ids = async (since: number, limit: number) =>
        (await store.listEventsSince(since, limit)).map((e) => e.id);
      expect(await ids(T0, 10)).toEqual(['evt_1', 'evt_2', 'evt_3']);
      expect(await ids(T0, 2)).toEqual(['evt_1', 'evt_2']);
      expect(await ids(T0 + 11, 10)).toEqual(['evt_3']);
    });
  });
}
