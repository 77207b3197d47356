/**
 * Conformance of held runs (max active runs per definition, a schedule's overlap `queue`),
 * partitions, backfills and sensors.
 *
 * ```ts
 * describePartitionConformance('sqlite', async () => SqliteStore.open(tempFile()), cleanup, {
 *   openSecond: async () => SqliteStore.open(sameFile),
 * });
 * ```
 *
 * Like `conformance.ts`, it imports vitest: only test files import it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConformanceOptions } from './conformance.js';
import { done, failed, LEASE, newRun, step, T0, W } from './conformance-fixtures.js';
import type { Store } from './store.js';
import { WORKFLOW_STEP_KEY, type ClaimedStep, type NewRun, type RunRecord } from './types.js';

export function describePartitionConformance(
  name: string,
  open: () => Promise<Store>,
  close: (s: Store) => Promise<void> = (s) => s.close(),
  options: ConformanceOptions = {},
): void {
  describe(`store conformance: ${name}: held runs, partitions, backfills, sensors`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
      await store.migrate();
    });
    afterEach(async () => {
      await close(store);
    });

    const claim = (now = T0 + 10, limit = 100): Promise<ClaimedStep[]> =>
      store.claimSteps({ workerId: W, limit, now, leaseMs: LEASE });

    async function create(overrides: Partial<NewRun> = {}): Promise<RunRecord> {
      return (await store.createRun(newRun(overrides), [step('a')])).run;
    }

    /** Ids of the definition's unfinished runs that are not held. */
    async function active(definition = 'etl'): Promise<string[]> {
      const runs = await store.listRuns({ definition });
      return runs
        .filter((r) => !r.held && ['queued', 'running', 'waiting'].includes(r.status))
        .map((r) => r.id)
        .sort();
    }

    describe('max active runs', () => {
      it('holds runs beyond the limit, out of every claim, until a run finishes', async () => {
        const runs: RunRecord[] = [];
        for (let i = 0; i < 4; i++) runs.push(await create({ maxActive: 2 }));
        expect(runs.map((r) => r.held)).toEqual([false, false, true, true]);
        expect(runs.every((r) => r.status === 'queued')).toBe(true);
        // A run without the gate is not held, and does not count.
        const free = await create();
        expect(free.held).toBe(false);

        const claimed = await claim();
        expect(claimed.map((c) => c.runId).sort()).toEqual(
          [runs[0]!.id, runs[1]!.id, free.id].sort(),
        );
        expect(await store.nextWakeAt(T0 + 10)).toBeNull();

        // The first run finishing lets the oldest held run in, and only that one.
        await store.completeStep(
          done(
            claimed.find((c) => c.runId === runs[0]!.id)!,
            T0 + 20,
          ),
        );
        expect((await store.getRun(runs[2]!.id))!.held).toBe(false);
        expect((await store.getRun(runs[3]!.id))!.held).toBe(true);
        const next = await claim(T0 + 30);
        expect(next.map((c) => c.runId)).toEqual([runs[2]!.id]);
        expect(await active()).toEqual([runs[1]!.id, runs[2]!.id, free.id]);
      });

      it('lets a failed or cancelled run make room, and a held run can be cancelled', async () => {
        const runs: RunRecord[] = [];
        for (let i = 0; i < 4; i++) runs.push(await create({ maxActive: 1 }));
        const [first] = await claim();
        // A final failure finishes the run: the next held run goes.
        await store.failStep(failed(first!, T0 + 20));
        expect((await store.getRun(runs[0]!.id))!.status).toBe('failed');
        expect(await active()).toEqual([runs[1]!.id]);
        // Cancelling the held last run changes nothing for the others.
        await store.cancelRun(runs[3]!.id, T0 + 30, 'not needed');
        const cancelled = (await store.getRun(runs[3]!.id))!;
        expect(cancelled).toMatchObject({ status: 'cancelled', held: false });
        expect(await active()).toEqual([runs[1]!.id]);
        // Cancelling the active run lets the next one in.
        await store.cancelRun(runs[1]!.id, T0 + 40, 'stop');
        expect(await active()).toEqual([runs[2]!.id]);
        const [third] = await claim(T0 + 50);
        expect(third!.runId).toBe(runs[2]!.id);
      });

      it('lets held runs in by priority, then oldest first', async () => {
        const running = await create({ maxActive: 1 });
        const low = await create({ maxActive: 1 });
        const high = await create({ maxActive: 1, priority: 5 });
        const [c] = await claim();
        expect(c!.runId).toBe(running.id);
        await store.completeStep(done(c!, T0 + 20));
        expect(await active()).toEqual([high.id]);
        expect((await store.getRun(low.id))!.held).toBe(true);
      });

      it('holds a workflow run: its $run step waits until the run is let in', async () => {
        const wf = (): Promise<RunRecord> =>
          store
            .createRun(newRun({ kind: 'workflow', definition: 'onboard', maxActive: 1 }), [
              step(WORKFLOW_STEP_KEY, [], { kind: 'run' }),
            ])
            .then((r) => r.run);
        const first = await wf();
        const second = await wf();
        expect(second.held).toBe(true);
        const [c] = await claim();
        expect(c!.runId).toBe(first.id);
        expect(await claim(T0 + 11)).toEqual([]);
        await store.completeStep(done(c!, T0 + 20));
        const [next] = await claim(T0 + 30);
        expect(next).toMatchObject({ runId: second.id, key: WORKFLOW_STEP_KEY });
      });

      it('creating a run with a claim claims nothing of a held run', async () => {
        await create({ maxActive: 1 });
        const created = await store.createRun(newRun({ maxActive: 1 }), [step('a')], {
          workerId: W,
          limit: 5,
          leaseMs: LEASE,
        });
        expect(created.run.held).toBe(true);
        expect(created.claimed).toEqual([]);
      });

      it.skipIf(!options.openSecond)(
        'two stores creating and finishing runs at once never exceed the limit',
        async () => {
          const second = await options.openSecond!();
          try {
            const stores = [store, second];
            const created = await Promise.all(
              Array.from({ length: 12 }, (_, i) =>
                stores[i % 2]!.createRun(newRun({ maxActive: 3 }), [step('a')]),
              ),
            );
            expect(created.filter((c) => !c.run.held)).toHaveLength(3);
            let now = T0 + 100;
            let finished = 0;
            while (finished < 12) {
              expect((await active()).length).toBeLessThanOrEqual(3);
              const claimed = await claim(now);
              expect(claimed.length).toBeGreaterThan(0);
              expect(claimed.length).toBeLessThanOrEqual(3);
              now += 10;
              // Both stores complete at once: each finish lets one held run in.
              await Promise.all(claimed.map((c, i) => stores[i % 2]!.completeStep(done(c, now))));
              finished += claimed.length;
            }
            expect(await active()).toEqual([]);
            const runs = await store.listRuns({ definition: 'etl' });
            expect(runs.every((r) => r.status === 'succeeded' && !r.held)).toBe(true);
          } finally {
            await close(second);
          }
        },
      );
    });

    describe('serial runs (overlap queue)', () => {
      it('holds a run while one with its trigger is unfinished', async () => {
        const t = 'schedule:nightly';
        const first = await create({ serial: true, trigger: t });
        const second = await create({ serial: true, trigger: t });
        const other = await create({ serial: true, trigger: 'schedule:hourly' });
        const manual = await create();
        expect([first.held, second.held, other.held, manual.held]).toEqual([
          false,
          true,
          false,
          false,
        ]);
        const claimed = await claim();
        expect(claimed.map((c) => c.runId).sort()).toEqual([first.id, other.id, manual.id].sort());
        await store.completeStep(
          done(
            claimed.find((c) => c.runId === first.id)!,
            T0 + 20,
          ),
        );
        expect((await store.getRun(second.id))!.held).toBe(false);
        expect((await claim(T0 + 30)).map((c) => c.runId)).toEqual([second.id]);
      });
    });

    describe('partitions', () => {
      it('keeps a run’s partition and finds the latest run of each partition', async () => {
        const r1 = await create({ partition: '2026-01-01' });
        expect(r1.partition).toBe('2026-01-01');
        expect((await store.getRun(r1.id))!.partition).toBe('2026-01-01');
        const [c1] = await claim();
        await store.failStep(failed(c1!, T0 + 20));
        const r2 = await create({ partition: '2026-01-01', trigger: 'backfill:bf_1' });
        const r3 = await create({ partition: '2026-01-02', trigger: 'backfill:bf_1' });
        await create({ partition: '2026-01-03', definition: 'other' });
        await create();

        const latest = await store.latestPartitionRuns('etl');
        expect(latest.map((p) => [p.partition, p.runId, p.status])).toEqual([
          ['2026-01-01', r2.id, 'queued'],
          ['2026-01-02', r3.id, 'queued'],
        ]);
        expect(latest[0]).toMatchObject({ createdAt: T0, finishedAt: null });
        expect(await store.latestPartitionRuns('etl', { trigger: 'backfill:bf_1' })).toHaveLength(
          2,
        );
        expect(await store.latestPartitionRuns('etl', { trigger: 'backfill:none' })).toEqual([]);
        expect(await store.countUnfinishedRuns('backfill:bf_1')).toBe(2);
        const claimed = await claim(T0 + 30);
        await store.completeStep(
          done(
            claimed.find((c) => c.runId === r2.id)!,
            T0 + 40,
          ),
        );
        expect(await store.countUnfinishedRuns('backfill:bf_1')).toBe(1);
        const after = await store.latestPartitionRuns('etl');
        expect(after[0]).toMatchObject({ status: 'succeeded', finishedAt: T0 + 40 });
      });
    });

    describe('backfills', () => {
      const backfill = {
        id: 'bf_0001',
        target: 'etl',
        partitions: ['2026-01-01', '2026-01-02', '2026-01-03'],
        params: { region: 'eu' },
        maxConcurrent: 2,
        now: T0,
      };

      it('creates, gets and lists backfills, newest first', async () => {
        const created = await store.createBackfill(backfill);
        expect(created).toEqual({
          id: 'bf_0001',
          target: 'etl',
          partitions: backfill.partitions,
          params: { region: 'eu' },
          maxConcurrent: 2,
          status: 'running',
          launched: 0,
          createdAt: T0,
          updatedAt: T0,
          finishedAt: null,
        });
        await store.createBackfill({ ...backfill, id: 'bf_0002', target: 'billing' });
        expect(await store.getBackfill('bf_0001')).toEqual(created);
        expect(await store.getBackfill('bf_none')).toBeNull();
        expect((await store.listBackfills()).map((b) => b.id)).toEqual(['bf_0002', 'bf_0001']);
        expect((await store.listBackfills({ target: 'etl' })).map((b) => b.id)).toEqual([
          'bf_0001',
        ]);
        expect(await store.listBackfills({ status: 'paused' })).toEqual([]);
        expect(await store.listBackfills({ limit: 1 })).toHaveLength(1);
      });

      it('changes a backfill only from the state read (compare and set)', async () => {
        await store.createBackfill(backfill);
        const from = { status: 'running' as const, launched: 0 };
        const launched = await store.updateBackfill({ id: 'bf_0001', from, launched: 2, now: 5 });
        expect(launched).toMatchObject({ launched: 2, status: 'running', updatedAt: 5 });
        // A second writer that read the same state loses.
        expect(await store.updateBackfill({ id: 'bf_0001', from, launched: 2, now: 6 })).toBeNull();
        const paused = await store.updateBackfill({
          id: 'bf_0001',
          from: { status: 'running', launched: 2 },
          status: 'paused',
          now: 7,
        });
        expect(paused).toMatchObject({ status: 'paused', launched: 2, finishedAt: null });
        const cancelled = await store.updateBackfill({
          id: 'bf_0001',
          from: { status: 'paused', launched: 2 },
          status: 'cancelled',
          now: 8,
        });
        expect(cancelled).toMatchObject({ status: 'cancelled', finishedAt: 8 });
        expect(
          await store.updateBackfill({ id: 'bf_none', from, status: 'paused', now: 9 }),
        ).toBeNull();
      });
    });

    describe('sensors', () => {
      const sensor = { name: 'new-files', target: 'etl', intervalMs: 30_000, now: T0 };

      it('registers sensors again without losing their cursor or pause', async () => {
        expect(await store.listSensors()).toEqual([]);
        await store.upsertSensors([sensor, { ...sensor, name: 'a-sensor', target: 'billing' }]);
        expect((await store.listSensors()).map((s) => s.name)).toEqual(['a-sensor', 'new-files']);
        expect(await store.getSensor('new-files')).toEqual({
          name: 'new-files',
          target: 'etl',
          intervalMs: 30_000,
          paused: false,
          cursor: null,
          evaluatedAt: null,
          lastError: null,
          lastRequested: 0,
          createdAt: T0,
          updatedAt: T0,
        });
        await store.recordSensorEvaluation({
          name: 'new-files',
          from: null,
          cursor: 'c1',
          at: T0 + 1,
          error: null,
          requested: 3,
        });
        expect(await store.setSensorPaused('new-files', true, T0 + 2)).toMatchObject({
          paused: true,
          updatedAt: T0 + 2,
        });
        await store.upsertSensors([{ ...sensor, intervalMs: 60_000, now: T0 + 3 }]);
        expect(await store.getSensor('new-files')).toMatchObject({
          intervalMs: 60_000,
          paused: true,
          cursor: 'c1',
          evaluatedAt: T0 + 1,
          lastRequested: 3,
          createdAt: T0,
          updatedAt: T0 + 3,
        });
        expect(await store.setSensorPaused('missing', true, T0)).toBeNull();
        expect(await store.getSensor('missing')).toBeNull();
      });

      it('records an evaluation only from the cursor read (compare and set)', async () => {
        await store.upsertSensors([sensor]);
        const ok = { name: 'new-files', from: null, at: T0 + 1, error: null, requested: 2 };
        expect(await store.recordSensorEvaluation({ ...ok, cursor: 'c1' })).toBe(true);
        // Another evaluator that read the same (null) cursor records nothing.
        expect(await store.recordSensorEvaluation({ ...ok, cursor: 'c1-other' })).toBe(false);
        // A failure keeps the cursor and the last count of requests.
        const failure = { name: 'new-files', from: 'c1', cursor: 'c1', at: T0 + 2, requested: 0 };
        expect(await store.recordSensorEvaluation({ ...failure, error: 'list failed' })).toBe(true);
        expect(await store.getSensor('new-files')).toMatchObject({
          cursor: 'c1',
          evaluatedAt: T0 + 2,
          lastError: 'list failed',
          lastRequested: 2,
        });
        expect(
          await store.recordSensorEvaluation({ ...failure, at: T0 + 3, error: null, requested: 0 }),
        ).toBe(true);
        expect(await store.getSensor('new-files')).toMatchObject({
          lastError: null,
          lastRequested: 0,
        });
      });
    });
  });
}
