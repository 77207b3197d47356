/**
 * The store conformance suite: what every {@link Store} implementation must do, written once
 * against the contract alone. A backend is done when this suite passes on it.
 *
 * ```ts
 * describeStoreConformance('sqlite', async () => SqliteStore.open(tempFile()), cleanup, {
 *   openSecond: async () => SqliteStore.open(sameFile),
 * });
 * ```
 *
 * The workflow part of the contract has its suite in `conformance-workflows.ts`, run from here.
 * These files import vitest, so they are excluded from the build; only test files import them.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StepStatus } from '../../core/states.js';
import { LEASE, T0, W, done, failed, newRun, step } from './conformance-fixtures.js';
import { describeDistributedConformance } from './conformance-distributed.js';
import { describeWorkflowConformance } from './conformance-workflows.js';
import type { Store } from './store.js';
import type { ClaimedStep, CompleteStep, CreateClaim, NewRun, NewStep } from './types.js';

export interface ConformanceOptions {
  /**
   * Opens another store on the same database as the last `open()`, for the tests of two stores
   * racing. Without it those tests are skipped (and say so).
   */
  openSecond?: () => Promise<Store>;
}

export function describeStoreConformance(
  name: string,
  open: () => Promise<Store>,
  close: (s: Store) => Promise<void> = (s) => s.close(),
  options: ConformanceOptions = {},
): void {
  describe(`store conformance: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
      await store.migrate();
    });
    afterEach(async () => {
      await close(store);
    });

    /** Creates a run and returns its id. */
    async function create(steps: NewStep[], run: Partial<NewRun> = {}): Promise<string> {
      const r = newRun(run);
      const { created } = await store.createRun(r, steps);
      expect(created).toBe(true);
      return r.id;
    }

    async function claim(
      now: number,
      limit = 100,
      extra: { runId?: string; workerId?: string } = {},
    ) {
      return store.claimSteps({
        workerId: extra.workerId ?? W,
        limit,
        now,
        leaseMs: LEASE,
        ...extra,
      });
    }

    /** Claims the next step of a run, checking it is `key`. */
    async function claimKey(runId: string, key: string, now: number): Promise<ClaimedStep> {
      const claimed = await claim(now, 1, { runId });
      expect(claimed.map((c) => c.key)).toEqual([key]);
      return claimed[0]!;
    }

    async function statuses(runId: string): Promise<Record<string, StepStatus>> {
      return Object.fromEntries((await store.listSteps(runId)).map((s) => [s.key, s.status]));
    }

    async function stepOf(runId: string, key: string) {
      const s = await store.getStep(runId, key);
      expect(s, `step ${key}`).not.toBeNull();
      return s!;
    }

    it('migrate() is idempotent', async () => {
      await store.migrate();
      await store.migrate();
      const id = await create([step('a')]);
      expect((await store.getRun(id))?.status).toBe('queued');
    });

    // Runs -------------------------------------------------------------------------------------

    describe('createRuns', () => {
      it('creates several runs in one call, in order, as createRun would', async () => {
        const first = newRun({ idempotencyKey: 'k1', tags: ['batch'], priority: 2 });
        const second = newRun({ outputs: ['b'], partition: '2026-01-02' });
        const results = await store.createRuns([
          { run: first, steps: [step('a'), step('b', ['a'])] },
          { run: second, steps: [step('a'), step('b', ['a'])] },
        ]);
        expect(results.map((r) => [r.run.id, r.created])).toEqual([
          [first.id, true],
          [second.id, true],
        ]);
        for (const r of results) expect(r.run).toEqual(await store.getRun(r.run.id));
        expect(results[0]!.run).toMatchObject({ status: 'queued', tags: ['batch'], priority: 2 });
        expect(results[1]!.run).toMatchObject({ outputs: ['b'], partition: '2026-01-02' });
        expect(await statuses(first.id)).toEqual({ a: 'queued', b: 'pending' });
        // The edges are there: each run goes to the end.
        let now = T0 + 10;
        for (;;) {
          const claimed = await claim(now++, 10);
          if (claimed.length === 0) break;
          for (const c of claimed) await store.completeStep(done(c, now++));
        }
        for (const r of results) expect((await store.getRun(r.run.id))!.status).toBe('succeeded');
        expect(await store.createRuns([])).toEqual([]);
      });

      it('keeps every character of inputs, outputs, tags, keys and overrides', async () => {
        const odd = ['a"b', 'back\\slash', '{braces}', 'comma,here', 'NULL', '', ' spaced ', 'é✓'];
        const run = newRun({
          input: JSON.stringify({ text: 'say "hi"\\n', odd }),
          outputs: odd.slice(0, 4),
          tags: odd,
          idempotencyKey: 'key "with" \\ and , and }',
          partition: 'p"1\\',
        });
        const [result] = await store.createRuns([
          {
            run,
            steps: [
              step('a"1'),
              step('b\\2', ['a"1'], { override: JSON.stringify('o"v\\') }),
              step('c{3}', ['a"1', 'b\\2']),
            ],
          },
        ]);
        const stored = await store.getRun(run.id);
        expect(result!.run).toEqual(stored);
        expect(stored).toMatchObject({
          input: run.input,
          outputs: run.outputs,
          tags: odd,
          idempotencyKey: run.idempotencyKey,
          partition: 'p"1\\',
        });
        const steps = await store.listSteps(run.id);
        expect(steps.map((s) => [s.key, s.status, s.output])).toEqual([
          ['a"1', 'queued', null],
          ['b\\2', 'succeeded', JSON.stringify('o"v\\')],
          ['c{3}', 'pending', null],
        ]);
      });

      it('keeps every character of results and log lines recorded together', async () => {
        const odd = ['a"b', 'back\\slash', '{braces}', 'comma,here', 'NULL', '', ' spaced ', 'é✓'];
        const ids = [await create([step('k"1\\')]), await create([step('k{2}')])];
        const claimed = await claim(T0 + 1);
        expect(claimed).toHaveLength(2);
        const results = await store.completeSteps(
          claimed.map((c, n) =>
            done(c, T0 + 2, {
              output: JSON.stringify(odd[n]),
              mayFinish: true,
              logs: odd.map((message) => ({
                runId: c.runId,
                stepKey: c.key,
                attempt: c.attempt,
                at: T0 + 2,
                level: 'info' as const,
                message,
              })),
            }),
          ),
        );
        expect(results.map((r) => r.runStatus)).toEqual(['succeeded', 'succeeded']);
        for (const [n, id] of ids.entries()) {
          const [s] = await store.listSteps(id);
          expect(s!.output).toBe(JSON.stringify(odd[claimed.findIndex((c) => c.runId === id)]));
          expect(s!.key).toBe(n === 0 ? 'k"1\\' : 'k{2}');
          expect((await store.listLogs(id)).map((l) => l.message)).toEqual(odd);
        }
      });

      it('returns the run holding an idempotency key, also one taken earlier in the batch', async () => {
        const existing = await create([step('a')], { idempotencyKey: 'taken' });
        const fresh = newRun({ idempotencyKey: 'fresh' });
        const results = await store.createRuns([
          { run: newRun({ idempotencyKey: 'taken' }), steps: [step('a')] },
          { run: fresh, steps: [step('a')] },
          { run: newRun({ idempotencyKey: 'fresh' }), steps: [step('a')] },
        ]);
        expect(results.map((r) => [r.run.id, r.created])).toEqual([
          [existing, false],
          [fresh.id, true],
          [fresh.id, false],
        ]);
        expect(await store.listSteps(fresh.id)).toHaveLength(1);
      });

      it('creates hundreds of runs in one call, a key repeated far apart kept once', async () => {
        // Alike but for their ids, their keys and one's input.
        const alike = { tags: ['t'], outputs: ['a'], partition: 'p', priority: 4 };
        const runs = Array.from({ length: 700 }, (_, i) =>
          newRun({
            ...alike,
            ...(i === 10 || i === 600 ? { idempotencyKey: 'far' } : {}),
            ...(i === 420 ? { input: '{"odd":1}' } : {}),
          }),
        );
        const results = await store.createRuns(runs.map((run) => ({ run, steps: [step('a')] })));
        expect(results).toHaveLength(700);
        expect(results.filter((r) => !r.created).map((r) => r.run.id)).toEqual([runs[10]!.id]);
        expect(results[600]!.run.id).toBe(runs[10]!.id);
        expect(results[699]).toEqual({ run: await store.getRun(runs[699]!.id), created: true });
        expect(await store.getRun(runs[600]!.id)).toBeNull();
        expect(await store.listSteps(runs[350]!.id)).toHaveLength(1);
        for (const i of [0, 299, 420, 699]) {
          expect(await store.getRun(runs[i]!.id)).toMatchObject({
            ...alike,
            input: i === 420 ? '{"odd":1}' : runs[0]!.input,
            idempotencyKey: null,
          });
        }
      });

      it('finishes a run with nothing to do, and holds a gated run', async () => {
        await create([step('a')], { maxActive: 1 });
        const overridden = newRun();
        const gated = newRun({ maxActive: 1 });
        const [done1, held] = await store.createRuns([
          { run: overridden, steps: [step('a', [], { override: '1' })] },
          { run: gated, steps: [step('a')] },
        ]);
        expect(done1!.run.status).toBe('succeeded');
        expect(held!.run.held).toBe(true);
      });
    });

    describe('createRun', () => {
      it('inserts a queued run with every field', async () => {
        const parent = await create([step('p')]);
        const run = newRun({
          kind: 'workflow',
          definition: 'billing',
          outputs: ['total'],
          trigger: 'schedule:nightly',
          parentRunId: parent,
          tags: ['team:data', 'nightly'],
          priority: 3,
          createdAt: T0 + 5,
          partition: '2026-01-01',
        });
        const result = await store.createRun(run, [step('a')]);
        const expected = {
          id: run.id,
          kind: 'workflow',
          definition: 'billing',
          status: 'queued',
          input: run.input,
          outputs: ['total'],
          trigger: 'schedule:nightly',
          parentRunId: parent,
          idempotencyKey: null,
          tags: ['team:data', 'nightly'],
          priority: 3,
          error: null,
          createdAt: T0 + 5,
          startedAt: null,
          finishedAt: null,
          updatedAt: T0 + 5,
          waitingFor: null,
          partition: '2026-01-01',
          held: false,
        };
        expect(result).toEqual({ run: expected, created: true, claimed: [] });
        expect(await store.getRun(run.id)).toEqual(expected);
        expect(await store.getRun('run_missing')).toBeNull();
      });

      it('queues roots, leaves the rest pending with their counts, inserts overrides succeeded', async () => {
        const id = await create(
          [
            step('a'),
            step('o', [], { override: '"given"' }),
            step('b', ['a']),
            step('c', ['a', 'b'], { priority: 9 }),
            step('d', ['o']),
            step('e', ['o', 'a']),
          ],
          { priority: 2 },
        );
        const steps = await store.listSteps(id);
        expect(steps.map((s) => s.key)).toEqual(['a', 'o', 'b', 'c', 'd', 'e']);
        expect(steps[0]).toEqual({
          runId: id,
          key: 'a',
          node: 'a',
          parentKey: null,
          index: null,
          status: 'queued',
          attempt: 0,
          output: null,
          error: null,
          waitingOn: 0,
          availableAt: T0,
          priority: 2,
          leaseOwner: null,
          leaseExpiresAt: null,
          origin: 'run',
          kind: 'node',
          seq: null,
          queuedAt: T0,
          startedAt: null,
          finishedAt: null,
        });
        expect(steps[1]).toMatchObject({
          status: 'succeeded',
          origin: 'override',
          output: '"given"',
          waitingOn: 0,
          attempt: 0,
        });
        expect(steps[2]).toMatchObject({ status: 'pending', waitingOn: 1, queuedAt: null });
        expect(steps[3]).toMatchObject({ status: 'pending', waitingOn: 2, priority: 9 });
        // Waiting only on overrides is waiting on nothing.
        expect(steps[4]).toMatchObject({ status: 'queued', waitingOn: 0, queuedAt: T0 });
        expect(steps[5]).toMatchObject({ status: 'pending', waitingOn: 1 });
        expect(await store.getStep(id, 'e')).toEqual(steps[5]);
        expect(await store.getStep(id, 'zzz')).toBeNull();
      });

      it('counts a dependency named twice once', async () => {
        const id = await create([step('a'), step('b', ['a', 'a'])]);
        expect((await stepOf(id, 'b')).waitingOn).toBe(1);
        const a = await claimKey(id, 'a', T0 + 1);
        await store.completeStep(done(a, T0 + 2));
        expect((await stepOf(id, 'b')).status).toBe('queued');
      });

      it('gives back the existing run for an idempotency key already used by the definition', async () => {
        const first = newRun({ idempotencyKey: 'day-1' });
        const a = await store.createRun(first, [step('a')]);
        expect(a.created).toBe(true);
        expect(a.run.idempotencyKey).toBe('day-1');
        const second = newRun({ idempotencyKey: 'day-1', input: '{"other":true}' });
        const b = await store.createRun(second, [step('a'), step('b')]);
        expect(b.created).toBe(false);
        expect(b.run).toEqual(a.run);
        expect(await store.getRun(second.id)).toBeNull();
        expect(await store.listSteps(second.id)).toEqual([]);
        // The key is per definition.
        const other = await store.createRun(
          newRun({ idempotencyKey: 'day-1', definition: 'other' }),
          [step('a')],
        );
        expect(other.created).toBe(true);
      });

      it('refuses a dependency that is not a step of the run, inserting nothing', async () => {
        const run = newRun();
        await expect(store.createRun(run, [step('a'), step('b', ['nope'])])).rejects.toThrow(
          /nope/,
        );
        expect(await store.getRun(run.id)).toBeNull();
      });

      it('finishes at once a run with nothing to do', async () => {
        const id = await create([
          step('a', [], { override: '1' }),
          step('b', ['a'], { override: '2' }),
        ]);
        expect(await store.getRun(id)).toMatchObject({
          status: 'succeeded',
          finishedAt: T0,
          error: null,
        });
        expect(await claim(T0 + 1)).toEqual([]);
      });
    });

    describe('getFinishedRuns', () => {
      it('returns the finished runs among the ids asked, whatever their end', async () => {
        const succeeded = await create([step('a')]);
        const cancelled = await create([step('a')]);
        const queued = await create([step('a')]);
        const running = await create([step('a'), step('b')]);
        await store.completeStep(done(await claimKey(succeeded, 'a', T0 + 1), T0 + 2));
        await claimKey(running, 'a', T0 + 1);
        await store.cancelRun(cancelled, T0 + 3, 'stop');
        const asked = [queued, succeeded, 'run_unknown', running, cancelled];
        const found = await store.getFinishedRuns(asked);
        expect(found.map((r) => r.id).sort()).toEqual([succeeded, cancelled].sort());
        expect(found.find((r) => r.id === succeeded)).toEqual(await store.getRun(succeeded));
        expect(found.find((r) => r.id === cancelled)?.status).toBe('cancelled');
        expect(await store.getFinishedRuns([])).toEqual([]);
        expect(await store.getFinishedRuns([queued, running])).toEqual([]);
      });
    });

    describe('listRuns', () => {
      it('lists newest first, filters by status and definition, pages with a cursor', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          ids.push(
            await create([step('a')], { definition: i % 2 ? 'odd' : 'even', createdAt: T0 + i }),
          );
        }
        await store.cancelRun(ids[1]!, T0 + 10, 'stop');
        await store.cancelRun(ids[2]!, T0 + 10, 'stop');
        const all = await store.listRuns();
        expect(all.map((r) => r.id)).toEqual([...ids].reverse());
        expect((await store.listRuns({ status: 'cancelled' })).map((r) => r.id)).toEqual([
          ids[2],
          ids[1],
        ]);
        expect((await store.listRuns({ definition: 'odd' })).map((r) => r.id)).toEqual([
          ids[3],
          ids[1],
        ]);
        expect(
          (await store.listRuns({ definition: 'even', status: 'queued' })).map((r) => r.id),
        ).toEqual([ids[4], ids[0]]);
        const page1 = await store.listRuns({ limit: 2 });
        expect(page1.map((r) => r.id)).toEqual([ids[4], ids[3]]);
        const page2 = await store.listRuns({ limit: 2, before: page1.at(-1)!.id });
        expect(page2.map((r) => r.id)).toEqual([ids[2], ids[1]]);
        const page3 = await store.listRuns({ limit: 2, before: page2.at(-1)!.id });
        expect(page3.map((r) => r.id)).toEqual([ids[0]]);
        expect(await store.listRuns({ limit: 2, before: ids[0]! })).toEqual([]);
        expect(
          (await store.listRuns({ definition: 'odd', before: ids[3]! })).map((r) => r.id),
        ).toEqual([ids[1]]);
      });

      it('filters by kind and by creation time (since inclusive, until exclusive)', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 6; i++) {
          ids.push(
            await create([step('a')], {
              kind: i % 3 === 0 ? 'workflow' : 'pipeline',
              createdAt: T0 + i * 10,
            }),
          );
        }
        const idsOf = (runs: { id: string }[]) => runs.map((r) => r.id);
        expect(idsOf(await store.listRuns({ kind: 'workflow' }))).toEqual([ids[3], ids[0]]);
        expect(idsOf(await store.listRuns({ kind: 'pipeline', limit: 2 }))).toEqual([
          ids[5],
          ids[4],
        ]);
        expect(idsOf(await store.listRuns({ since: T0 + 20 }))).toEqual([
          ids[5],
          ids[4],
          ids[3],
          ids[2],
        ]);
        expect(idsOf(await store.listRuns({ until: T0 + 20 }))).toEqual([ids[1], ids[0]]);
        expect(idsOf(await store.listRuns({ since: T0 + 10, until: T0 + 40 }))).toEqual([
          ids[3],
          ids[2],
          ids[1],
        ]);
        expect(
          idsOf(await store.listRuns({ since: T0 + 10, until: T0 + 40, before: ids[3]! })),
        ).toEqual([ids[2], ids[1]]);
        expect(idsOf(await store.listRuns({ since: T0, kind: 'workflow', limit: 1 }))).toEqual([
          ids[3],
        ]);
        expect(await store.listRuns({ since: T0 + 30, until: T0 + 30 })).toEqual([]);
        await store.cancelRun(ids[4]!, T0 + 100, 'stop');
        expect(
          idsOf(await store.listRuns({ status: 'cancelled', kind: 'pipeline', since: T0 })),
        ).toEqual([ids[4]]);
      });

      it('searches runs by the start of their id, or by a tag equal to the text', async () => {
        const made = async (id: string, tags: string[] = [], definition = 'etl') =>
          create([step('a')], { id, tags, definition });
        await made('run_ab1', ['nightly', 'eu']);
        await made('run_ab2', ['say "hi"', 'x"nightly']);
        await made('run_b1', ['run_ab', 'night']);
        await made('run_b2', ['été', 'run_b'], 'other');
        await made('run_c\u{10ffff}1', ['nightly']);
        const search = async (text: string, extra: object = {}) =>
          (await store.listRuns({ search: text, ...extra })).map((r) => r.id);
        expect(await search('run_ab')).toEqual(['run_b1', 'run_ab2', 'run_ab1']);
        expect(await search('run_ab', { limit: 2 })).toEqual(['run_b1', 'run_ab2']);
        expect(await search('run_ab', { before: 'run_ab2' })).toEqual(['run_ab1']);
        expect(await search('run_ab1')).toEqual(['run_ab1']);
        // A tag matches whole: `night` is not `nightly`, and `nightly` not inside `x"nightly`.
        expect(await search('nightly')).toEqual(['run_c\u{10ffff}1', 'run_ab1']);
        expect(await search('night')).toEqual(['run_b1']);
        expect(await search('say "hi"')).toEqual(['run_ab2']);
        expect(await search('"hi"')).toEqual([]);
        expect(await search('été')).toEqual(['run_b2']);
        expect(await search('run_b')).toEqual(['run_b2', 'run_b1']);
        expect(await search('run_b', { definition: 'etl' })).toEqual(['run_b1']);
        expect(await search('run_c\u{10ffff}')).toEqual(['run_c\u{10ffff}1']);
        expect(await search('run_')).toHaveLength(5);
        expect(await search('%')).toEqual([]);
        expect(await search('run_%')).toEqual([]);
        expect(await search('zzz')).toEqual([]);
      });
    });

    // Claims -----------------------------------------------------------------------------------

    describe('claimSteps', () => {
      it('claims the highest priority first, then the oldest, and leases what it claims', async () => {
        const r1 = await create([step('x')], { createdAt: T0 });
        const r2 = await create([step('y')], { createdAt: T0 + 1 });
        const r3 = await create([step('z', [], { priority: 5 })], { createdAt: T0 + 2 });
        const now = T0 + 100;
        const first = await claim(now, 2);
        expect(first.map((c) => [c.runId, c.key])).toEqual([
          [r3, 'z'],
          [r1, 'x'],
        ]);
        expect(first[0]).toEqual({
          runId: r3,
          key: 'z',
          node: 'z',
          parentKey: null,
          index: null,
          attempt: 1,
          kind: 'pipeline',
          definition: 'etl',
          leaseExpiresAt: now + LEASE,
          input: '{"day":"2026-01-01"}',
        });
        expect(await stepOf(r3, 'z')).toMatchObject({
          status: 'running',
          attempt: 1,
          leaseOwner: W,
          leaseExpiresAt: now + LEASE,
          startedAt: now,
        });
        expect(await store.getRun(r3)).toMatchObject({ status: 'running', startedAt: now });
        expect((await store.getRun(r2))?.status).toBe('queued');
        expect((await claim(now + 1)).map((c) => c.key)).toEqual(['y']);
        expect((await store.getRun(r2))?.startedAt).toBe(now + 1);
        expect(await claim(now + 2)).toEqual([]);
      });

      it('breaks ties by key, and claims nothing with limit 0', async () => {
        const id = await create([step('b'), step('a'), step('c')]);
        expect(await claim(T0 + 1, 0)).toEqual([]);
        expect((await claim(T0 + 1, 2, { runId: id })).map((c) => c.key)).toEqual(['a', 'b']);
      });

      it('claims only steps of the given definitions or run', async () => {
        const etl = await create([step('a')]);
        const other = await create([step('b')], { definition: 'other' });
        const third = await create([step('c')], { definition: 'third' });
        expect(
          await store.claimSteps({
            workerId: W,
            limit: 5,
            now: T0 + 1,
            leaseMs: LEASE,
            definitions: [],
          }),
        ).toEqual([]);
        const got = await store.claimSteps({
          workerId: W,
          limit: 5,
          now: T0 + 1,
          leaseMs: LEASE,
          definitions: ['other', 'missing'],
        });
        expect(got.map((c) => [c.runId, c.definition])).toEqual([[other, 'other']]);
        expect((await claim(T0 + 1, 5, { runId: third })).map((c) => c.runId)).toEqual([third]);
        expect((await claim(T0 + 1, 5)).map((c) => c.runId)).toEqual([etl]);
      });
    });

    // Completions ------------------------------------------------------------------------------

    describe('completeStep', () => {
      it('records the output and an attempt; a dependent is queued once all its dependencies are done', async () => {
        const id = await create([
          step('a'),
          step('b', ['a']),
          step('c', ['a']),
          step('d', ['b', 'c']),
        ]);
        const a = await claimKey(id, 'a', T0 + 1);
        const result = await store.completeStep(done(a, T0 + 2, { output: '{"rows":3}' }));
        expect(result).toEqual({
          applied: true,
          runStatus: 'running',
          claimed: [],
          queuedMore: true,
        });
        expect(await stepOf(id, 'a')).toMatchObject({
          status: 'succeeded',
          output: '{"rows":3}',
          finishedAt: T0 + 2,
          leaseOwner: null,
          leaseExpiresAt: null,
        });
        expect(await store.listAttempts(id)).toEqual([
          {
            runId: id,
            stepKey: 'a',
            attempt: 1,
            status: 'succeeded',
            workerId: W,
            startedAt: T0 + 1,
            finishedAt: T0 + 2,
            error: null,
          },
        ]);
        expect(await statuses(id)).toEqual({
          a: 'succeeded',
          b: 'queued',
          c: 'queued',
          d: 'pending',
        });
        expect(await stepOf(id, 'b')).toMatchObject({ queuedAt: T0 + 2, availableAt: T0 + 2 });

        const [b, c] = await claim(T0 + 3, 2, { runId: id });
        await store.completeStep(done(b!, T0 + 4));
        expect(await stepOf(id, 'd')).toMatchObject({ status: 'pending', waitingOn: 1 });
        const last = await store.completeStep(done(c!, T0 + 5));
        expect(last.queuedMore).toBe(true);
        expect(await stepOf(id, 'd')).toMatchObject({ status: 'queued', waitingOn: 0 });
      });

      it('claims what it made ready with claimNext, best priority first', async () => {
        const id = await create([
          step('a'),
          step('b', ['a'], { priority: 1 }),
          step('c', ['a'], { priority: 5 }),
          step('d', ['a'], { priority: 3 }),
          step('other'),
        ]);
        const a = await claimKey(id, 'a', T0 + 1);
        const result = await store.completeStep(
          done(a, T0 + 2, { claimNext: { limit: 2, leaseMs: 1000 } }),
        );
        expect(result.applied).toBe(true);
        expect(result.queuedMore).toBe(true);
        expect(result.claimed).toEqual([
          {
            runId: id,
            key: 'c',
            node: 'c',
            parentKey: null,
            index: null,
            attempt: 1,
            kind: 'pipeline',
            definition: 'etl',
            leaseExpiresAt: T0 + 1002,
          },
          expect.objectContaining({ key: 'd', attempt: 1, leaseExpiresAt: T0 + 1002 }),
        ]);
        expect(await stepOf(id, 'c')).toMatchObject({
          status: 'running',
          attempt: 1,
          leaseOwner: W,
          leaseExpiresAt: T0 + 1002,
          startedAt: T0 + 2,
        });
        // The step not claimed is queued for anyone; the unrelated root was not claimed.
        expect(await statuses(id)).toMatchObject({ b: 'queued', other: 'queued' });
        expect((await claim(T0 + 3)).map((c) => c.key)).toEqual(['b', 'other']);
      });

      it('reports queuedMore only when ready steps were left unclaimed', async () => {
        const id = await create([step('a'), step('b', ['a']), step('c', ['b'])]);
        const a = await claimKey(id, 'a', T0 + 1);
        const r1 = await store.completeStep(
          done(a, T0 + 2, { claimNext: { limit: 4, leaseMs: LEASE } }),
        );
        expect(r1.claimed.map((c) => c.key)).toEqual(['b']);
        expect(r1.queuedMore).toBe(false);
        const r2 = await store.completeStep(done(r1.claimed[0]!, T0 + 3));
        expect(r2).toMatchObject({ claimed: [], queuedMore: true });
      });

      it('writes its logs in the same transition', async () => {
        const id = await create([step('a')]);
        const a = await claimKey(id, 'a', T0 + 1);
        await store.completeStep(
          done(a, T0 + 2, {
            logs: [
              { runId: id, stepKey: 'a', attempt: 1, at: T0 + 1, level: 'info', message: 'hello' },
              {
                runId: id,
                stepKey: 'a',
                attempt: 1,
                at: T0 + 2,
                level: 'warn',
                message: 'careful',
              },
            ],
          }),
        );
        expect((await store.listLogs(id)).map((l) => [l.level, l.message])).toEqual([
          ['info', 'hello'],
          ['warn', 'careful'],
        ]);
      });

      it.each([false, true])('finishes the run with its last step (hinted: %s)', async (hint) => {
        const id = await create([step('a'), step('b', ['a'])]);
        const a = await claimKey(id, 'a', T0 + 1);
        // A wrong hint (a has a dependent) changes nothing.
        const r = await store.completeStep(
          done(a, T0 + 2, { claimNext: { limit: 1, leaseMs: LEASE }, mayFinish: hint }),
        );
        expect(r).toMatchObject({ applied: true, runStatus: 'running' });
        const { finishedRun, ...last } = await store.completeStep(
          done(r.claimed[0]!, T0 + 3, {
            mayFinish: hint,
            logs: [
              {
                runId: id,
                stepKey: 'b',
                attempt: 1,
                at: T0 + 3,
                level: 'info',
                message: 'last words',
              },
            ],
          }),
        );
        expect(last).toEqual({
          applied: true,
          runStatus: 'succeeded',
          claimed: [],
          queuedMore: false,
        });
        const stored = await store.getRun(id);
        expect(stored).toMatchObject({
          status: 'succeeded',
          startedAt: T0 + 1,
          finishedAt: T0 + 3,
          error: null,
        });
        // A store that returns the finished run returns it as stored.
        if (finishedRun !== undefined) expect(finishedRun).toEqual(stored);
        expect(await store.getStep(id, 'b')).toMatchObject({ status: 'succeeded', output: '"b"' });
        expect((await store.listAttempts(id)).map((x) => [x.stepKey, x.status])).toEqual([
          ['a', 'succeeded'],
          ['b', 'succeeded'],
        ]);
        expect((await store.listLogs(id)).map((l) => l.message)).toEqual(['last words']);
      });

      it.each([false, true])(
        'finishes a run failed by an earlier step with the list of failed steps (hinted: %s)',
        async (hint) => {
          const id = await create([step('a'), step('b'), step('c', ['a'])]);
          const a = await claimKey(id, 'a', T0 + 1);
          await store.failStep(failed(a, T0 + 2));
          const b = await claimKey(id, 'b', T0 + 3);
          const { finishedRun, ...last } = await store.completeStep(
            done(b, T0 + 4, { mayFinish: hint }),
          );
          expect(last.runStatus).toBe('failed');
          const stored = await store.getRun(id);
          expect(stored).toMatchObject({
            status: 'failed',
            finishedAt: T0 + 4,
            error: { name: 'RunFailed', message: 'steps failed: a' },
          });
          if (finishedRun !== undefined) expect(finishedRun).toEqual(stored);
        },
      );

      it('refuses a result for another attempt or worker, or a second one, changing nothing', async () => {
        const id = await create([step('a'), step('b', ['a'])]);
        const a = await claimKey(id, 'a', T0 + 1);
        const before = await store.listSteps(id);
        const refused = { applied: false, runStatus: 'running', claimed: [], queuedMore: false };
        expect(await store.completeStep(done(a, T0 + 2, { attempt: 2 }))).toEqual(refused);
        expect(await store.completeStep(done(a, T0 + 2, { workerId: 'worker-b' }))).toEqual(
          refused,
        );
        expect(
          await store.completeStep(done(a, T0 + 2, { workerId: 'worker-b', mayFinish: true })),
        ).toEqual(refused);
        expect(await store.failStep(failed(a, T0 + 2, { attempt: 0 }))).toEqual(refused);
        expect(await store.failStep(failed(a, T0 + 2, { workerId: 'worker-b' }))).toEqual(refused);
        expect(
          await store.expandStep({
            runId: id,
            key: 'a',
            attempt: 1,
            workerId: 'worker-b',
            now: T0 + 2,
            items: ['a[0]'],
          }),
        ).toEqual(refused);
        expect(await store.listSteps(id)).toEqual(before);
        expect(await store.listAttempts(id)).toEqual([]);

        expect((await store.completeStep(done(a, T0 + 3))).applied).toBe(true);
        const again = await store.completeStep(done(a, T0 + 4, { output: '"other"' }));
        expect(again.applied).toBe(false);
        expect((await stepOf(id, 'a')).output).toBe('"a"');
        expect(await store.listAttempts(id)).toHaveLength(1);
      });

      it('completeSteps records several results in one call, one result each, in order', async () => {
        const id = await create([step('a'), step('b'), step('c'), step('d', ['a', 'b'])]);
        const [a, b, c] = await claim(T0 + 1, 3, { runId: id });
        expect(await store.completeSteps([])).toEqual([]);
        const results = await store.completeSteps([
          done(a!, T0 + 2),
          // A refused input (another worker's result) does not stop the others.
          done(c!, T0 + 2, { workerId: 'worker-b' }),
          done(b!, T0 + 2, { claimNext: { limit: 2, leaseMs: LEASE } }),
        ]);
        expect(results.map((r) => r.applied)).toEqual([true, false, true]);
        expect(results[0]).toEqual({
          applied: true,
          runStatus: 'running',
          claimed: [],
          queuedMore: false,
        });
        expect(results[2]!.claimed.map((x) => x.key)).toEqual(['d']);
        expect(await statuses(id)).toEqual({
          a: 'succeeded',
          b: 'succeeded',
          c: 'running',
          d: 'running',
        });
        expect((await store.listAttempts(id)).map((x) => x.stepKey).sort()).toEqual(['a', 'b']);
      });

      it('completeSteps finishes the runs of the last steps it records, as completeStep would', async () => {
        // Single-step runs, one with logs; a child run; a refused input; a wrong hint (another
        // step of the run is unfinished); a run failed by an earlier step; two last steps of one
        // run in the same batch; last, a chain whose next step the batch claims.
        const lone = await create([step('a')]);
        const logged = await create([step('a')]);
        const parent = await create([step('a')]);
        const child = await create([step('a')], { parentRunId: parent });
        const other = await create([step('a')]);
        const wide = await create([step('a'), step('b')]);
        const broken = await create([step('a'), step('b')]);
        const pair = await create([step('a'), step('b')]);
        const chain = await create([step('a'), step('b', ['a'])]);
        const tail = await create([step('a')]);
        const [l, g, c, o, t] = await Promise.all(
          [lone, logged, child, other, tail].map((id) => claimKey(id, 'a', T0 + 1)),
        );
        const w = await claimKey(wide, 'a', T0 + 1);
        await store.failStep(failed(await claimKey(broken, 'a', T0 + 1), T0 + 1));
        const bb = await claimKey(broken, 'b', T0 + 1);
        const [pa, pb] = await claim(T0 + 1, 2, { runId: pair });
        const ch = await claimKey(chain, 'a', T0 + 1);
        const line = { attempt: 1, at: T0 + 2, level: 'info' as const, message: 'done' };
        const results = await store.completeSteps([
          done(l!, T0 + 2, { mayFinish: true }),
          done(g!, T0 + 2, {
            mayFinish: true,
            logs: [{ runId: logged, stepKey: 'a', ...line }],
          }),
          done(c!, T0 + 2, { mayFinish: true }),
          done(o!, T0 + 2, { mayFinish: true, workerId: 'worker-b' }),
          done(w, T0 + 2, { mayFinish: true }),
          done(bb, T0 + 2, { mayFinish: true }),
          done(pa!, T0 + 2, { mayFinish: true }),
          done(pb!, T0 + 2, { mayFinish: true }),
          done(t!, T0 + 2, { mayFinish: true }),
          done(ch, T0 + 2, { claimNext: { limit: 4, leaseMs: LEASE } }),
        ]);
        const finished = { applied: true, runStatus: 'succeeded', claimed: [], queuedMore: false };
        const plain = results.map(({ finishedRun: _, ...r }) => r);
        expect(plain.slice(0, 3)).toEqual([finished, finished, finished]);
        expect(plain[3]).toMatchObject({ applied: false, runStatus: 'running' });
        expect(plain[4]).toMatchObject({ applied: true, runStatus: 'running' });
        expect(plain[5]).toMatchObject({ applied: true, runStatus: 'failed' });
        // The first of the pair: its run as after it, or as after the batch.
        expect(['running', 'succeeded']).toContain(plain[6]!.runStatus);
        expect(plain[7]).toEqual(finished);
        expect(plain[8]).toEqual(finished);
        expect(results.flatMap((r) => r.claimed).map((x) => [x.runId, x.key])).toEqual([
          [chain, 'b'],
        ]);
        for (const [n, id] of [lone, logged, child, null, null, broken, null, pair].entries()) {
          if (id === null) continue;
          const stored = await store.getRun(id);
          const { finishedRun } = results[n]!;
          if (finishedRun !== undefined) expect(finishedRun, id).toEqual(stored);
        }
        for (const id of [lone, logged, child, pair, tail]) {
          expect(await store.getRun(id), id).toMatchObject({
            status: 'succeeded',
            startedAt: T0 + 1,
            finishedAt: T0 + 2,
          });
        }
        expect(await statuses(other)).toEqual({ a: 'running' });
        expect(await statuses(wide)).toEqual({ a: 'succeeded', b: 'queued' });
        expect((await store.getRun(broken))?.status).toBe('failed');
        expect(await statuses(chain)).toEqual({ a: 'succeeded', b: 'running' });
        expect((await store.listAttempts(lone)).map((a) => [a.attempt, a.status])).toEqual([
          [1, 'succeeded'],
        ]);
        expect((await store.listLogs(logged)).map((x) => x.message)).toEqual(['done']);
        expect(await store.listLogs(lone)).toEqual([]);
      });

      it('completeSteps claims and records steps run ahead, in batch order', async () => {
        const id = await create([step('a'), step('b', ['a']), step('c', ['b']), step('d', ['c'])]);
        const [a] = await claim(T0 + 1, 1, { runId: id });
        const ahead = (key: string, extra: Partial<CompleteStep> = {}): CompleteStep => ({
          runId: id,
          key,
          attempt: 1,
          workerId: 'worker-a',
          output: JSON.stringify(key),
          now: T0 + 3,
          claim: { leaseMs: LEASE, startedAt: T0 + 2 },
          ...extra,
        });
        const results = await store.completeSteps([
          done(a!, T0 + 2),
          ahead('b'),
          ahead('c', { claimNext: { limit: 1, leaseMs: LEASE } }),
        ]);
        expect(results.map((r) => r.applied)).toEqual([true, true, true]);
        expect(results[2]!.claimed.map((x) => x.key)).toEqual(['d']);
        expect(await statuses(id)).toEqual({
          a: 'succeeded',
          b: 'succeeded',
          c: 'succeeded',
          d: 'running',
        });
        const b = await stepOf(id, 'b');
        expect([b.attempt, b.startedAt, b.output]).toEqual([1, T0 + 2, '"b"']);
        expect((await store.listAttempts(id)).map((x) => x.stepKey).sort()).toEqual([
          'a',
          'b',
          'c',
        ]);
      });

      it('refuses a step run ahead that is not ready, or already claimed', async () => {
        const id = await create([step('a'), step('b', ['a'])]);
        const ahead: CompleteStep = {
          runId: id,
          key: 'b',
          attempt: 1,
          workerId: 'worker-a',
          output: '1',
          now: T0 + 2,
          claim: { leaseMs: LEASE, startedAt: T0 + 1 },
        };
        // b still waits for a.
        expect((await store.completeSteps([ahead]))[0]!.applied).toBe(false);
        const [a] = await claim(T0 + 1, 1, { runId: id });
        await store.completeStep(done(a!, T0 + 2));
        await claim(T0 + 3, 1, { runId: id }); // another claim took b
        expect((await store.completeSteps([ahead]))[0]!.applied).toBe(false);
        expect((await stepOf(id, 'b')).status).toBe('running');
      });

      it('refuses the result of a worker whose lease was taken back', async () => {
        const id = await create([step('a')]);
        const old = await claimKey(id, 'a', T0);
        expect(await store.requeueExpired(T0 + LEASE + 1)).toBe(1);
        const fresh = await store.claimSteps({
          workerId: 'worker-b',
          limit: 1,
          now: T0 + LEASE + 2,
          leaseMs: LEASE,
        });
        expect(fresh.map((c) => c.attempt)).toEqual([2]);
        expect((await store.completeStep(done(old, T0 + LEASE + 3))).applied).toBe(false);
        const ok = await store.completeStep({
          ...done(fresh[0]!, T0 + LEASE + 4),
          workerId: 'worker-b',
        });
        expect(ok).toMatchObject({ applied: true, runStatus: 'succeeded' });
      });
    });

    // Failures ---------------------------------------------------------------------------------

    describe('failStep', () => {
      it('with retryAt, queues the step again from then, keeping the error', async () => {
        const id = await create([step('a')]);
        const a = await claimKey(id, 'a', T0 + 1);
        const f = failed(a, T0 + 2, { retryAt: T0 + 5000 });
        expect(await store.failStep(f)).toEqual({
          applied: true,
          runStatus: 'running',
          claimed: [],
          queuedMore: false,
        });
        expect(await stepOf(id, 'a')).toMatchObject({
          status: 'queued',
          attempt: 1,
          availableAt: T0 + 5000,
          error: f.error,
          leaseOwner: null,
          leaseExpiresAt: null,
          finishedAt: null,
        });
        expect(await store.listAttempts(id)).toEqual([
          {
            runId: id,
            stepKey: 'a',
            attempt: 1,
            status: 'failed',
            workerId: W,
            startedAt: T0 + 1,
            finishedAt: T0 + 2,
            error: f.error,
          },
        ]);
        expect(await claim(T0 + 4999)).toEqual([]);
        expect(await store.nextWakeAt(T0 + 4999)).toBe(T0 + 5000);
        const again = await claim(T0 + 5000);
        expect(again.map((c) => [c.key, c.attempt])).toEqual([['a', 2]]);
        await store.completeStep(done(again[0]!, T0 + 5001));
        expect((await store.listAttempts(id)).map((x) => [x.attempt, x.status])).toEqual([
          [1, 'failed'],
          [2, 'succeeded'],
        ]);
        expect((await store.getRun(id))?.status).toBe('succeeded');
      });

      it('with a retry due now, reports the step ready', async () => {
        const id = await create([step('a')]);
        const a = await claimKey(id, 'a', T0 + 1);
        expect((await store.failStep(failed(a, T0 + 2, { retryAt: T0 + 2 }))).queuedMore).toBe(
          true,
        );
      });

      it('for good, skips the downstream transitively while independent branches go on', async () => {
        const id = await create([
          step('src'),
          step('bad', ['src']),
          step('after', ['bad']),
          step('after2', ['after']),
          step('good', ['src']),
          step('both', ['bad', 'good']),
        ]);
        const src = await claimKey(id, 'src', T0 + 1);
        await store.completeStep(done(src, T0 + 2));
        const bad = await claimKey(id, 'bad', T0 + 3);
        const f = failed(bad, T0 + 4);
        expect(await store.failStep(f)).toEqual({
          applied: true,
          runStatus: 'running',
          claimed: [],
          queuedMore: false,
        });
        expect(await statuses(id)).toEqual({
          src: 'succeeded',
          bad: 'failed',
          after: 'skipped',
          after2: 'skipped',
          good: 'queued',
          both: 'skipped',
        });
        expect(await stepOf(id, 'bad')).toMatchObject({
          error: f.error,
          finishedAt: T0 + 4,
          leaseOwner: null,
        });
        expect((await stepOf(id, 'after2')).finishedAt).toBe(T0 + 4);
        const good = await claimKey(id, 'good', T0 + 5);
        const last = await store.completeStep(done(good, T0 + 6));
        expect(last.runStatus).toBe('failed');
        const run = await store.getRun(id);
        expect(run).toMatchObject({ status: 'failed', finishedAt: T0 + 6 });
        expect(run?.error).toEqual({ name: 'RunFailed', message: 'steps failed: bad' });
      });

      it('finishes the run failed when the failed step was the last one left', async () => {
        const id = await create([step('a'), step('b', ['a'])]);
        const a = await claimKey(id, 'a', T0 + 1);
        const r = await store.failStep(failed(a, T0 + 2));
        expect(r.runStatus).toBe('failed');
        expect(await statuses(id)).toEqual({ a: 'failed', b: 'skipped' });
      });

      it('with failFast, cancels every other unfinished step of the run', async () => {
        const id = await create([step('a'), step('b'), step('c'), step('d', ['c']), step('e')]);
        // a, b and c running, d pending, e queued.
        const [a, b] = await claim(T0 + 1, 3, { runId: id });
        const r = await store.failStep({ ...failed(a!, T0 + 2), failFast: true });
        expect(r).toEqual({ applied: true, runStatus: 'failed', claimed: [], queuedMore: false });
        expect(await statuses(id)).toEqual({
          a: 'failed',
          b: 'cancelled',
          c: 'cancelled',
          d: 'cancelled',
          e: 'cancelled',
        });
        const attempts = await store.listAttempts(id);
        expect(attempts.find((x) => x.stepKey === 'b')).toMatchObject({
          attempt: 1,
          status: 'cancelled',
          workerId: W,
          finishedAt: T0 + 2,
        });
        expect(
          attempts
            .filter((x) => x.status === 'cancelled')
            .map((x) => x.stepKey)
            .sort(),
        ).toEqual(['b', 'c']);
        expect(await store.completeStep(done(b!, T0 + 3))).toEqual({
          applied: false,
          runStatus: 'failed',
          claimed: [],
          queuedMore: false,
        });
        expect((await store.getRun(id))?.error).toEqual({
          name: 'RunFailed',
          message: 'steps failed: a',
        });
        expect(await claim(T0 + 4)).toEqual([]);
      });
    });

    // Fan-out ----------------------------------------------------------------------------------

    describe('map steps', () => {
      async function expanded(items: string[], claim?: CreateClaim) {
        const id = await create([
          step('rows'),
          step('m', ['rows'], { priority: 4 }),
          step('report', ['m']),
        ]);
        const rows = await claimKey(id, 'rows', T0 + 1);
        await store.completeStep(done(rows, T0 + 2));
        const m = await claimKey(id, 'm', T0 + 3);
        const result = await store.expandStep({
          runId: id,
          key: 'm',
          attempt: m.attempt,
          workerId: W,
          now: T0 + 4,
          items,
          ...(claim ? { claim } : {}),
        });
        return { id, m, result };
      }

      it('expands into queued items; the map step succeeds with its last item, in any order', async () => {
        const { id, m, result } = await expanded(['m[0]', 'm[1]', 'm[2]']);
        expect(result).toEqual({
          applied: true,
          runStatus: 'running',
          claimed: [],
          queuedMore: true,
        });
        expect(await stepOf(id, 'm')).toMatchObject({
          status: 'running',
          waitingOn: 3,
          leaseOwner: null,
          leaseExpiresAt: null,
        });
        const items = (await store.listSteps(id)).filter((s) => s.parentKey === 'm');
        expect(
          items.map((s) => [s.key, s.node, s.index, s.status, s.priority, s.queuedAt]),
        ).toEqual([
          ['m[0]', 'm', 0, 'queued', 4, T0 + 4],
          ['m[1]', 'm', 1, 'queued', 4, T0 + 4],
          ['m[2]', 'm', 2, 'queued', 4, T0 + 4],
        ]);
        // The map step is held by no worker: its expired "lease" is not taken back.
        expect(await store.requeueExpired(T0 + 10 * LEASE, [W])).toBe(0);
        // A second expansion by the same attempt is refused.
        expect(
          (
            await store.expandStep({
              runId: id,
              key: 'm',
              attempt: m.attempt,
              workerId: W,
              now: T0 + 5,
              items: ['x'],
            })
          ).applied,
        ).toBe(false);

        const claimed = await claim(T0 + 5, 10, { runId: id });
        expect(claimed.map((c) => [c.key, c.node, c.parentKey, c.index])).toEqual([
          ['m[0]', 'm', 'm', 0],
          ['m[1]', 'm', 'm', 1],
          ['m[2]', 'm', 'm', 2],
        ]);
        const [i0, i1, i2] = claimed;
        const r2 = await store.completeStep(done(i2!, T0 + 6, { output: '"two"' }));
        expect(r2).toMatchObject({ applied: true, queuedMore: false });
        await store.completeStep(done(i0!, T0 + 7, { output: '"zero"' }));
        expect(await stepOf(id, 'm')).toMatchObject({ status: 'running', waitingOn: 1 });
        expect((await stepOf(id, 'report')).status).toBe('pending');

        const r1 = await store.completeStep(
          done(i1!, T0 + 8, { output: '"one"', claimNext: { limit: 3, leaseMs: LEASE } }),
        );
        expect(r1.claimed.map((c) => c.key)).toEqual(['report']);
        expect(r1.queuedMore).toBe(false);
        expect(await stepOf(id, 'm')).toMatchObject({
          status: 'succeeded',
          output: null,
          waitingOn: 0,
          finishedAt: T0 + 8,
        });
        expect(await store.getItemOutputs(id, 'm')).toEqual(['"zero"', '"one"', '"two"']);
        const last = await store.completeStep(done(r1.claimed[0]!, T0 + 9));
        expect(last.runStatus).toBe('succeeded');
        // Each item has its attempt; the map step's own work is its items'.
        expect((await store.listAttempts(id)).map((a) => a.stepKey).sort()).toEqual([
          'm[0]',
          'm[1]',
          'm[2]',
          'report',
          'rows',
        ]);
      });

      it('an expansion with a claim hands its worker the first items, running', async () => {
        const { id, result } = await expanded(['m[0]', 'm[1]', 'm[2]'], {
          workerId: W,
          limit: 2,
          leaseMs: LEASE,
        });
        expect(result.applied).toBe(true);
        expect(result.runStatus).toBe('running');
        expect(result.queuedMore).toBe(true);
        expect(result.claimed).toEqual([
          {
            runId: id,
            key: 'm[0]',
            node: 'm',
            parentKey: 'm',
            index: 0,
            attempt: 1,
            kind: 'pipeline',
            definition: 'etl',
            leaseExpiresAt: T0 + 4 + LEASE,
          },
          expect.objectContaining({ key: 'm[1]', index: 1, attempt: 1 }),
        ]);
        const items = (await store.listSteps(id)).filter((s) => s.parentKey === 'm');
        expect(
          items.map((s) => [s.key, s.status, s.attempt, s.leaseOwner, s.leaseExpiresAt]),
        ).toEqual([
          ['m[0]', 'running', 1, W, T0 + 4 + LEASE],
          ['m[1]', 'running', 1, W, T0 + 4 + LEASE],
          ['m[2]', 'queued', 0, null, null],
        ]);
        expect(items[0]!.startedAt).toBe(T0 + 4);
        // Only the third is left to claim; the first two complete as claimed steps do.
        expect((await claim(T0 + 5, 10, { runId: id })).map((c) => c.key)).toEqual(['m[2]']);
        const first = await store.completeStep(done(result.claimed[0]!, T0 + 6));
        expect(first.applied).toBe(true);
        expect(await stepOf(id, 'm')).toMatchObject({ status: 'running', waitingOn: 2 });
      });

      it('an expansion takes no item that needs a label its worker lacks', async () => {
        const id = await create([step('rows'), step('m', ['rows'], { labels: ['gpu'] })]);
        await store.completeStep(done(await claimKey(id, 'rows', T0 + 1), T0 + 2));
        const [m] = await store.claimSteps({
          workerId: W,
          limit: 1,
          now: T0 + 3,
          leaseMs: LEASE,
          runId: id,
          labels: ['gpu'],
        });
        expect(m?.key).toBe('m');
        // The expanding worker's claim names no label: the items (which inherit `gpu`) stay queued.
        const result = await store.expandStep({
          runId: id,
          key: 'm',
          attempt: m!.attempt,
          workerId: W,
          now: T0 + 4,
          items: ['m[0]', 'm[1]'],
          claim: { workerId: W, limit: 5, leaseMs: LEASE, labels: [] },
        });
        expect(result).toMatchObject({ applied: true, claimed: [], queuedMore: true });
        expect(
          (await store.listSteps(id)).filter((s) => s.parentKey === 'm').map((s) => s.status),
        ).toEqual(['queued', 'queued']);
      });

      it('a map step with no items succeeds at once', async () => {
        const { id, result } = await expanded([]);
        expect(result).toEqual({
          applied: true,
          runStatus: 'running',
          claimed: [],
          queuedMore: true,
        });
        expect(await stepOf(id, 'm')).toMatchObject({
          status: 'succeeded',
          output: null,
          finishedAt: T0 + 4,
        });
        expect((await stepOf(id, 'report')).status).toBe('queued');
        expect(await store.getItemOutputs(id, 'm')).toEqual([]);
      });

      it('an item retry leaves its map step waiting', async () => {
        const { id } = await expanded(['m[0]', 'm[1]']);
        const [i0] = await claim(T0 + 5, 1, { runId: id });
        await store.failStep(failed(i0!, T0 + 6, { retryAt: T0 + 100 }));
        expect(await stepOf(id, 'm')).toMatchObject({ status: 'running', waitingOn: 2 });
        expect((await stepOf(id, 'm[0]')).status).toBe('queued');
      });

      it('a failed item fails its map step, skips the items not started and the downstream', async () => {
        const { id } = await expanded(['m[0]', 'm[1]', 'm[2]']);
        const [i0, i1] = await claim(T0 + 5, 2, { runId: id });
        const r = await store.failStep(failed(i0!, T0 + 6));
        expect(r).toEqual({ applied: true, runStatus: 'running', claimed: [], queuedMore: false });
        expect(await statuses(id)).toEqual({
          rows: 'succeeded',
          m: 'failed',
          report: 'skipped',
          'm[0]': 'failed',
          'm[1]': 'running',
          'm[2]': 'skipped',
        });
        const m = await stepOf(id, 'm');
        expect(m.error?.message).toContain('m[0]');
        expect(m.error?.cause).toEqual({ name: 'Error', message: 'm[0] broke', code: 'boom' });
        // The item still running may finish; it changes nothing but itself.
        const late = await store.completeStep(done(i1!, T0 + 7));
        expect(late).toMatchObject({ applied: true, runStatus: 'failed' });
        expect((await stepOf(id, 'm')).status).toBe('failed');
        const run = await store.getRun(id);
        expect(run?.error?.name).toBe('RunFailed');
        expect(run?.error?.message).toMatch(/^steps failed: /);
        expect(run?.error?.message).toContain('m[0]');
      });

      it('nested items count down their own map step, which counts down its parent', async () => {
        const { id } = await expanded(['m[0]']);
        const [i0] = await claim(T0 + 5, 1, { runId: id });
        const inner = await store.expandStep({
          runId: id,
          key: 'm[0]',
          attempt: i0!.attempt,
          workerId: W,
          now: T0 + 6,
          items: ['m[0][0]', 'm[0][1]'],
        });
        expect(inner.applied).toBe(true);
        const leaves = await claim(T0 + 7, 5, { runId: id });
        expect(leaves.map((c) => [c.key, c.parentKey, c.index])).toEqual([
          ['m[0][0]', 'm[0]', 0],
          ['m[0][1]', 'm[0]', 1],
        ]);
        await store.completeStep(done(leaves[0]!, T0 + 8));
        expect((await stepOf(id, 'm')).status).toBe('running');
        const r = await store.completeStep(done(leaves[1]!, T0 + 9));
        expect(r.queuedMore).toBe(true);
        expect(await statuses(id)).toMatchObject({
          'm[0]': 'succeeded',
          m: 'succeeded',
          report: 'queued',
        });
      });
    });

    // Cancellation -----------------------------------------------------------------------------

    describe('cancelRun', () => {
      it('cancels the unfinished steps, returns the running ones and refuses their results', async () => {
        const id = await create([step('done'), step('a'), step('b'), step('c', ['a'])]);
        const first = await claimKey(id, 'a', T0 + 1);
        const second = await claimKey(id, 'b', T0 + 1);
        await store.completeStep(done(second, T0 + 2)); // b succeeded
        const result = await store.cancelRun(id, T0 + 3, 'asked by user');
        expect(result).toEqual({ cancelled: true, running: ['a'], descendants: [] });
        expect(await store.getRun(id)).toMatchObject({
          status: 'cancelled',
          finishedAt: T0 + 3,
          error: { name: 'Cancelled', message: 'asked by user' },
        });
        expect(await statuses(id)).toEqual({
          done: 'cancelled',
          a: 'cancelled',
          b: 'succeeded',
          c: 'cancelled',
        });
        expect((await stepOf(id, 'a')).leaseOwner).toBeNull();
        expect((await store.listAttempts(id)).find((x) => x.stepKey === 'a')).toMatchObject({
          attempt: 1,
          status: 'cancelled',
          workerId: W,
          finishedAt: T0 + 3,
        });
        expect(await store.completeStep(done(first, T0 + 4))).toEqual({
          applied: false,
          runStatus: 'cancelled',
          claimed: [],
          queuedMore: false,
        });
        expect(await claim(T0 + 5)).toEqual([]);
        expect(await store.cancelRun(id, T0 + 6, 'again')).toEqual({
          cancelled: false,
          running: [],
          descendants: [],
        });
        expect((await store.getRun(id))?.error?.message).toBe('asked by user');
      });

      it('leaves a finished run alone', async () => {
        const id = await create([step('a', [], { override: '1' })]);
        expect(await store.cancelRun(id, T0 + 1, 'late')).toEqual({
          cancelled: false,
          running: [],
          descendants: [],
        });
        await expect(store.cancelRun('run_missing', T0 + 1, 'nope')).rejects.toThrow(/run_missing/);
        expect((await store.getRun(id))?.status).toBe('succeeded');
      });
    });

    // Leases -----------------------------------------------------------------------------------

    describe('leases', () => {
      it('requeueExpired takes back leases that expired before now, with an interrupted attempt', async () => {
        const id = await create([step('a'), step('b')]);
        const [a, b] = await store.claimSteps({ workerId: W, limit: 2, now: T0, leaseMs: 1000 });
        expect(await store.renewLeases(W, [{ runId: id, key: b!.key }], T0 + 5000)).toEqual([]);
        expect(await store.requeueExpired(T0 + 1000)).toBe(0); // expires at, not before
        expect(await store.requeueExpired(T0 + 1001)).toBe(1);
        expect(await stepOf(id, a!.key)).toMatchObject({
          status: 'queued',
          attempt: 1,
          availableAt: T0 + 1001,
          leaseOwner: null,
          leaseExpiresAt: null,
        });
        expect(await stepOf(id, b!.key)).toMatchObject({
          status: 'running',
          leaseExpiresAt: T0 + 5000,
        });
        const attempts = await store.listAttempts(id);
        expect(attempts).toHaveLength(1);
        expect(attempts[0]).toMatchObject({
          stepKey: a!.key,
          attempt: 1,
          status: 'interrupted',
          workerId: W,
          startedAt: T0,
          finishedAt: T0 + 1001,
        });
        const again = await claim(T0 + 1002);
        expect(again.map((c) => [c.key, c.attempt])).toEqual([[a!.key, 2]]);
      });

      it('requeueExpired with owners takes back whatever those workers hold', async () => {
        const id = await create([step('a'), step('b')]);
        await store.claimSteps({ workerId: 'dead', limit: 1, now: T0, leaseMs: LEASE });
        await store.claimSteps({ workerId: 'alive', limit: 1, now: T0, leaseMs: LEASE });
        expect(await store.requeueExpired(T0 + 1, ['dead', 'unknown'])).toBe(1);
        expect(await statuses(id)).toEqual({ a: 'queued', b: 'running' });
        expect((await store.listAttempts(id))[0]).toMatchObject({
          stepKey: 'a',
          status: 'interrupted',
          workerId: 'dead',
        });
      });

      it('renewLeases extends what the worker holds and names what it lost', async () => {
        const id = await create([step('a'), step('b')]);
        const [a, b] = await claim(T0, 2);
        await store.completeStep(done(b!, T0 + 1));
        const lost = await store.renewLeases(
          W,
          [
            { runId: id, key: a!.key },
            { runId: id, key: b!.key },
            { runId: id, key: 'nope' },
          ],
          T0 + 99_000,
        );
        expect(lost).toEqual([
          { runId: id, key: b!.key },
          { runId: id, key: 'nope' },
        ]);
        expect((await stepOf(id, a!.key)).leaseExpiresAt).toBe(T0 + 99_000);
        expect(await store.renewLeases('worker-b', [{ runId: id, key: a!.key }], T0 + 1)).toEqual([
          { runId: id, key: a!.key },
        ]);
        expect((await stepOf(id, a!.key)).leaseExpiresAt).toBe(T0 + 99_000);
      });

      it('nextWakeAt is the earliest future availableAt, by definition', async () => {
        expect(await store.nextWakeAt(T0)).toBeNull();
        await create([step('a'), step('b')]);
        await create([step('c')], { definition: 'other' });
        const claimed = await claim(T0 + 1, 10);
        const byKey = new Map(claimed.map((c) => [c.key, c]));
        await store.failStep(failed(byKey.get('a')!, T0 + 2, { retryAt: T0 + 700 }));
        await store.failStep(failed(byKey.get('b')!, T0 + 2, { retryAt: T0 + 500 }));
        await store.failStep(failed(byKey.get('c')!, T0 + 2, { retryAt: T0 + 300 }));
        expect(await store.nextWakeAt(T0 + 2)).toBe(T0 + 300);
        expect(await store.nextWakeAt(T0 + 2, ['etl'])).toBe(T0 + 500);
        expect(await store.nextWakeAt(T0 + 2, ['none'])).toBeNull();
        expect(await store.nextWakeAt(T0 + 600, ['etl'])).toBe(T0 + 700);
        expect(await store.nextWakeAt(T0 + 700)).toBeNull();
      });
    });

    // Reads ------------------------------------------------------------------------------------

    describe('outputs', () => {
      it('getOutputs returns the encoded outputs of the asked steps', async () => {
        const id = await create([
          step('a'),
          step('o', [], { override: '"set"' }),
          step('b', ['a']),
        ]);
        const a = await claimKey(id, 'a', T0 + 1);
        await store.completeStep(done(a, T0 + 2, { output: '[1,2]' }));
        const out = await store.getOutputs(id, ['a', 'o', 'b', 'missing']);
        expect(out.get('a')).toBe('[1,2]');
        expect(out.get('o')).toBe('"set"');
        expect(out.has('b')).toBe(true);
        expect(out.get('b')).toBeNull();
        expect(out.has('missing')).toBe(false);
        expect((await store.getOutputs(id, [])).size).toBe(0);
      });
    });

    describe('logs', () => {
      it('appends and lists logs in order, by step, after a cursor, with a limit', async () => {
        const id = await create([step('a')]);
        const other = await create([step('a')]);
        await store.appendLogs([
          { runId: id, stepKey: 'a', attempt: 1, at: T0 + 1, level: 'info', message: 'one' },
          {
            runId: other,
            stepKey: 'a',
            attempt: 1,
            at: T0 + 1,
            level: 'info',
            message: 'elsewhere',
          },
          {
            runId: id,
            stepKey: null,
            attempt: null,
            at: T0 + 2,
            level: 'debug',
            message: 'run-level',
          },
        ]);
        await store.appendLogs([]);
        await store.appendLogs([
          { runId: id, stepKey: 'a', attempt: 2, at: T0 + 3, level: 'error', message: 'three' },
        ]);
        const logs = await store.listLogs(id);
        expect(logs.map((l) => l.message)).toEqual(['one', 'run-level', 'three']);
        expect(logs[1]).toEqual({
          seq: logs[1]!.seq,
          runId: id,
          stepKey: null,
          attempt: null,
          at: T0 + 2,
          level: 'debug',
          message: 'run-level',
        });
        expect(logs[0]!.seq).toBeLessThan(logs[1]!.seq);
        expect(logs[1]!.seq).toBeLessThan(logs[2]!.seq);
        expect(
          (await store.listLogs(id, { afterSeq: logs[0]!.seq })).map((l) => l.message),
        ).toEqual(['run-level', 'three']);
        expect((await store.listLogs(id, { stepKey: 'a' })).map((l) => l.message)).toEqual([
          'one',
          'three',
        ]);
        expect(
          (await store.listLogs(id, { stepKey: 'a', afterSeq: logs[0]!.seq })).map(
            (l) => l.message,
          ),
        ).toEqual(['three']);
        expect((await store.listLogs(id, { limit: 2 })).map((l) => l.message)).toEqual([
          'one',
          'run-level',
        ]);
        expect(await store.listLogs(id, { afterSeq: logs[2]!.seq })).toEqual([]);
      });
    });

    describe('workers', () => {
      it('upserts, lists and removes workers', async () => {
        const w1 = {
          id: 'w1',
          host: 'h1',
          pid: 11,
          startedAt: T0,
          heartbeatAt: T0,
          definitions: ['etl'],
          labels: [],
        };
        const w2 = {
          id: 'w2',
          host: 'h2',
          pid: 22,
          startedAt: T0 + 1,
          heartbeatAt: T0 + 1,
          definitions: [],
          labels: ['gpu', 'region-eu'],
        };
        await store.upsertWorker(w1);
        await store.upsertWorker(w2);
        expect(await store.listWorkers()).toEqual([w1, w2]);
        const beat = {
          ...w1,
          heartbeatAt: T0 + 5000,
          definitions: ['etl', 'other'],
          labels: ['gpu'],
        };
        await store.upsertWorker(beat);
        expect(await store.listWorkers()).toEqual([beat, w2]);
        await store.removeWorker('w1');
        await store.removeWorker('never-there');
        expect(await store.listWorkers()).toEqual([w2]);
      });

      it('counts the steps each worker holds running', async () => {
        expect(await store.countRunningByWorker()).toEqual(new Map());
        const r1 = await create([step('a'), step('b'), step('c')], { createdAt: T0 });
        await create([step('d')], { createdAt: T0 + 1 });
        const [a, b] = await claim(T0 + 2, 2, { runId: r1, workerId: 'w1' });
        await claim(T0 + 2, 10, { workerId: 'w2' });
        expect(await store.countRunningByWorker()).toEqual(
          new Map([
            ['w1', 2],
            ['w2', 2],
          ]),
        );
        await store.completeStep({ ...done(a!, T0 + 3), workerId: 'w1' });
        await store.failStep({ ...failed(b!, T0 + 3), workerId: 'w1' });
        expect(await store.countRunningByWorker()).toEqual(new Map([['w2', 2]]));
      });
    });

    // Workflows --------------------------------------------------------------------------------

    describeWorkflowConformance(() => store);

    // Many workers -----------------------------------------------------------------------------

    describeDistributedConformance(() => store, options.openSecond);

    // Two stores -------------------------------------------------------------------------------

    const openSecond = options.openSecond;
    const twoStores = openSecond ? describe : describe.skip;
    twoStores(
      `two stores on one database${openSecond ? '' : ' (skipped: no openSecond given)'}`,
      () => {
        let other: Store;
        beforeEach(async () => {
          other = await openSecond!();
        });
        afterEach(async () => {
          await other.close();
        });

        it('never claim the same step twice', async () => {
          const n = 120;
          const id = await create(
            Array.from({ length: n }, (_, i) => step(`s${String(i).padStart(3, '0')}`)),
          );
          const seen: string[] = [];
          const byWorker = { a: 0, b: 0 };
          for (let round = 0; round < n; round++) {
            const [a, b] = await Promise.all([
              store.claimSteps({ workerId: 'a', limit: 7, now: T0 + round, leaseMs: LEASE }),
              other.claimSteps({ workerId: 'b', limit: 5, now: T0 + round, leaseMs: LEASE }),
            ]);
            if (a.length === 0 && b.length === 0) break;
            seen.push(...a.map((c) => c.key), ...b.map((c) => c.key));
            byWorker.a += a.length;
            byWorker.b += b.length;
            await Promise.all([
              ...a.map((c) => store.completeStep({ ...done(c, T0 + round), workerId: 'a' })),
              ...b.map((c) => other.completeStep({ ...done(c, T0 + round), workerId: 'b' })),
            ]);
          }
          expect(seen).toHaveLength(n);
          expect(new Set(seen).size).toBe(n);
          expect(byWorker.a).toBeGreaterThan(0);
          expect(byWorker.b).toBeGreaterThan(0);
          expect((await other.getRun(id))?.status).toBe('succeeded');
        });

        it('record a result once when both deliver it', async () => {
          const id = await create([step('a'), step('b', ['a'])]);
          const a = await claimKey(id, 'a', T0 + 1);
          const results = await Promise.all([
            store.completeStep(done(a, T0 + 2, { claimNext: { limit: 1, leaseMs: LEASE } })),
            other.completeStep(done(a, T0 + 2, { claimNext: { limit: 1, leaseMs: LEASE } })),
          ]);
          expect(results.map((r) => r.applied).sort()).toEqual([false, true]);
          expect(results.flatMap((r) => r.claimed).map((c) => c.key)).toEqual(['b']);
          expect(await store.listAttempts(id)).toHaveLength(1);
        });

        it('create one run for one idempotency key', async () => {
          const [x, y] = await Promise.all([
            store.createRun(newRun({ idempotencyKey: 'once' }), [step('a')]),
            other.createRun(newRun({ idempotencyKey: 'once' }), [step('a')]),
          ]);
          expect([x.created, y.created].sort()).toEqual([false, true]);
          expect(x.run.id).toBe(y.run.id);
          expect(await store.listRuns()).toHaveLength(1);
        });
      },
    );
  });
}
