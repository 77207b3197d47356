/**
 * The workflow part of the store conformance suite, run by `describeStoreConformance` against
 * each backend's fresh store: journal entries, parking, events, child runs.
 *
 * A workflow run here is what the engine creates: one `$run` step of kind `run`. Worker `W`
 * claims it and writes its journal; the suite plays the engine's part with the store calls
 * alone.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { encode } from '../../core/codec.js';
import { LEASE, T0, W, done, failed, newRun, step } from './conformance-fixtures.js';
import type { Store } from './store.js';
import {
  WORKFLOW_STEP_KEY,
  type ClaimedStep,
  type EventQuery,
  type JournalEntry,
  type NewEvent,
  type NewRun,
  type ParkRun,
  type RecordEntry,
  type WaitInfo,
} from './types.js';

const RUN = WORKFLOW_STEP_KEY;
/** A time no test reaches: a run parked without `wakeAt` is still not claimable then. */
const FAR = T0 + 100 * 365 * 24 * 3_600_000;

type EventWait = Extract<WaitInfo, { kind: 'event' }>;

let events = 0;
/** Event ids sort in creation order, like real ones. */
function nextEventId(): string {
  events++;
  return `evt_${String(events).padStart(8, '0')}`;
}

function entry(key: string, seq: number, extra: Partial<JournalEntry> = {}): JournalEntry {
  return {
    key,
    name: key,
    kind: 'step',
    seq,
    status: 'running',
    output: null,
    error: null,
    attempt: 1,
    startedAt: T0,
    finishedAt: null,
    ...extra,
  };
}

function eventWait(event: string, extra: Partial<EventWait> = {}): EventWait {
  return {
    kind: 'event',
    entry: 'wait',
    event,
    key: null,
    match: null,
    since: T0,
    until: null,
    ...extra,
  };
}

function query(type: string, extra: Partial<EventQuery> = {}): EventQuery {
  return { type, key: null, match: null, since: T0, exclude: [], ...extra };
}

/** Runs `current()`'s workflow tests; `current` gives the store of the running test. */
export function describeWorkflowConformance(current: () => Store): void {
  describe('workflows', () => {
    let store: Store;
    beforeEach(() => {
      store = current();
    });

    /** Creates a workflow run (one `$run` step) and returns its id. */
    async function workflow(run: Partial<NewRun> = {}): Promise<string> {
      const r = newRun({ kind: 'workflow', definition: 'wf', ...run });
      const { created } = await store.createRun(r, [
        { key: RUN, node: r.definition, dependsOn: [], kind: 'run' },
      ]);
      expect(created).toBe(true);
      return r.id;
    }

    /** Claims the `$run` step of a run, checking it is claimable. */
    async function claimRun(runId: string, now: number, workerId = W): Promise<ClaimedStep> {
      const claimed = await store.claimSteps({ workerId, limit: 1, now, leaseMs: LEASE, runId });
      expect(
        claimed.map((c) => c.key),
        `the $run step of ${runId} is claimable at ${now}`,
      ).toEqual([RUN]);
      return claimed[0]!;
    }

    /** The runs whose `$run` step a claim at `now` takes (claiming them), sorted. */
    async function claimedRuns(now: number): Promise<string[]> {
      const claimed = await store.claimSteps({ workerId: W, limit: 100, now, leaseMs: LEASE });
      return claimed.map((c) => c.runId).sort();
    }

    function record(
      c: ClaimedStep,
      e: JournalEntry,
      now: number,
      extra: Partial<RecordEntry> = {},
    ): Promise<{ applied: boolean }> {
      return store.recordEntry({
        runId: c.runId,
        workerId: W,
        runAttempt: c.attempt,
        entry: e,
        now,
        ...extra,
      });
    }

    function park(
      c: ClaimedStep,
      now: number,
      wakeAt: number | null,
      waitingFor: WaitInfo,
      extra: Partial<ParkRun> = {},
    ): Promise<{ applied: boolean }> {
      return store.parkRun({
        runId: c.runId,
        workerId: W,
        runAttempt: c.attempt,
        now,
        wakeAt,
        waitingFor,
        ...extra,
      });
    }

    /** A fresh workflow run, claimed at `now` and parked on `wait` with no wake-up time. */
    async function parked(wait: WaitInfo, now = T0 + 1, run: Partial<NewRun> = {}) {
      const id = await workflow(run);
      const c = await claimRun(id, now);
      expect((await park(c, now, null, wait)).applied).toBe(true);
      return id;
    }

    function send(type: string, payload: unknown, sentAt: number, extra: Partial<NewEvent> = {}) {
      return store.sendEvent({
        id: nextEventId(),
        type,
        payload: encode(payload),
        sentAt,
        ...extra,
      });
    }

    /** Claims what a claim at `now` limited to the run takes. */
    function claimAt(runId: string, now: number): Promise<ClaimedStep[]> {
      return store.claimSteps({ workerId: W, limit: 10, now, leaseMs: LEASE, runId });
    }

    async function runStep(runId: string) {
      const s = await store.getStep(runId, RUN);
      expect(s, `$run step of ${runId}`).not.toBeNull();
      return s!;
    }

    it('a workflow run starts with its $run step of kind run', async () => {
      const id = await workflow();
      expect(await store.listSteps(id)).toEqual([
        expect.objectContaining({ key: RUN, node: 'wf', kind: 'run', seq: null, status: 'queued' }),
      ]);
      const c = await claimRun(id, T0 + 1);
      expect(c).toMatchObject({ kind: 'workflow', definition: 'wf', attempt: 1 });
      expect(await store.getRun(id)).toMatchObject({ status: 'running', waitingFor: null });
    });

    // Journal ----------------------------------------------------------------------------------

    describe('recordEntry', () => {
      it('upserts journal entries by key, with kind, seq, attempt rows and logs', async () => {
        const id = await workflow();
        const c = await claimRun(id, T0 + 1);
        const started = entry('fetch#0', 0, { name: 'fetch', startedAt: T0 + 2 });
        expect(await record(c, started, T0 + 2)).toEqual({ applied: true });
        expect(await store.getStep(id, 'fetch#0')).toMatchObject({
          runId: id,
          key: 'fetch#0',
          node: 'fetch',
          kind: 'step',
          seq: 0,
          status: 'running',
          attempt: 1,
          output: null,
          error: null,
          parentKey: null,
          index: null,
          leaseOwner: null,
          startedAt: T0 + 2,
          finishedAt: null,
        });
        const log = {
          runId: id,
          stepKey: 'fetch#0',
          attempt: 1,
          at: T0 + 3,
          level: 'info' as const,
          message: 'fetched',
        };
        const ok = await record(
          c,
          { ...started, status: 'succeeded', output: '{"rows":3}', finishedAt: T0 + 4 },
          T0 + 4,
          {
            attemptRow: { attempt: 1, status: 'succeeded', startedAt: T0 + 2, error: null },
            logs: [log],
          },
        );
        expect(ok.applied).toBe(true);
        const steps = await store.listSteps(id);
        expect(steps.map((s) => s.key)).toEqual([RUN, 'fetch#0']);
        expect(steps[1]).toMatchObject({
          status: 'succeeded',
          output: '{"rows":3}',
          seq: 0,
          finishedAt: T0 + 4,
        });
        expect(await store.listAttempts(id)).toEqual([
          {
            runId: id,
            stepKey: 'fetch#0',
            attempt: 1,
            status: 'succeeded',
            workerId: W,
            startedAt: T0 + 2,
            finishedAt: T0 + 4,
            error: null,
          },
        ]);
        expect((await store.listLogs(id, { stepKey: 'fetch#0' })).map((l) => l.message)).toEqual([
          'fetched',
        ]);

        // Every journal kind round-trips, with its error.
        const error = { name: 'Error', message: 'nope', code: 'x' };
        await record(c, entry('nap', 1, { kind: 'sleep', output: '{"until":5}' }), T0 + 5);
        await record(c, entry('approval', 2, { kind: 'event' }), T0 + 5);
        await record(c, entry('sub', 3, { kind: 'child', status: 'failed', error }), T0 + 5);
        const kinds = (await store.listSteps(id)).map((s) => [s.key, s.kind, s.seq, s.status]);
        expect(kinds).toEqual([
          [RUN, 'run', null, 'running'],
          ['fetch#0', 'step', 0, 'succeeded'],
          ['nap', 'sleep', 1, 'running'],
          ['approval', 'event', 2, 'running'],
          ['sub', 'child', 3, 'failed'],
        ]);
        expect((await store.getStep(id, 'sub'))?.error).toEqual(error);
        expect((await store.getStep(id, 'nap'))?.output).toBe('{"until":5}');
        // The run itself is untouched.
        expect(await store.getRun(id)).toMatchObject({ status: 'running', waitingFor: null });
      });

      it('never lets a journal entry be claimed, whatever its status', async () => {
        const id = await workflow();
        const c = await claimRun(id, T0 + 1);
        await record(c, entry('later', 0, { status: 'queued' }), T0 + 2);
        await record(c, entry('soon', 1, { status: 'pending' }), T0 + 2);
        expect(
          await store.claimSteps({ workerId: 'worker-b', limit: 10, now: FAR, leaseMs: 1 }),
        ).toEqual([]);
        expect(await store.nextWakeAt(T0 + 2)).toBeNull();
      });

      it('is refused for another worker or attempt, or once the worker lost the run', async () => {
        const id = await workflow();
        const c = await claimRun(id, T0 + 1);
        const before = await store.listSteps(id);
        const logs = [
          { runId: id, stepKey: 'x', attempt: 1, at: T0 + 2, level: 'info' as const, message: 'm' },
        ];
        const attemptRow = {
          attempt: 1,
          status: 'succeeded' as const,
          startedAt: T0 + 2,
          error: null,
        };
        const x = entry('x', 0, { status: 'succeeded', output: '1' });
        expect(await record(c, x, T0 + 2, { workerId: 'worker-b', logs, attemptRow })).toEqual({
          applied: false,
        });
        expect(await record(c, x, T0 + 2, { runAttempt: 2, logs, attemptRow })).toEqual({
          applied: false,
        });
        expect(await store.listSteps(id)).toEqual(before);
        expect(await store.listAttempts(id)).toEqual([]);
        expect(await store.listLogs(id)).toEqual([]);

        // Its lease expired and another worker holds the run now: the old holder is fenced off.
        expect(await store.requeueExpired(T0 + 1 + LEASE + 1)).toBe(1);
        const fresh = await claimRun(id, T0 + LEASE + 3, 'worker-b');
        expect(fresh.attempt).toBe(2);
        expect((await record(c, x, T0 + LEASE + 4)).applied).toBe(false);
        expect((await record(fresh, x, T0 + LEASE + 4, { workerId: 'worker-b' })).applied).toBe(
          true,
        );

        // Parked, nobody holds the run.
        await park(
          fresh,
          T0 + LEASE + 5,
          T0 + LEASE + 100,
          { kind: 'sleep', entry: 'n', until: 0 },
          {
            workerId: 'worker-b',
          },
        );
        expect(
          (await record(fresh, entry('y', 1), T0 + LEASE + 6, { workerId: 'worker-b' })).applied,
        ).toBe(false);
        expect(await store.getStep(id, 'y')).toBeNull();
      });

      it('records several entries of a run in one call, as one by one in order', async () => {
        const id = await workflow();
        const c = await claimRun(id, T0 + 1);
        const input = (e: JournalEntry, now: number, extra: Partial<RecordEntry> = {}) => ({
          runId: id,
          workerId: W,
          runAttempt: c.attempt,
          entry: e,
          now,
          ...extra,
        });
        const log = (message: string, at: number) => ({
          runId: id,
          stepKey: 'flaky',
          attempt: 1,
          at,
          level: 'info' as const,
          message,
        });
        const error = { name: 'Error', message: 'try again', code: 'x' };
        const flaky = entry('flaky', 1, { name: 'flaky', startedAt: T0 + 3 });
        expect(
          await store.recordEntries([
            input(entry('a', 0, { status: 'succeeded', output: '1', finishedAt: T0 + 2 }), T0 + 2, {
              attemptRow: { attempt: 1, status: 'succeeded', startedAt: T0 + 2, error: null },
            }),
            // The same key twice (a retry, then its success): the later state wins.
            input({ ...flaky, status: 'queued', error }, T0 + 4, {
              attemptRow: { attempt: 1, status: 'failed', startedAt: T0 + 3, error },
              logs: [log('first', T0 + 3)],
            }),
            input(
              {
                ...flaky,
                status: 'succeeded',
                attempt: 2,
                output: '2',
                startedAt: T0 + 5,
                finishedAt: T0 + 6,
              },
              T0 + 6,
              {
                attemptRow: { attempt: 2, status: 'succeeded', startedAt: T0 + 5, error: null },
                logs: [log('second', T0 + 5)],
              },
            ),
            input(entry('nap', 2, { kind: 'sleep', output: '{"until":9}' }), T0 + 7),
          ]),
        ).toEqual({ applied: true });
        const steps = (await store.listSteps(id)).map((s) => [s.key, s.seq, s.status, s.attempt]);
        expect(steps).toEqual([
          [RUN, null, 'running', 1],
          ['a', 0, 'succeeded', 1],
          ['flaky', 1, 'succeeded', 2],
          ['nap', 2, 'running', 1],
        ]);
        expect(await store.getStep(id, 'flaky')).toMatchObject({ output: '2', error: null });
        const attempts = (await store.listAttempts(id)).map((a) => [
          a.stepKey,
          a.attempt,
          a.status,
          a.finishedAt,
        ]);
        expect(attempts).toEqual([
          ['a', 1, 'succeeded', T0 + 2],
          ['flaky', 1, 'failed', T0 + 4],
          ['flaky', 2, 'succeeded', T0 + 6],
        ]);
        expect((await store.listLogs(id, { stepKey: 'flaky' })).map((l) => l.message)).toEqual([
          'first',
          'second',
        ]);
        // None at all is nothing to do.
        expect(await store.recordEntries([])).toEqual({ applied: true });
      });

      it("records a run's last entries with its completion, fenced like it", async () => {
        const id = await workflow();
        const c = await claimRun(id, T0 + 1);
        const last = ['p', 'q'].map((key, seq) => ({
          runId: id,
          workerId: W,
          runAttempt: c.attempt,
          entry: entry(key, seq, { status: 'succeeded', output: String(seq) }),
          now: T0 + 2,
          attemptRow: { attempt: 1, status: 'succeeded' as const, startedAt: T0 + 2, error: null },
        }));
        const complete = (workerId: string) =>
          store.completeStep({
            runId: id,
            key: RUN,
            attempt: c.attempt,
            workerId,
            output: '"done"',
            now: T0 + 3,
            journal: last.map((l) => ({ ...l, workerId })),
          });
        // Another worker: neither the entries nor the completion.
        expect((await complete('worker-b')).applied).toBe(false);
        expect((await store.listSteps(id)).map((s) => s.key)).toEqual([RUN]);
        expect(await complete(W)).toMatchObject({ applied: true, runStatus: 'succeeded' });
        expect((await store.listSteps(id)).map((s) => [s.key, s.status])).toEqual([
          [RUN, 'succeeded'],
          ['p', 'succeeded'],
          ['q', 'succeeded'],
        ]);
        expect((await store.listAttempts(id)).map((a) => a.stepKey).sort()).toEqual([
          RUN,
          'p',
          'q',
        ]);
      });

      it('records the entries of several runs in one call, each fenced by its own run', async () => {
        const [a, b, lost] = [await workflow(), await workflow(), await workflow()];
        const held = await Promise.all([a, b, lost].map((id) => claimRun(id, T0 + 1)));
        const group = (runId: string, workerId: string, keys: string[], at: number) =>
          keys.map((key, seq) => ({
            runId,
            workerId,
            runAttempt: held.find((c) => c.runId === runId)!.attempt,
            entry: entry(key, seq, { status: 'succeeded', output: `"${key}"`, finishedAt: at }),
            now: at,
            attemptRow: { attempt: 1, status: 'succeeded' as const, startedAt: at, error: null },
            logs: [{ runId, stepKey: key, attempt: 1, at, level: 'info' as const, message: key }],
          }));
        expect(await store.recordEntryGroups([])).toEqual([]);
        expect(
          await store.recordEntryGroups([
            group(a, W, ['x', 'y'], T0 + 2),
            // Another worker's entries for a run it does not hold: refused, the others written.
            group(lost, 'worker-b', ['z'], T0 + 2),
            [],
            group(b, W, ['x'], T0 + 2),
            // The same run again: applied after its first group, as a second call would be.
            group(a, W, ['z'], T0 + 3),
          ]),
        ).toEqual([
          { applied: true },
          { applied: false },
          { applied: true },
          { applied: true },
          { applied: true },
        ]);
        const keys = async (id: string) =>
          (await store.listSteps(id)).map((s) => [s.key, s.status, s.output]);
        expect(await keys(a)).toEqual([
          [RUN, 'running', null],
          ['x', 'succeeded', '"x"'],
          ['y', 'succeeded', '"y"'],
          ['z', 'succeeded', '"z"'],
        ]);
        expect(await keys(b)).toEqual([
          [RUN, 'running', null],
          ['x', 'succeeded', '"x"'],
        ]);
        expect(await keys(lost)).toEqual([[RUN, 'running', null]]);
        expect((await store.listAttempts(a)).map((x) => [x.stepKey, x.workerId])).toEqual([
          ['x', W],
          ['y', W],
          ['z', W],
        ]);
        expect(await store.listAttempts(lost)).toEqual([]);
        expect((await store.listLogs(a)).map((l) => l.message)).toEqual(['x', 'y', 'z']);
        expect(await store.listLogs(lost)).toEqual([]);

        // A group of two runs is a caller's bug, as in recordEntries: nothing is written.
        const before = await store.listSteps(b);
        const mixed = [...group(b, W, ['w'], T0 + 4), ...group(a, W, ['w'], T0 + 4)];
        await expect(
          store.recordEntryGroups([group(b, W, ['v'], T0 + 4), mixed]),
        ).rejects.toMatchObject({ code: 'invalid_entry' });
        expect(await store.listSteps(b)).toEqual(before);
      });

      it('records a batch all or nothing: refused once the worker lost the run', async () => {
        const id = await workflow();
        const c = await claimRun(id, T0 + 1);
        const batch = ['p', 'q', 'r'].map((key, seq) => ({
          runId: id,
          workerId: 'worker-b',
          runAttempt: c.attempt,
          entry: entry(key, seq, { status: 'succeeded', output: '1' }),
          now: T0 + 2,
          attemptRow: { attempt: 1, status: 'succeeded' as const, startedAt: T0 + 2, error: null },
        }));
        const before = await store.listSteps(id);
        expect(await store.recordEntries(batch)).toEqual({ applied: false });
        expect(await store.listSteps(id)).toEqual(before);
        expect(await store.listAttempts(id)).toEqual([]);

        // Entries of two runs (or two holders) in one batch are a caller's bug.
        const other = await workflow();
        const mixed = [batch[0]!, { ...batch[1]!, runId: other }];
        await expect(store.recordEntries(mixed)).rejects.toMatchObject({ code: 'invalid_entry' });
        const own = { ...batch[0]!, workerId: W, entry: entry(RUN, 0) };
        await expect(store.recordEntries([own])).rejects.toMatchObject({ code: 'invalid_entry' });
        expect(await store.listSteps(id)).toEqual(before);
      });

      it('refuses a pipeline run (it has no $run step)', async () => {
        const r = newRun();
        await store.createRun(r, [step('a')]);
        const [a] = await store.claimSteps({ workerId: W, limit: 1, now: T0 + 1, leaseMs: LEASE });
        const result = await record(
          { ...a!, key: RUN },
          entry('a', 0, { status: 'succeeded' }),
          T0 + 2,
        );
        expect(result.applied).toBe(false);
        expect((await store.getStep(r.id, 'a'))?.kind).toBe('node');
      });
    });

    // Parking ----------------------------------------------------------------------------------

    describe('parkRun', () => {
      it('parks the run until wakeAt; a claim then resumes it and clears waitingFor', async () => {
        const id = await workflow();
        const c = await claimRun(id, T0 + 1);
        const wait: WaitInfo = { kind: 'sleep', entry: 'nap', until: T0 + 1000 };
        const log = {
          runId: id,
          stepKey: RUN,
          attempt: 1,
          at: T0 + 2,
          level: 'info' as const,
          message: 'napping',
        };
        expect(await park(c, T0 + 2, T0 + 1000, wait, { logs: [log] })).toEqual({
          applied: true,
        });
        expect(await store.getRun(id)).toMatchObject({ status: 'waiting', waitingFor: wait });
        expect(await runStep(id)).toMatchObject({
          status: 'queued',
          attempt: 1,
          availableAt: T0 + 1000,
          leaseOwner: null,
          leaseExpiresAt: null,
        });
        // Parking is not a failure: no attempt row.
        expect(await store.listAttempts(id)).toEqual([]);
        expect((await store.listLogs(id)).map((l) => l.message)).toEqual(['napping']);
        // The worker no longer holds the run.
        expect(await store.renewLeases(W, [{ runId: id, key: RUN }], T0 + 5000)).toEqual([
          { runId: id, key: RUN },
        ]);
        expect((await park(c, T0 + 3, T0 + 5, wait)).applied).toBe(false);
        expect((await runStep(id)).availableAt).toBe(T0 + 1000);

        expect(await claimedRuns(T0 + 999)).toEqual([]);
        expect(await store.nextWakeAt(T0 + 2)).toBe(T0 + 1000);
        const again = await claimRun(id, T0 + 1000);
        expect(again.attempt).toBe(2);
        expect(await store.getRun(id)).toMatchObject({ status: 'running', waitingFor: null });
      });

      it('is refused for another worker or attempt, changing nothing', async () => {
        const id = await workflow();
        const c = await claimRun(id, T0 + 1);
        const wait: WaitInfo = { kind: 'sleep', entry: 'nap', until: T0 + 10 };
        expect(await park(c, T0 + 2, T0 + 10, wait, { workerId: 'worker-b' })).toEqual({
          applied: false,
        });
        expect(await park(c, T0 + 2, T0 + 10, wait, { runAttempt: 2 })).toEqual({
          applied: false,
        });
        expect(await store.getRun(id)).toMatchObject({ status: 'running', waitingFor: null });
        expect(await runStep(id)).toMatchObject({ status: 'running', leaseOwner: W });
      });

      it('with no wakeAt, the run is never claimed nor counted by nextWakeAt until woken', async () => {
        const wait = eventWait('approved', { since: T0 + 1 });
        const id = await parked(wait);
        expect(await store.getRun(id)).toMatchObject({ status: 'waiting', waitingFor: wait });
        expect(await claimedRuns(FAR)).toEqual([]);
        expect(await store.nextWakeAt(T0)).toBeNull();
        expect(await store.nextWakeAt(T0, ['wf'])).toBeNull();

        const sent = await send('approved', { by: 'ann' }, T0 + 50);
        expect(sent.woken).toEqual([id]);
        expect((await runStep(id)).availableAt).toBeLessThanOrEqual(T0 + 50);
        const c = await claimRun(id, T0 + 50);
        expect(c.attempt).toBe(2);
        expect(await store.getRun(id)).toMatchObject({ status: 'running', waitingFor: null });
      });

      it('with exclude, wakes at once for an event that came while the worker looked away', async () => {
        const id = await workflow();
        const c = await claimRun(id, T0 + 1);
        const wait = eventWait('approved', { key: 'o1' });
        expect(await store.findEvent(query('approved', { key: 'o1' }))).toBeNull();
        // The event comes before the run is parked: nothing to wake yet.
        const { event, woken } = await send('approved', {}, T0 + 2, { key: 'o1' });
        expect(woken).toEqual([]);
        expect((await park(c, T0 + 3, null, wait, { exclude: [] })).applied).toBe(true);
        expect((await store.getRun(id))?.status).toBe('waiting');
        const resumed = await claimRun(id, T0 + 3);

        // An event the run already had does not wake it again.
        const again = await park(resumed, T0 + 4, null, wait, { exclude: [event.id] });
        expect(again.applied).toBe(true);
        expect(await claimedRuns(FAR)).toEqual([]);
      });

      it('on a child that already finished, wakes at once', async () => {
        const parent = await workflow();
        const c = await claimRun(parent, T0 + 1);
        const child = newRun({ parentRunId: parent, trigger: 'parent' });
        await store.createRun(child, [step('a', [], { override: '1' })]);
        expect((await store.getRun(child.id))?.status).toBe('succeeded');
        const wait: WaitInfo = { kind: 'child', entry: 'sub', childRunId: child.id };
        expect((await park(c, T0 + 2, null, wait)).applied).toBe(true);
        expect(await store.getRun(parent)).toMatchObject({ status: 'waiting', waitingFor: wait });
        expect(await claimedRuns(T0 + 2)).toEqual([parent]);
      });
    });

    // Finishing --------------------------------------------------------------------------------

    describe('the $run step', () => {
      it('completing it finishes the run with its output; unfinished entries are cancelled', async () => {
        const id = await workflow();
        const c = await claimRun(id, T0 + 1);
        await record(c, entry('a', 0, { status: 'succeeded', output: '1' }), T0 + 2);
        // A failed entry the workflow caught does not fail the run.
        await record(
          c,
          entry('b', 1, { status: 'failed', error: { name: 'E', message: 'm' } }),
          T0 + 3,
        );
        await record(c, entry('c', 2, { status: 'running' }), T0 + 4);
        const { finishedRun, ...result } = await store.completeStep(
          done(c, T0 + 5, { output: '{"total":3}' }),
        );
        expect(result).toEqual({
          applied: true,
          runStatus: 'succeeded',
          claimed: [],
          queuedMore: false,
        });
        // A store may hand the finished run back (its waiters need not read it).
        if (finishedRun !== undefined) expect(finishedRun).toEqual(await store.getRun(id));
        expect(await store.getRun(id)).toMatchObject({
          status: 'succeeded',
          finishedAt: T0 + 5,
          error: null,
          waitingFor: null,
        });
        expect(await runStep(id)).toMatchObject({ status: 'succeeded', output: '{"total":3}' });
        expect(await store.getStep(id, 'c')).toMatchObject({
          status: 'cancelled',
          finishedAt: T0 + 5,
        });
        const statuses = (await store.listSteps(id)).map((s) => [s.key, s.status]);
        expect(statuses).toEqual([
          [RUN, 'succeeded'],
          ['a', 'succeeded'],
          ['b', 'failed'],
          ['c', 'cancelled'],
        ]);
        expect((await store.listAttempts(id)).map((a) => [a.stepKey, a.status])).toEqual([
          [RUN, 'succeeded'],
        ]);
        // The journal is closed now.
        expect((await record(c, entry('d', 3), T0 + 6)).applied).toBe(false);
      });

      it('a final failStep fails the run with its error; with retryAt it is retried', async () => {
        const id = await workflow();
        const c = await claimRun(id, T0 + 1);
        const retry = await store.failStep(failed(c, T0 + 2, { retryAt: T0 + 500 }));
        expect(retry).toMatchObject({ applied: true, runStatus: 'running' });
        expect(await runStep(id)).toMatchObject({ status: 'queued', availableAt: T0 + 500 });
        expect(await claimedRuns(T0 + 499)).toEqual([]);

        const c2 = await claimRun(id, T0 + 500);
        expect(c2.attempt).toBe(2);
        await record(c2, entry('x', 0), T0 + 501);
        const f = failed(c2, T0 + 502);
        const result = await store.failStep(f);
        expect(result).toEqual({
          applied: true,
          runStatus: 'failed',
          claimed: [],
          queuedMore: false,
        });
        const run = await store.getRun(id);
        expect(run).toMatchObject({ status: 'failed', finishedAt: T0 + 502, waitingFor: null });
        expect(run?.error).toEqual(f.error);
        expect((await store.getStep(id, 'x'))?.status).toBe('cancelled');
        expect((await store.listAttempts(id)).map((a) => [a.attempt, a.status])).toEqual([
          [1, 'failed'],
          [2, 'failed'],
        ]);
      });
    });

    // Events -----------------------------------------------------------------------------------

    describe('events', () => {
      it('sendEvent records an event once per idempotency key', async () => {
        const first = await send('paid', { amount: 3 }, T0 + 1, {
          key: 'o1',
          idempotencyKey: 'pay-1',
        });
        expect(first).toEqual({
          event: {
            id: first.event.id,
            type: 'paid',
            key: 'o1',
            payload: encode({ amount: 3 }),
            idempotencyKey: 'pay-1',
            sentAt: T0 + 1,
          },
          created: true,
          woken: [],
        });
        const id = await parked(eventWait('paid', { key: 'o1' }));
        const repeat = await send('paid', { amount: 4 }, T0 + 2, {
          key: 'o1',
          idempotencyKey: 'pay-1',
        });
        expect(repeat).toEqual({ event: first.event, created: false, woken: [] });
        expect(await claimedRuns(T0 + 2)).toEqual([]);
        expect(await store.listEvents()).toEqual([first.event]);
        // Without a key, every send is an event.
        const a = await send('paid', null, T0 + 3, { key: 'o1' });
        const b = await send('paid', null, T0 + 3);
        expect([a.created, b.created]).toEqual([true, true]);
        expect(a.woken).toEqual([id]);
        expect(b.event).toMatchObject({ key: null, idempotencyKey: null });
        expect(await store.listEvents()).toHaveLength(3);
      });

      it('findEvent: a keyed wait sees its key sent any time; an unkeyed one, any key sent since', async () => {
        const o1 = (await send('paid', 1, T0 + 10, { key: 'o1' })).event;
        const o2 = (await send('paid', 2, T0 + 20, { key: 'o2' })).event;
        const none = (await send('paid', 3, T0 + 30)).event;
        await send('shipped', 4, T0 + 40, { key: 'o1' });
        // Keyed: the event came before the wait began.
        expect(await store.findEvent(query('paid', { key: 'o1', since: T0 + 100 }))).toEqual(o1);
        expect(await store.findEvent(query('paid', { key: 'o2', since: T0 + 100 }))).toEqual(o2);
        expect(await store.findEvent(query('paid', { key: 'o3' }))).toBeNull();
        // Unkeyed: only what was sent at or after since, whatever its key.
        expect(await store.findEvent(query('paid', { since: T0 + 10 }))).toEqual(o1);
        expect(await store.findEvent(query('paid', { since: T0 + 11 }))).toEqual(o2);
        expect(await store.findEvent(query('paid', { since: T0 + 21 }))).toEqual(none);
        expect(await store.findEvent(query('paid', { since: T0 + 31 }))).toBeNull();
        expect(await store.findEvent(query('refunded', { since: 0 }))).toBeNull();
      });

      it('findEvent gives the earliest match (then by id), with dotted paths and exclude', async () => {
        const payload = (id: number, tier: string) => ({ order: { id, lines: [id] }, tier });
        // Sent out of id order: the earliest sentAt wins, then the smaller id.
        const late = (
          await store.sendEvent({
            id: 'evt_a_late',
            type: 'order',
            payload: encode(payload(1, 'gold')),
            sentAt: T0 + 20,
          })
        ).event;
        const tieB = (
          await store.sendEvent({
            id: 'evt_c_tie',
            type: 'order',
            payload: encode(payload(2, 'gold')),
            sentAt: T0 + 10,
          })
        ).event;
        const tieA = (
          await store.sendEvent({
            id: 'evt_b_tie',
            type: 'order',
            payload: encode(payload(2, 'silver')),
            sentAt: T0 + 10,
          })
        ).event;
        expect(await store.findEvent(query('order'))).toEqual(tieA);
        expect(await store.findEvent(query('order', { exclude: [tieA.id] }))).toEqual(tieB);
        expect(await store.findEvent(query('order', { exclude: [tieA.id, tieB.id] }))).toEqual(
          late,
        );
        expect(
          await store.findEvent(query('order', { exclude: [tieA.id, tieB.id, late.id] })),
        ).toBeNull();
        expect(await store.findEvent(query('order', { match: { 'order.id': 1 } }))).toEqual(late);
        expect(await store.findEvent(query('order', { match: { tier: 'gold' } }))).toEqual(tieB);
        expect(
          await store.findEvent(query('order', { match: { 'order.id': 2, tier: 'gold' } })),
        ).toEqual(tieB);
        // Values compare as JSON: objects and arrays by content.
        expect(
          await store.findEvent(query('order', { match: { order: { id: 1, lines: [1] } } })),
        ).toEqual(late);
        expect(await store.findEvent(query('order', { match: { 'order.lines': [2] } }))).toEqual(
          tieA,
        );
        expect(await store.findEvent(query('order', { match: { 'order.id': 3 } }))).toBeNull();
        expect(await store.findEvent(query('order', { match: { 'tier.x': 'gold' } }))).toBeNull();
        expect(
          await store.findEvent(query('order', { match: { tier: 'gold' }, exclude: [tieB.id] })),
        ).toEqual(late);
      });

      it('sendEvent wakes only the waits it satisfies: type, key, since and match', async () => {
        const keyed = await parked(eventWait('paid', { key: 'o1' }));
        const otherKey = await parked(eventWait('paid', { key: 'o2' }));
        const unkeyed = await parked(eventWait('paid', { since: T0 + 50 }));
        const tooLate = await parked(eventWait('paid', { since: T0 + 51 }));
        const gold = await parked(eventWait('paid', { match: { 'customer.tier': 'gold' } }));
        const silver = await parked(eventWait('paid', { match: { 'customer.tier': 'silver' } }));
        const goldOther = await parked(
          eventWait('paid', { key: 'o2', match: { 'customer.tier': 'gold' } }),
        );
        const otherType = await parked(eventWait('shipped'));
        const sleeping = await parked({ kind: 'sleep', entry: 'nap', until: FAR });

        const sent = await send('paid', { customer: { tier: 'gold' } }, T0 + 50, { key: 'o1' });
        expect(sent.woken.sort()).toEqual([keyed, unkeyed, gold].sort());
        for (const id of sent.woken) expect((await store.getRun(id))?.status).toBe('waiting');
        expect(await claimedRuns(T0 + 50)).toEqual([keyed, unkeyed, gold].sort());
        for (const id of [otherKey, tooLate, silver, goldOther, otherType, sleeping]) {
          expect(await store.getRun(id)).toMatchObject({ status: 'waiting' });
        }

        // A woken run is not woken twice; the next matching event wakes the others.
        const next = await send('paid', { customer: { tier: 'silver' } }, T0 + 60, { key: 'o2' });
        expect(next.woken.sort()).toEqual([otherKey, tooLate, silver].sort());
        const shipped = await send('shipped', null, T0 + 70);
        expect(shipped.woken).toEqual([otherType]);
        expect(await claimedRuns(T0 + 70)).toEqual([otherKey, tooLate, silver, otherType].sort());
        expect((await store.getRun(goldOther))?.status).toBe('waiting');
        expect((await store.getRun(sleeping))?.status).toBe('waiting');
      });

      it('listEvents lists newest first, by type, with a limit', async () => {
        expect(await store.listEvents()).toEqual([]);
        const a = (await send('a', 1, T0 + 1)).event;
        const b = (await send('b', 2, T0 + 2)).event;
        const c = (await send('a', 3, T0 + 3, { key: 'k' })).event;
        expect(await store.listEvents()).toEqual([c, b, a]);
        expect(await store.listEvents({ type: 'a' })).toEqual([c, a]);
        expect(await store.listEvents({ limit: 2 })).toEqual([c, b]);
        expect(await store.listEvents({ type: 'a', limit: 1 })).toEqual([c]);
        expect(await store.listEvents({ type: 'none' })).toEqual([]);
      });
    });

    // Child runs -------------------------------------------------------------------------------

    describe('child runs', () => {
      /** A parent parked on a new workflow child; returns both ids. */
      async function parentWithChild(): Promise<{ parent: string; child: string }> {
        const parent = await workflow({ definition: 'parent' });
        const c = await claimRun(parent, T0 + 1);
        const child = await workflow({ parentRunId: parent, trigger: 'parent' });
        const wait: WaitInfo = { kind: 'child', entry: 'sub', childRunId: child };
        expect((await park(c, T0 + 2, null, wait)).applied).toBe(true);
        return { parent, child };
      }

      it('a child that finishes wakes its parked parent, however it finishes', async () => {
        const finishes: [string, (c: ClaimedStep) => Promise<unknown>][] = [
          ['succeeded', (c) => store.completeStep(done(c, T0 + 10, { workerId: 'worker-b' }))],
          [
            'succeeded',
            (c) => store.completeStep(done(c, T0 + 10, { workerId: 'worker-b', mayFinish: true })),
          ],
          ['failed', (c) => store.failStep(failed(c, T0 + 10, { workerId: 'worker-b' }))],
          ['cancelled', (c) => store.cancelRun(c.runId, T0 + 10, 'stop')],
        ];
        for (const [status, finish] of finishes) {
          const { parent, child } = await parentWithChild();
          expect(await claimAt(parent, FAR)).toEqual([]);
          const c = await claimRun(child, T0 + 5, 'worker-b');
          await finish(c);
          expect((await store.getRun(child))?.status).toBe(status);
          expect((await runStep(parent)).availableAt, status).toBeLessThanOrEqual(T0 + 10);
          const resumed = await claimRun(parent, T0 + 10);
          expect(resumed.attempt).toBe(2);
          expect(await store.getRun(parent)).toMatchObject({
            status: 'running',
            waitingFor: null,
          });
        }
      });

      it('a pipeline child that finishes wakes its parked parent too', async () => {
        const parent = await workflow();
        const c = await claimRun(parent, T0 + 1);
        const child = newRun({ parentRunId: parent });
        await store.createRun(child, [step('a')]);
        await park(c, T0 + 2, null, { kind: 'child', entry: 'sub', childRunId: child.id });
        const [a] = await store.claimSteps({
          workerId: 'worker-b',
          limit: 1,
          now: T0 + 3,
          leaseMs: LEASE,
          runId: child.id,
        });
        // The hint that it finishes its run: the parent is woken all the same.
        await store.completeStep(done(a!, T0 + 4, { workerId: 'worker-b', mayFinish: true }));
        expect((await store.getRun(child.id))?.status).toBe('succeeded');
        expect(await claimedRuns(T0 + 4)).toEqual([parent]);
      });

      it('a child finishing leaves a parent that is not parked alone', async () => {
        const parent = await workflow();
        const p = await claimRun(parent, T0 + 1);
        const child = await workflow({ parentRunId: parent });
        const c = await claimRun(child, T0 + 2, 'worker-b');
        await store.completeStep(done(c, T0 + 3, { workerId: 'worker-b' }));
        expect(await runStep(parent)).toMatchObject({
          status: 'running',
          leaseOwner: W,
          attempt: 1,
        });
        expect((await store.completeStep(done(p, T0 + 4))).runStatus).toBe('succeeded');
      });

      it('listChildRuns lists the runs whose parent is the run, oldest first', async () => {
        const parent = await workflow();
        const other = await workflow();
        expect(await store.listChildRuns(parent)).toEqual([]);
        const c1 = await workflow({ parentRunId: parent });
        const c2 = await workflow({ parentRunId: parent });
        await workflow({ parentRunId: c1 });
        await workflow({ parentRunId: other });
        const children = await store.listChildRuns(parent);
        expect(children.map((r) => r.id)).toEqual([c1, c2]);
        expect(children[0]).toEqual(await store.getRun(c1));
        expect(await store.listChildRuns('run_missing')).toEqual([]);
      });

      it('cancelRun cancels the descendants: children, grandchildren, below finished children too', async () => {
        const root = await workflow();
        const r = await claimRun(root, T0 + 1);
        const running = await workflow({ parentRunId: root });
        const rc = await claimRun(running, T0 + 2, 'worker-b');
        const grandchild = await workflow({ parentRunId: running });
        const finished = await workflow({ parentRunId: root });
        const f = await claimRun(finished, T0 + 3, 'worker-b');
        await store.completeStep(done(f, T0 + 4, { workerId: 'worker-b' }));
        const orphan = await workflow({ parentRunId: finished });
        const parkedChild = await parked(eventWait('never'), T0 + 5, { parentRunId: root });
        const unrelated = await workflow();

        const result = await store.cancelRun(root, T0 + 10, 'stop it');
        expect(result.cancelled).toBe(true);
        expect(result.running).toEqual([RUN]);
        expect([...result.descendants].sort()).toEqual(
          [running, grandchild, orphan, parkedChild].sort(),
        );
        for (const id of [root, running, grandchild, orphan, parkedChild]) {
          expect(await store.getRun(id), id).toMatchObject({
            status: 'cancelled',
            finishedAt: T0 + 10,
            waitingFor: null,
          });
          expect((await runStep(id)).status).toBe('cancelled');
        }
        expect((await store.getRun(running))?.error?.name).toBe('Cancelled');
        expect((await store.getRun(finished))?.status).toBe('succeeded');
        expect((await store.getRun(unrelated))?.status).toBe('queued');
        // Their workers' results are refused, their attempts recorded as cancelled.
        expect((await store.listAttempts(running))[0]).toMatchObject({
          stepKey: RUN,
          status: 'cancelled',
          workerId: 'worker-b',
        });
        const late = await store.completeStep(done(rc, T0 + 11, { workerId: 'worker-b' }));
        expect(late.applied).toBe(false);
        expect(
          (
            await store.recordEntry({
              runId: root,
              workerId: W,
              runAttempt: r.attempt,
              entry: entry('x', 0),
              now: T0 + 11,
            })
          ).applied,
        ).toBe(false);
        expect(await claimedRuns(FAR)).toEqual([unrelated]);
        // Again: nothing left to cancel.
        expect(await store.cancelRun(root, T0 + 12, 'again')).toEqual({
          cancelled: false,
          running: [],
          descendants: [],
        });
      });

      it('cancelling a child does not cancel its parent, and wakes it if parked', async () => {
        const { parent, child } = await parentWithChild();
        const result = await store.cancelRun(child, T0 + 5, 'not needed');
        expect(result).toEqual({ cancelled: true, running: [], descendants: [] });
        expect((await store.getRun(parent))?.status).toBe('waiting');
        expect(await claimedRuns(T0 + 5)).toEqual([parent]);
      });
    });
  });
}
