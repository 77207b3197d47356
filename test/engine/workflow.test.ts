import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../src/core/clock.js';
import {
  NonDeterminismError,
  NonRetryableError,
  RunFailedError,
  TimeoutError,
} from '../../src/core/errors.js';
import { Engine } from '../../src/engine/index.js';
import { pipeline, task, workflow } from '../../src/index.js';
import type { Store } from '../../src/store/contract/index.js';
import { advanceUntil, engineScope, interceptStore, tempStore } from './helpers.js';

const scope = engineScope();
afterEach(() => scope.closeAll());
const engineFor = scope.engineFor;

const statusOf = (store: Store, runId: string) => async () => (await store.getRun(runId))?.status;

describe('durable workflows', () => {
  it('runs steps once, journals them in order, and returns the result', async () => {
    const calls: string[] = [];
    const greet = workflow(
      'greet',
      { input: z.object({ name: z.string() }) },
      async (ctx, { name }) => {
        const upper = await ctx.step('upper', () => (calls.push('upper'), name.toUpperCase()));
        const len = await ctx.step('length', () => (calls.push('length'), upper.length));
        ctx.log.info('done', { len });
        return `${upper}:${len}`;
      },
    );
    const { engine, store } = await engineFor({ definitions: [greet] });
    const { runId, outputs } = await engine.run(greet, { params: { name: 'ada' } });
    expect(outputs).toEqual({ result: 'ADA:3' });
    expect(await engine.result(runId)).toBe('ADA:3');
    expect(calls).toEqual(['upper', 'length']);
    const journal = (await store.listSteps(runId)).filter((s) => s.kind === 'step');
    expect(journal.map((s) => [s.seq, s.key, s.status])).toEqual([
      [0, 'upper', 'succeeded'],
      [1, 'length', 'succeeded'],
    ]);
    const logs = await store.listLogs(runId);
    expect(logs.map((l) => l.message)).toContain('done {"len":3}');
    await expect(engine.submit(greet, { params: { name: 3 } })).rejects.toThrow(/name/);
  });

  it('runs steps inside Promise.all in parallel and records each', async () => {
    let inFlight = 0;
    let max = 0;
    const fan = workflow('fan', {}, async (ctx) => {
      const results = await Promise.all(
        [1, 2, 3, 4].map((i) =>
          ctx.step(`part-${i}`, async () => {
            inFlight++;
            max = Math.max(max, inFlight);
            await new Promise((r) => setTimeout(r, 5));
            inFlight--;
            return i * 10;
          }),
        ),
      );
      return results.reduce((a, b) => a + b, 0);
    });
    const { engine, store } = await engineFor({ definitions: [fan] });
    const { runId, outputs } = await engine.run(fan);
    expect(outputs.result).toBe(100);
    expect(max).toBe(4);
    const keys = (await store.listSteps(runId)).filter((s) => s.kind === 'step').map((s) => s.key);
    expect(keys.sort()).toEqual(['part-1', 'part-2', 'part-3', 'part-4']);
  });

  it('makes a task called inside a workflow a journaled step with its policy', async () => {
    let calls = 0;
    const charge = task(
      'charge',
      { retries: { retries: 2, initialDelay: 1, jitter: 0 } },
      (cents: number) => {
        calls++;
        if (calls === 1) throw new Error('card network busy');
        return `charged ${cents}`;
      },
    );
    const pay = workflow('pay', {}, async () => charge(500));
    const { engine, store, events } = await engineFor({ definitions: [pay] });
    const { runId, outputs } = await engine.run(pay);
    expect(outputs.result).toBe('charged 500');
    const stepEvents = events.filter((e) => e.type === 'step' && e.step === 'charge');
    expect(stepEvents.map((e) => (e.type === 'step' ? [e.status, e.kind] : null))).toEqual([
      ['running', 'step'],
      ['queued', 'step'],
      ['running', 'step'],
      ['succeeded', 'step'],
    ]);
    const retry = stepEvents[1];
    expect(retry?.type === 'step' && typeof retry.retryAt).toBe('number');
    const entry = (await store.listSteps(runId)).find((s) => s.key === 'charge');
    expect(entry?.kind).toBe('step');
    expect(entry?.attempt).toBe(2);
    expect(await charge(7)).toBe('charged 7'); // outside a workflow: a plain call
  });

  it('sleeps durably: the run parks holding no worker, and resumes when due (3 days)', async () => {
    const clock = new ManualClock();
    const nap = workflow('nap', {}, async (ctx) => {
      const before = await ctx.step('before', () => clock.now());
      await ctx.sleep('three-days', '3d');
      const after = await ctx.step('after', () => clock.now());
      return after - before;
    });
    const { engine, store, events } = await engineFor({
      definitions: [nap],
      clock,
      pollMs: 60_000,
    });
    const run = await engine.submit(nap);
    await advanceUntil(clock, async () => (await store.getRun(run.id))?.status === 'waiting', 10);
    const parked = await store.getRun(run.id);
    expect(parked?.waitingFor).toMatchObject({ kind: 'sleep', entry: 'three-days' });
    expect(engine.activeCount).toBe(0);
    expect(events.some((e) => e.type === 'run' && e.status === 'waiting')).toBe(true);
    await clock.advance(2 * 86_400_000);
    expect(await statusOf(store, run.id)()).toBe('waiting');
    await advanceUntil(
      clock,
      async () => (await store.getRun(run.id))?.status === 'succeeded',
      3_600_000,
    );
    expect(await engine.result(run.id)).toBeGreaterThanOrEqual(3 * 86_400_000);
  });

  describe('waitForEvent', () => {
    const approval = workflow(
      'approval',
      { input: z.object({ id: z.string() }) },
      async (ctx, { id }) => {
        const event = await ctx.waitForEvent<{ ok: boolean }>('decision', {
          event: 'approved',
          key: id,
          timeout: '1h',
        });
        return event ? { ok: event.payload.ok, eventId: event.id } : 'timed out';
      },
    );

    it('resumes when the event arrives before the timeout', async () => {
      const clock = new ManualClock();
      const { engine, store } = await engineFor({ definitions: [approval], clock, pollMs: 60_000 });
      const run = await engine.submit(approval, { params: { id: 'po-1' } });
      await advanceUntil(clock, async () => (await store.getRun(run.id))?.status === 'waiting', 10);
      expect((await store.getRun(run.id))?.waitingFor).toMatchObject({
        kind: 'event',
        event: 'approved',
        key: 'po-1',
      });
      await engine.sendEvent('approved', { ok: true }, { key: 'po-2' }); // another order: not ours
      await clock.advance(100);
      expect(await statusOf(store, run.id)()).toBe('waiting');
      const { woken } = await engine.sendEvent('approved', { ok: true }, { key: 'po-1' });
      expect(woken).toEqual([run.id]);
      await advanceUntil(
        clock,
        async () => (await store.getRun(run.id))?.status === 'succeeded',
        10,
      );
      expect(await engine.result(run.id)).toMatchObject({ ok: true });
    });

    it('returns null when the timeout passes first', async () => {
      const clock = new ManualClock();
      const { engine, store } = await engineFor({ definitions: [approval], clock, pollMs: 60_000 });
      const run = await engine.submit(approval, { params: { id: 'po-3' } });
      await advanceUntil(
        clock,
        async () => (await store.getRun(run.id))?.status === 'succeeded',
        60_000,
      );
      expect(await engine.result(run.id)).toBe('timed out');
    });

    it('delivers a keyed event sent before the wait began; duplicates with one idempotency key count once', async () => {
      const clock = new ManualClock();
      const twice = workflow('twice', {}, async (ctx) => {
        const a = await ctx.waitForEvent('first', { event: 'ping', key: 'k', timeout: '1m' });
        const b = await ctx.waitForEvent('second', { event: 'ping', key: 'k', timeout: '1m' });
        return [a?.payload ?? null, b?.payload ?? null];
      });
      const { engine, store } = await engineFor({ definitions: [twice], clock, pollMs: 60_000 });
      const one = await engine.sendEvent('ping', 1, { key: 'k', idempotencyKey: 'delivery-1' });
      const dup = await engine.sendEvent('ping', 1, { key: 'k', idempotencyKey: 'delivery-1' });
      expect(dup.created).toBe(false);
      expect(dup.event.id).toBe(one.event.id);
      const run = await engine.submit(twice);
      await advanceUntil(
        clock,
        async () => (await store.getRun(run.id))?.status === 'succeeded',
        5_000,
      );
      // The first wait got the event sent before it began; the duplicate was never a second event.
      expect(await engine.result(run.id)).toEqual([1, null]);
    });

    it('does not deliver an unkeyed event sent before the wait began', async () => {
      const clock = new ManualClock();
      const unkeyed = workflow('unkeyed', {}, async (ctx) => {
        const e = await ctx.waitForEvent('any', {
          event: 'tick',
          match: { 'order.id': 7 },
          timeout: '1m',
        });
        return e?.payload ?? null;
      });
      const { engine, store } = await engineFor({ definitions: [unkeyed], clock, pollMs: 60_000 });
      await engine.sendEvent('tick', { order: { id: 7 } });
      await clock.advance(1);
      const run = await engine.submit(unkeyed);
      await advanceUntil(clock, async () => (await store.getRun(run.id))?.status === 'waiting', 10);
      await engine.sendEvent('tick', { order: { id: 8 } }); // no match
      await clock.advance(1000);
      await engine.sendEvent('tick', { order: { id: 7 }, late: true });
      await advanceUntil(
        clock,
        async () => (await store.getRun(run.id))?.status === 'succeeded',
        10,
      );
      expect(await engine.result(run.id)).toEqual({ order: { id: 7 }, late: true });
    });
  });

  it('fails with a NonDeterminismError naming both steps when the step order changed', async () => {
    const clock = new ManualClock();
    const { store, cleanup } = await tempStore();
    scope.track(cleanup);
    const v1 = workflow('evolving', {}, async (ctx) => {
      await ctx.step('charge', () => 1);
      await ctx.sleep('wait', '1h');
      await ctx.step('ship', () => 2);
      return 'v1';
    });
    const first = new Engine({ store, definitions: [v1], clock, pollMs: 60_000 });
    await first.start();
    const run = await first.submit(v1);
    await advanceUntil(clock, async () => (await store.getRun(run.id))?.status === 'waiting', 10);
    await first.stop();

    const v2 = workflow('evolving', {}, async (ctx) => {
      await ctx.step('refund', () => 1);
      await ctx.sleep('wait', '1h');
      return 'v2';
    });
    const { engine } = await engineFor({ definitions: [v2], clock, pollMs: 60_000, store });
    await advanceUntil(
      clock,
      async () => (await store.getRun(run.id))?.status === 'failed',
      600_000,
    );
    const error = await engine.outputs(run.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    const failure = (error as RunFailedError).failed[0]!.error;
    expect(failure.name).toBe(NonDeterminismError.name);
    expect(failure.message).toContain('step "charge"');
    expect(failure.message).toContain('step "refund"');
  });

  it('runs child workflows and pipelines, and shows them as children', async () => {
    const double = workflow('double', { input: z.object({ n: z.number() }) }, async (ctx, { n }) =>
      ctx.step('double', () => n * 2),
    );
    const squares = pipeline('squares', { params: z.object({ n: z.number() }) }, (p) => {
      const list = p.node('list', { n: p.params.n }, ({ n }) =>
        Array.from({ length: n }, (_, i) => i),
      );
      const sq = p.map('sq', list, {}, (x) => x * x);
      return { sq };
    });
    const parent = workflow('parent', {}, async (ctx) => {
      const d = await ctx.run(double, { n: 21 });
      const s = await ctx.run(squares, { n: 4 });
      return { d, s: s.sq };
    });
    const { engine, store } = await engineFor({ definitions: [parent, double, squares] });
    const { runId, outputs } = await engine.run(parent);
    expect(outputs.result).toEqual({ d: 42, s: [0, 1, 4, 9] });
    const children = await store.listChildRuns(runId);
    expect(children.map((c) => c.definition).sort()).toEqual(['double', 'squares']);
    expect(children.every((c) => c.parentRunId === runId && c.status === 'succeeded')).toBe(true);
  });

  it('cancelling a parent cancels its running children', async () => {
    let childStarted!: () => void;
    const started = new Promise<void>((r) => (childStarted = r));
    let aborted = false;
    const slow = workflow('slow-child', {}, async (ctx) =>
      ctx.step(
        'hang',
        (s) =>
          new Promise<number>((_, reject) => {
            childStarted();
            s.signal.addEventListener('abort', () => {
              aborted = true;
              reject(s.signal.reason as Error);
            });
          }),
      ),
    );
    const parent = workflow('parent-of-slow', {}, async (ctx) => ctx.run(slow, undefined));
    const { engine, store } = await engineFor({ definitions: [parent, slow] });
    const run = await engine.submit(parent);
    await started;
    const [child] = await store.listChildRuns(run.id);
    await engine.cancel(run.id);
    expect((await engine.wait(run.id)).status).toBe('cancelled');
    expect((await store.getRun(child!.id))?.status).toBe('cancelled');
    expect(aborted).toBe(true);
  });

  it('retries the workflow function without re-running completed steps', async () => {
    const seen: number[] = [];
    let sideEffects = 0;
    const flaky = workflow(
      'flaky-wf',
      { retries: { retries: 1, initialDelay: 1 } },
      async (ctx) => {
        seen.push(ctx.attempt);
        await ctx.step('side-effect', () => ++sideEffects);
        if (ctx.attempt === 1) throw new Error('lost the connection');
        return 'ok';
      },
    );
    const { engine } = await engineFor({ definitions: [flaky] });
    const { outputs } = await engine.run(flaky);
    expect(outputs.result).toBe('ok');
    expect(seen).toEqual([1, 2]);
    expect(sideEffects).toBe(1);
  });

  it('throws a step failure to the workflow, which may handle it', async () => {
    const handled = workflow('handled', {}, async (ctx) => {
      try {
        await ctx.step('doomed', () => {
          throw new NonRetryableError('no such account');
        });
      } catch (error) {
        return `handled: ${(error as Error).message}`;
      }
      return 'unreachable';
    });
    const { engine, store } = await engineFor({ definitions: [handled] });
    const { runId, outputs } = await engine.run(handled);
    expect(outputs.result).toBe('handled: no such account');
    expect((await store.getStep(runId, 'doomed'))?.status).toBe('failed');
  });

  it('times out a workflow whose run outlives its timeout', async () => {
    const clock = new ManualClock();
    const late = workflow('late', { timeout: '1h' }, async (ctx) => {
      await ctx.sleep('too-long', '2h');
      return 'never';
    });
    const { engine, store } = await engineFor({ definitions: [late], clock, pollMs: 60_000 });
    const run = await engine.submit(late);
    await advanceUntil(
      clock,
      async () => (await store.getRun(run.id))?.status === 'failed',
      60_000,
    );
    const step = await store.getStep(run.id, '$run');
    expect(step?.error?.name).toBe(TimeoutError.name);
  });

  it('keeps a warm run in memory: its first claim reads no journal, however many steps run', async () => {
    const many = workflow('many', {}, async (ctx) => {
      let sum = 0;
      for (let i = 0; i < 300; i++) sum += await ctx.step(`s${i}`, () => i);
      return sum;
    });
    const { store, cleanup } = await tempStore();
    scope.track(cleanup);
    let listStepsCalls = 0;
    const counting = interceptStore(store, {
      listSteps: (original, ...args) => (listStepsCalls++, original(...args)),
    });
    const { engine } = await engineFor({ definitions: [many], store: counting });
    const { outputs } = await engine.run(many);
    expect(outputs.result).toBe((299 * 300) / 2);
    // Nothing is journaled before the first claim of `$run`: there is nothing to read.
    expect(listStepsCalls).toBe(0);
  });

  it('counts workflow attempts by failures, not by resumes after parking', async () => {
    const clock = new ManualClock();
    const attempts: number[] = [];
    const parky = workflow(
      'parky',
      { retries: { retries: 1, initialDelay: 10, jitter: 0 } },
      async (ctx) => {
        for (let i = 0; i < 3; i++) await ctx.sleep(`nap-${i}`, '1m');
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) throw new Error('fails once after three parks');
        return 'ok';
      },
    );
    const { engine, store } = await engineFor({ definitions: [parky], clock, pollMs: 60_000 });
    const run = await engine.submit(parky);
    // Steps well under the 30 s lease: the run is claimed while the clock moves.
    await advanceUntil(
      clock,
      async () => (await store.getRun(run.id))?.status === 'succeeded',
      5_000,
    );
    expect(attempts).toEqual([1, 2]);
    expect(await engine.result(run.id)).toBe('ok');
  });

  it('records an event rejected by the wait schema as delivered, so it is not received again', async () => {
    const clock = new ManualClock();
    const strict = workflow('strict', {}, async (ctx) => {
      const schema = z.object({ amount: z.number() });
      try {
        await ctx.waitForEvent('first', { event: 'pay', key: 'k', schema, timeout: '1m' });
      } catch {
        const next = await ctx.waitForEvent('second', {
          event: 'pay',
          key: 'k',
          schema,
          timeout: '1m',
        });
        return next?.payload.amount ?? 'timed out';
      }
      return 'accepted the bad event';
    });
    const { engine, store } = await engineFor({ definitions: [strict], clock, pollMs: 60_000 });
    await engine.sendEvent('pay', { amount: 'lots' }, { key: 'k' });
    const run = await engine.submit(strict);
    await advanceUntil(clock, async () => (await store.getRun(run.id))?.status === 'waiting', 10);
    await engine.sendEvent('pay', { amount: 12 }, { key: 'k' });
    await advanceUntil(clock, async () => (await store.getRun(run.id))?.status === 'succeeded', 10);
    expect(await engine.result(run.id)).toBe(12);
    expect((await store.getStep(run.id, 'first'))?.status).toBe('failed');
  });
});
