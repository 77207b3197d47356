/**
 * Conformance of what many workers need to share a store: labels, global concurrency slots,
 * the definitions registry, leadership and work notifications. Run from `conformance.ts`.
 */
import { describe, expect, it } from 'vitest';
import { LEASE, T0, W, done, failed, newRun, step } from './conformance-fixtures.js';
import type { Store } from './store.js';
import type { ClaimedStep, DefinitionRecord, NewStep } from './types.js';

export function describeDistributedConformance(
  current: () => Store,
  openSecond: (() => Promise<Store>) | undefined,
): void {
  async function create(steps: NewStep[]): Promise<string> {
    const r = newRun();
    await current().createRun(r, steps);
    return r.id;
  }

  async function claimAs(
    labels: string[],
    now: number,
    extra: { runId?: string; workerId?: string; limit?: number } = {},
  ): Promise<ClaimedStep[]> {
    return current().claimSteps({
      workerId: extra.workerId ?? W,
      limit: extra.limit ?? 100,
      now,
      leaseMs: LEASE,
      labels,
      ...(extra.runId !== undefined ? { runId: extra.runId } : {}),
    });
  }

  describe('labels', () => {
    it('a step with labels goes only to a worker that has them all', async () => {
      const id = await create([
        step('plain'),
        step('gpu', [], { labels: ['gpu'] }),
        step('gpuEu', [], { labels: ['gpu', 'region-eu'] }),
      ]);
      expect((await claimAs([], T0 + 1, { runId: id })).map((c) => c.key)).toEqual(['plain']);
      expect((await claimAs(['region-eu'], T0 + 1, { runId: id })).map((c) => c.key)).toEqual([]);
      expect((await claimAs(['gpu'], T0 + 1, { runId: id })).map((c) => c.key)).toEqual(['gpu']);
      expect(
        (await claimAs(['gpu', 'other', 'region-eu'], T0 + 1, { runId: id })).map((c) => c.key),
      ).toEqual(['gpuEu']);
    });

    it('a completion claims only the ready steps the worker has the labels for', async () => {
      const id = await create([
        step('a'),
        step('plain', ['a']),
        step('gpu', ['a'], { labels: ['gpu'] }),
      ]);
      const [a] = await claimAs([], T0 + 1, { runId: id });
      const r = await current().completeStep(
        done(a!, T0 + 2, { claimNext: { limit: 5, leaseMs: LEASE, labels: [] } }),
      );
      expect(r.claimed.map((c) => c.key)).toEqual(['plain']);
      expect(r.queuedMore).toBe(true);
      expect((await claimAs([], T0 + 3, { runId: id })).map((c) => c.key)).toEqual([]);
      expect((await claimAs(['gpu'], T0 + 3, { runId: id })).map((c) => c.key)).toEqual(['gpu']);
    });

    it("a map step's items keep its labels", async () => {
      const id = await create([step('m', [], { labels: ['gpu'] })]);
      const [m] = await claimAs(['gpu'], T0 + 1, { runId: id });
      await current().expandStep({
        runId: id,
        key: 'm',
        attempt: m!.attempt,
        workerId: W,
        now: T0 + 2,
        items: ['m[0]', 'm[1]'],
      });
      expect(await claimAs([], T0 + 3, { runId: id })).toEqual([]);
      expect((await claimAs(['gpu'], T0 + 3, { runId: id })).map((c) => c.key)).toEqual([
        'm[0]',
        'm[1]',
      ]);
    });
  });

  describe('createRun with a claim', () => {
    it("claims the new run's first steps for its creator, within the limit and its labels", async () => {
      const store = current();
      const run = newRun({ createdAt: T0 + 7 });
      const { created, claimed } = await store.createRun(
        run,
        [step('a'), step('b'), step('gpu', [], { labels: ['gpu'] }), step('c', ['a'])],
        { workerId: W, limit: 5, leaseMs: LEASE, labels: [] },
      );
      expect(created).toBe(true);
      expect(claimed.map((c) => c.key).sort()).toEqual(['a', 'b']);
      expect(claimed[0]).toMatchObject({ attempt: 1, leaseExpiresAt: T0 + 7 + LEASE });
      expect((await store.getRun(run.id))?.status).toBe('running');
      expect((await store.getStep(run.id, 'a'))?.leaseOwner).toBe(W);
      expect((await store.getStep(run.id, 'gpu'))?.status).toBe('queued');
      expect((await store.getStep(run.id, 'c'))?.status).toBe('pending');

      const limited = newRun();
      const one = await store.createRun(limited, [step('x'), step('y')], {
        workerId: W,
        limit: 1,
        leaseMs: LEASE,
      });
      expect(one.claimed).toHaveLength(1);
      // A repeated idempotency key creates nothing and claims nothing.
      const keyed = newRun({ idempotencyKey: 'once' });
      await store.createRun(keyed, [step('k')]);
      const again = await store.createRun(newRun({ idempotencyKey: 'once' }), [step('k')], {
        workerId: W,
        limit: 5,
        leaseMs: LEASE,
      });
      expect(again).toMatchObject({ created: false, claimed: [] });
    });
  });

  describe('definitions', () => {
    const etl: DefinitionRecord = {
      name: 'etl',
      kind: 'pipeline',
      graph: { kind: 'pipeline', nodes: [{ name: 'a', deps: [] }] },
      inputSchema: { type: 'object', properties: { day: { type: 'string' } } },
      codeHash: 'aaaa',
      labels: [],
      registeredAt: T0,
    };
    const billing: DefinitionRecord = {
      name: 'billing',
      kind: 'workflow',
      graph: { kind: 'workflow' },
      inputSchema: null,
      codeHash: 'bbbb',
      labels: ['gpu', 'region-eu'],
      registeredAt: T0,
    };

    it('registers, replaces by name, and lists by name', async () => {
      const store = current();
      expect(await store.listDefinitions()).toEqual([]);
      await store.registerDefinitions([etl, billing]);
      expect(await store.listDefinitions()).toEqual([billing, etl]);
      const changed = { ...etl, codeHash: 'cccc', registeredAt: T0 + 5, labels: ['x'] };
      await store.registerDefinitions([changed]);
      expect(await store.listDefinitions()).toEqual([billing, changed]);
      await store.registerDefinitions([]);
      expect(await store.listDefinitions()).toHaveLength(2);
    });
  });

  describe('global concurrency slots', () => {
    const acquire = (c: ClaimedStep, slot: string, limit: number, workerId = W) =>
      current().acquireSlot({
        runId: c.runId,
        key: c.key,
        attempt: c.attempt,
        workerId,
        slot,
        limit,
        now: T0 + 2,
      });

    it('holds a limit across steps; a deferred step wakes when a holder finishes', async () => {
      const store = current();
      const id = await create([step('a'), step('b'), step('c')]);
      const [a, b, c] = await claimAs([], T0 + 1, { runId: id });
      expect(await acquire(a!, 'task:x', 2)).toBe(true);
      expect(await acquire(a!, 'task:x', 2)).toBe(true); // already held: no second slot
      expect(await acquire(b!, 'task:x', 2)).toBe(true);
      expect(await acquire(c!, 'task:x', 2)).toBe(false);
      expect(await acquire(c!, 'task:other', 2)).toBe(true); // another slot is independent

      const deferred = await store.deferStep({
        runId: id,
        key: 'c',
        attempt: c!.attempt,
        workerId: W,
        slot: 'task:x',
        now: T0 + 3,
        retryAt: T0 + 60_000,
      });
      expect(deferred.applied).toBe(true);
      const after = (await store.getStep(id, 'c'))!;
      expect(after).toMatchObject({ status: 'queued', attempt: 0, availableAt: T0 + 60_000 });
      expect(after.leaseOwner).toBeNull();
      expect(await store.listAttempts(id)).toEqual([]); // deferral is no attempt
      expect(await claimAs([], T0 + 4, { runId: id })).toEqual([]);

      // a finishes, naming its slot: c is available at once.
      const r = await store.completeStep(done(a!, T0 + 5, { slot: 'task:x' }));
      expect(r.queuedMore).toBe(true);
      const [again] = await claimAs([], T0 + 5, { runId: id });
      expect(again).toMatchObject({ key: 'c', attempt: 1 });
      expect(await acquire(again!, 'task:x', 2)).toBe(true);
    });

    it('a step that stops running frees its slot, however it stops', async () => {
      const store = current();
      const id = await create([step('a'), step('b'), step('c')]);
      const [a, b, c] = await claimAs([], T0 + 1, { runId: id });
      expect(await acquire(a!, 'task:y', 1)).toBe(true);
      expect(await acquire(b!, 'task:y', 1)).toBe(false);
      // a fails (a retry): it no longer holds the slot.
      await store.failStep(failed(a!, T0 + 3, { retryAt: T0 + 10 }));
      expect(await acquire(b!, 'task:y', 1)).toBe(true);
      // b's lease expires: requeued, it no longer holds it either.
      await store.requeueExpired(T0 + 1 + LEASE + 1);
      const [c2] = await claimAs([], T0 + LEASE + 10, { runId: id, limit: 1 });
      expect(await acquire(c2!, 'task:y', 1)).toBe(true);
      // A worker that doesn't hold a step cannot take a slot for it.
      expect(await acquire(c!, 'task:z', 5, 'someone-else')).toBe(false);
    });

    it('refuses to defer a step the worker no longer holds', async () => {
      const store = current();
      const id = await create([step('a')]);
      const [a] = await claimAs([], T0 + 1, { runId: id });
      await store.completeStep(done(a!, T0 + 2));
      const r = await store.deferStep({
        runId: id,
        key: 'a',
        attempt: a!.attempt,
        workerId: W,
        slot: 'task:x',
        now: T0 + 3,
        retryAt: T0 + 4,
      });
      expect(r.applied).toBe(false);
      expect((await store.getStep(id, 'a'))?.status).toBe('succeeded');
    });
  });

  describe('leadership', () => {
    it('has one holder at a time; releasing hands it on', async () => {
      const store = current();
      const first = await store.lead('maintenance', 'one');
      expect(first).not.toBeNull();
      expect(first!.lost.aborted).toBe(false);
      expect(await store.lead('maintenance', 'two')).toBeNull();
      const other = await store.lead('scheduler', 'two');
      expect(other).not.toBeNull();
      await first!.release();
      const second = await store.lead('maintenance', 'two');
      expect(second).not.toBeNull();
      await second!.release();
      await other!.release();
    });

    const withSecond = openSecond ? it : it.skip;
    withSecond('holds across stores on one database', async () => {
      const other = await openSecond!();
      try {
        const held = await current().lead('maintenance', 'one');
        expect(held).not.toBeNull();
        expect(await other.lead('maintenance', 'two')).toBeNull();
        await held!.release();
        const taken = await other.lead('maintenance', 'two');
        expect(taken).not.toBeNull();
        await taken!.release();
      } finally {
        await other.close();
      }
    });
  });

  describe('work notifications', () => {
    const notifies = openSecond ? it : it.skip;
    notifies(
      'Postgres wakes a subscriber when another store queues work; SQLite polls',
      async () => {
        const other = await openSecond!();
        let calls = 0;
        let resolve: () => void = () => undefined;
        const called = new Promise<void>((r) => (resolve = r));
        const unsubscribe = await current().subscribe(() => {
          calls++;
          resolve();
        });
        try {
          await other.createRun(newRun(), [step('a')]);
          if (current().dialect === 'postgres') {
            await called;
            expect(calls).toBeGreaterThan(0);
          } else {
            expect(calls).toBe(0);
          }
        } finally {
          await unsubscribe();
          await other.close();
        }
      },
    );
  });
}
