/**
 * What a worker records while a step runs: its row's heartbeats (which keep the time it
 * started), and the step's log lines, written before the step ends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { pipeline, type TaskContext } from '../../src/index.js';
import { advanceUntil, engineScope } from './helpers.js';

const tiny = pipeline('tiny', { one: () => 1 });

describe('while a step runs', () => {
  const scope = engineScope();
  afterEach(() => scope.closeAll());

  it('the worker row keeps its start time through heartbeats', async () => {
    const clock = new ManualClock(1_000_000);
    const { engine, store } = await scope.engineFor({
      definitions: [tiny],
      clock,
      leaseMs: 3000,
      captureConsole: false,
    });
    const row = async () => (await store.listWorkers()).find((w) => w.id === engine.workerId)!;
    expect(await row()).toMatchObject({ startedAt: 1_000_000, heartbeatAt: 1_000_000 });
    await advanceUntil(clock, async () => (await row()).heartbeatAt >= 1_005_000);
    expect((await row()).startedAt).toBe(1_000_000);
  });

  it('its log lines are recorded before it ends', async () => {
    const clock = new ManualClock(1_000_000);
    let finish!: () => void;
    const released = new Promise<void>((resolve) => (finish = resolve));
    const slow = pipeline('slow', {
      work: async (_: unknown, ctx: TaskContext) => {
        ctx.log.info('started');
        await released;
        ctx.log.info('done');
        return 1;
      },
    });
    const { engine, store } = await scope.engineFor({
      definitions: [slow],
      clock,
      // Heartbeats (which also write logs) far apart: the lines must not wait for one.
      leaseMs: 600_000,
      captureConsole: false,
    });
    const run = await engine.submit(slow);
    const messages = async () => (await store.listLogs(run.id)).map((l) => l.message);
    await advanceUntil(clock, async () => (await messages()).includes('started'), 100, 100);
    expect((await store.getStep(run.id, 'work'))?.status).toBe('running');
    finish();
    expect((await engine.wait(run.id)).status).toBe('succeeded');
    expect(await messages()).toEqual(['started', 'done']);
  });
});
