/**
 * Partitions, backfills and held runs on real stores: a backfill of 90 daily partitions with
 * at most 4 runs unfinished at once, paused and resumed, cancelled, failing; a pipeline's max
 * active runs and a schedule's overlap `queue` holding runs until earlier ones finish; a
 * schedule of a partitioned pipeline computing the partition that just ended.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../src/core/clock.js';
import { InputError } from '../../src/core/errors.js';
import {
  advanceBackfills,
  backfillProgress,
  backfillRunKey,
  changeBackfill,
  partitionStatuses,
  startBackfill,
} from '../../src/engine/backfills.js';
import { Engine } from '../../src/engine/index.js';
import { scheduleTicks } from '../../src/engine/scheduler.js';
import { partitions, pipeline, schedule } from '../../src/index.js';
import type { Store } from '../../src/store/contract/index.js';
import type { BackfillRecord, RunRecord } from '../../src/store/contract/types.js';
import { tempStore, type Backend } from '../server/helpers.js';

const DAY = 86_400_000;
/** 2026-04-01 12:00 UTC: 90 daily partitions from 2026-01-01 are complete. */
const NOW = Date.UTC(2026, 3, 1, 12);

/** Days that must fail (a failing backfill). */
const failing = new Set<string>();

const daily = pipeline(
  'daily_sales',
  {
    total: ({ day, region }: { day: string; region: string }) => {
      if (failing.has(day)) throw new Error(`no data for ${day}`);
      return `${region}:${day}`;
    },
  },
  {
    params: z.object({ day: z.string(), region: z.string().default('eu') }),
    partitions: partitions.daily({ param: 'day', start: '2026-01-01' }),
  },
);

const single = pipeline(
  'single_file',
  { copy: ({ file }: { file: string }) => file },
  { params: z.object({ file: z.string() }), maxActiveRuns: 1 },
);

const copy = pipeline(
  'copy_file',
  { copy: ({ file }: { file: string }) => file },
  { params: z.object({ file: z.string() }) },
);

const nightly = schedule(daily, { name: 'nightly', cron: '5 0 * * *', params: { region: 'us' } });
const queued = schedule(copy, {
  name: 'every-minute',
  cron: '* * * * *',
  params: { file: 'a.csv' },
  overlap: 'queue',
});

for (const backend of ['sqlite', 'postgres'] as Backend[]) {
  describe(`partitions and backfills (${backend})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let clock: ManualClock;
    /** Submits runs and launches backfills; runs nothing. */
    let client: Engine;
    let worker: Engine | null = null;

    beforeEach(async () => {
      failing.clear();
      ({ store, cleanup } = await tempStore(backend));
      clock = new ManualClock(NOW);
      // A worker registers the definitions and schedules, then stops: a client engine submits.
      const registrar = new Engine({
        store,
        definitions: [daily, single, copy],
        schedules: [nightly, queued],
        clock,
        worker: true,
        concurrency: 1,
        captureConsole: false,
      });
      await registrar.start();
      await registrar.stop();
      client = new Engine({
        store,
        definitions: [daily, single, copy],
        clock,
        worker: false,
        captureConsole: false,
      });
      await client.start();
    });

    afterEach(async () => {
      await worker?.stop();
      worker = null;
      await client.stop();
      await cleanup();
    });

    async function startWorker(): Promise<Engine> {
      worker = new Engine({
        store,
        definitions: [daily, single, copy],
        clock,
        worker: true,
        concurrency: 8,
        pollMs: 20,
        captureConsole: false,
      });
      await worker.start();
      return worker;
    }

    /** One pass of the backfill launcher. */
    async function launch(): Promise<void> {
      const duty = advanceBackfills({ engine: client });
      await duty.run({ store, now: clock.now(), signal: new AbortController().signal });
    }

    const backfillRuns = async (b: BackfillRecord): Promise<RunRecord[]> =>
      (await store.listRuns({ definition: 'daily_sales' })).filter(
        (r) => r.trigger === `backfill:${b.id}`,
      );

    /** Waits until every run of the backfill created so far has finished. */
    async function settle(b: BackfillRecord): Promise<void> {
      for (const run of await backfillRuns(b)) await client.wait(run.id);
    }

    it('lists every partition with the status of its latest run', async () => {
      await client.submit('daily_sales', { params: { day: '2026-01-02' } });
      const view = await partitionStatuses(client, 'daily_sales');
      expect(view.total).toBe(90);
      expect(view.partitions[0]).toEqual({
        key: '2026-01-01',
        status: 'missing',
        runId: null,
        finishedAt: null,
      });
      expect(view.partitions[1]).toMatchObject({ key: '2026-01-02', status: 'queued' });
      expect(view.counts).toEqual({ missing: 89, queued: 1 });
      expect(
        (await partitionStatuses(client, 'daily_sales', { limit: 7 })).partitions,
      ).toHaveLength(7);
      // A run's partition is its partition param, checked against the partitions that exist.
      const run = await client.submit('daily_sales', { params: { day: '2026-03-31' } });
      expect(run.partition).toBe('2026-03-31');
      await expect(
        client.submit('daily_sales', { params: { day: '2026-04-01' } }),
      ).rejects.toBeInstanceOf(InputError);
      await expect(
        client.submit('daily_sales', { params: { day: 'yesterday' } }),
      ).rejects.toBeInstanceOf(InputError);
    });

    it('backfills 90 daily partitions with at most 4 unfinished runs, paused and resumed', async () => {
      const backfill = await startBackfill(client, {
        target: 'daily_sales',
        from: '2026-01-01',
        to: '2026-03-31',
        params: { region: 'us' },
        maxConcurrent: 4,
      });
      expect(backfill).toMatchObject({ status: 'running', launched: 0, maxConcurrent: 4 });
      expect(backfill.partitions).toHaveLength(90);

      // Without a worker, launching again starts nothing more: 4 runs stay unfinished.
      await launch();
      await launch();
      expect(await backfillRuns(backfill)).toHaveLength(4);
      expect((await store.getBackfill(backfill.id))!.launched).toBe(4);

      await startWorker();
      let passes = 0;
      let paused = false;
      for (;;) {
        const current = (await store.getBackfill(backfill.id))!;
        if (current.status === 'succeeded' || current.status === 'failed') break;
        await launch();
        const unfinished = (await backfillRuns(backfill)).filter(
          (r) => !['succeeded', 'failed', 'cancelled'].includes(r.status),
        );
        expect(unfinished.length).toBeLessThanOrEqual(4);
        await settle(backfill);
        passes++;
        if (passes === 5 && !paused) {
          paused = true;
          const p = await changeBackfill(client, backfill.id, 'pause');
          expect(p.status).toBe('paused');
          const before = (await backfillRuns(backfill)).length;
          await launch();
          await launch();
          expect(await backfillRuns(backfill)).toHaveLength(before);
          await expect(changeBackfill(client, backfill.id, 'pause')).rejects.toThrow(
            /only a running backfill can be paused/,
          );
          expect((await changeBackfill(client, backfill.id, 'resume')).status).toBe('running');
        }
        expect(passes).toBeLessThan(40);
      }
      const done = (await store.getBackfill(backfill.id))!;
      expect(done).toMatchObject({ status: 'succeeded', launched: 90 });
      expect(done.finishedAt).toBe(NOW);
      const runs = await backfillRuns(backfill);
      expect(runs).toHaveLength(90);
      expect(new Set(runs.map((r) => r.partition)).size).toBe(90);
      expect(runs.map((r) => r.idempotencyKey).sort()).toEqual(
        backfill.partitions.map((k) => backfillRunKey(backfill.id, k)).sort(),
      );
      expect(await client.outputs(runs[0]!.id)).toEqual({ total: `us:${runs[0]!.partition}` });
      const progress = await backfillProgress(client, done);
      expect(progress.counts).toEqual({ succeeded: 90 });
      expect((await partitionStatuses(client, 'daily_sales')).counts).toEqual({ succeeded: 90 });
      // Finished, it launches nothing more.
      await launch();
      expect(await backfillRuns(backfill)).toHaveLength(90);
    });

    it('cancels a backfill with its unfinished runs, and fails one whose run failed', async () => {
      const first = await startBackfill(client, {
        target: 'daily_sales',
        from: '2026-02-01',
        to: '2026-02-10',
        maxConcurrent: 3,
      });
      await launch();
      const cancelled = await changeBackfill(client, first.id, 'cancel');
      expect(cancelled).toMatchObject({ status: 'cancelled', launched: 3 });
      const runs = await backfillRuns(first);
      expect(runs.map((r) => r.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
      await launch();
      expect(await backfillRuns(first)).toHaveLength(3);
      await expect(changeBackfill(client, first.id, 'resume')).rejects.toThrow(/is cancelled/);

      failing.add('2026-03-02');
      const second = await startBackfill(client, {
        target: 'daily_sales',
        partitions: ['2026-03-01', '2026-03-02'],
      });
      await startWorker();
      await launch();
      await settle(second);
      await launch();
      const failed = (await store.getBackfill(second.id))!;
      expect(failed.status).toBe('failed');
      expect((await backfillProgress(client, failed)).counts).toEqual({
        succeeded: 1,
        failed: 1,
      });
    });

    it('refuses a backfill it cannot run, naming what is wrong', async () => {
      const bad = (request: Parameters<typeof startBackfill>[1]) =>
        startBackfill(client, request).catch((e: Error) => e.message);
      expect(await bad({ target: 'daily_sales', from: '2026-03-01', to: '2026-02-01' })).toMatch(
        /after/,
      );
      expect(await bad({ target: 'daily_sales', from: '2025-12-31' })).toMatch(/2025-12-31/);
      expect(await bad({ target: 'daily_sales', params: { day: '2026-01-01' } })).toMatch(
        /partition param/,
      );
      expect(await bad({ target: 'daily_sales', maxConcurrent: 0 })).toMatch(/maxConcurrent/);
      expect(await bad({ target: 'daily_sales', params: { region: 7 } })).toMatch(/region/);
      expect(await bad({ target: 'single_file' })).toMatch(/has no partitions/);
      expect(await bad({ target: 'nothing' })).toMatch(/nothing/);
    });

    it('holds runs beyond max active runs and lets them in as runs finish', async () => {
      const runs = [];
      for (const file of ['a', 'b', 'c']) {
        runs.push(await client.submit('single_file', { params: { file } }));
      }
      expect(runs.map((r) => r.held)).toEqual([false, true, true]);
      await startWorker();
      for (const run of runs) await client.wait(run.id);
      const finished = await Promise.all(runs.map((r) => store.getRun(r.id)));
      expect(finished.map((r) => r!.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
      // One at a time: each started after the previous one finished.
      for (let i = 1; i < finished.length; i++) {
        expect(finished[i]!.startedAt!).toBeGreaterThanOrEqual(finished[i - 1]!.finishedAt!);
      }
    });

    it('queues a schedule’s ticks while its previous run is unfinished (overlap queue)', async () => {
      const fire = async () =>
        scheduleTicks({ engine: client }).run({
          store,
          now: clock.now(),
          signal: new AbortController().signal,
        });
      await fire();
      for (let m = 0; m < 3; m++) {
        await clock.advance(60_000);
        await fire();
      }
      // Four ticks (at 12:00 and the next three minutes); a manual run is not queued.
      const manual = await client.submit('copy_file', { params: { file: 'b.csv' } });
      expect(manual.held).toBe(false);
      const runs = (await store.listRuns({ definition: 'copy_file' }))
        .filter((r) => r.trigger === 'schedule:every-minute')
        .reverse();
      expect(runs.map((r) => r.held)).toEqual([false, true, true, true]);
      await startWorker();
      for (const run of runs) await client.wait(run.id);
      const finished = await Promise.all(runs.map(async (r) => (await store.getRun(r.id))!));
      expect(finished.map((r) => r.status)).toEqual(Array(4).fill('succeeded'));
      // In tick order, one at a time.
      for (let i = 1; i < finished.length; i++) {
        expect(finished[i]!.startedAt!).toBeGreaterThanOrEqual(finished[i - 1]!.finishedAt!);
      }
    });

    it('a schedule of a partitioned pipeline runs the partition that just ended', async () => {
      clock.set(Date.UTC(2026, 3, 2, 0, 4));
      const fire = async () =>
        scheduleTicks({ engine: client }).run({
          store,
          now: clock.now(),
          signal: new AbortController().signal,
        });
      await fire();
      await clock.advance(2 * 60_000);
      await fire();
      const runs = (await store.listRuns({ definition: 'daily_sales' })).filter(
        (r) => r.trigger === 'schedule:nightly',
      );
      expect(runs).toHaveLength(1);
      expect(runs[0]!.partition).toBe('2026-04-01');
      expect(JSON.parse(runs[0]!.input)).toEqual({ day: '2026-04-01', region: 'us' });
    });
  });
}

void DAY;
