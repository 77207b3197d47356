import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, NonRetryableError, RunFailedError } from 'weft';
import {
  DECISION_EVENT,
  decideCommand,
  expenseApproval,
  expenseApprovalWorkflow,
  type ExpenseServices,
  type Outcome,
} from '../../examples/approval/workflow.js';
import type { RunRecord } from '../../src/store/contract/index.js';
import { startEngine } from '../engine/helpers.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

/** Services that remember what the workflow asked of them. */
function recording() {
  const notified: { to: string; message: string }[] = [];
  const recorded: Outcome[] = [];
  const services: ExpenseServices = {
    notify: (to, message) => void notified.push({ to, message }),
    record: (outcome) => void recorded.push(outcome),
  };
  return { services, notified, recorded };
}

/** An engine on a temporary SQLite store, with a manual clock and the workflow. */
async function setup() {
  const clock = new ManualClock();
  const rec = recording();
  const wf = expenseApprovalWorkflow(rec.services);
  const e = await startEngine({ definitions: [wf], clock, pollMs: 60_000 });
  closers.push(e.close);
  const status = async (id: string) => (await e.store.getRun(id))?.status;
  /** Advances the clock in `stepMs` until `check` holds for the run. */
  const advanceUntil = async (id: string, check: (run: RunRecord) => boolean, stepMs: number) => {
    for (let i = 0; i < 1000; i++) {
      const run = await e.store.getRun(id);
      if (run && check(run)) return run;
      await clock.advance(stepMs);
    }
    throw new Error(`run ${id} never got there: ${await status(id)}`);
  };
  const submit = (expenseId: string, extra: Record<string, unknown> = {}) =>
    e.engine.submit(wf, {
      params: { expenseId, employee: 'ada', amount: 120, description: 'team lunch', ...extra },
    });
  return { ...e, ...rec, clock, wf, status, advanceUntil, submit };
}

const waitingFor = (entry: string) => (run: RunRecord) =>
  run.status === 'waiting' && run.waitingFor?.kind === 'event' && run.waitingFor.entry === entry;
const finished = (run: RunRecord) =>
  run.status === 'succeeded' || run.status === 'failed' || run.status === 'cancelled';

describe('examples/approval', () => {
  it('waits for the approver and records an approval', async () => {
    const t = await setup();
    const run = await t.submit('exp-1');
    const parked = await t.advanceUntil(run.id, waitingFor('decision'), 10);
    expect(parked.waitingFor).toMatchObject({ event: DECISION_EVENT, key: 'exp-1' });
    expect(t.notified).toEqual([
      { to: 'manager@example.com', message: expect.stringContaining(decideCommand('exp-1', true)) },
    ]);
    expect(t.notified[0]!.message).toContain('ada spent 120.00 on team lunch');

    // Another expense's decision is not this one's.
    const other = await t.engine.sendEvent(DECISION_EVENT, { approved: false }, { key: 'exp-2' });
    expect(other.woken).toEqual([]);
    await t.clock.advance(HOUR);
    expect(await t.status(run.id)).toBe('waiting');

    const { woken } = await t.engine.sendEvent(
      DECISION_EVENT,
      { approved: true, by: 'grace' },
      { key: 'exp-1' },
    );
    expect(woken).toEqual([run.id]);
    const done = await t.advanceUntil(run.id, finished, 10);
    expect(done.status).toBe('succeeded');
    const outcome: Outcome = {
      expenseId: 'exp-1',
      status: 'approved',
      decidedBy: 'grace',
      comment: null,
      escalated: false,
    };
    expect(await t.engine.result(run.id)).toEqual(outcome);
    expect(t.recorded).toEqual([outcome]);
    // Replayed after the park, not run again: one notification.
    expect(t.notified).toHaveLength(1);
    const journal = (await t.store.listSteps(run.id)).filter((s) => s.seq !== null);
    expect(journal.map((s) => [s.seq, s.kind, s.key, s.status])).toEqual([
      [0, 'step', 'validate', 'succeeded'],
      [1, 'step', 'notify-approver', 'succeeded'],
      [2, 'event', 'decision', 'succeeded'],
      [3, 'step', 'record-outcome', 'succeeded'],
    ]);
  });

  it('records a rejection with the approver’s comment', async () => {
    const t = await setup();
    const run = await t.submit('exp-3');
    await t.advanceUntil(run.id, waitingFor('decision'), 10);
    await t.clock.advance(DAY); // a day later, within the 3 days
    await t.engine.sendEvent(
      DECISION_EVENT,
      { approved: false, by: 'grace', comment: 'not a team event' },
      { key: 'exp-3' },
    );
    expect((await t.advanceUntil(run.id, finished, 10)).status).toBe('succeeded');
    expect(await t.engine.result(run.id)).toEqual({
      expenseId: 'exp-3',
      status: 'rejected',
      decidedBy: 'grace',
      comment: 'not a team event',
      escalated: false,
    });
    expect(t.recorded.map((o) => o.status)).toEqual(['rejected']);
  });

  it('escalates when the approver does not answer in 3 days, and expires after another day', async () => {
    const t = await setup();
    const run = await t.submit('exp-4');
    const start = t.clock.now();
    await t.advanceUntil(run.id, waitingFor('decision'), 10);
    await t.clock.advance(3 * DAY - HOUR);
    expect(t.notified.map((n) => n.to)).toEqual(['manager@example.com']);

    const escalated = await t.advanceUntil(run.id, waitingFor('escalated-decision'), HOUR / 4);
    expect(t.clock.now() - start).toBeGreaterThanOrEqual(3 * DAY);
    expect(t.clock.now() - start).toBeLessThan(3 * DAY + HOUR);
    expect(escalated.waitingFor).toMatchObject({ key: 'exp-4' });
    expect(t.notified.map((n) => n.to)).toEqual(['manager@example.com', 'finance@example.com']);
    expect(t.notified[1]!.message).toContain('escalated: manager@example.com did not answer');

    const done = await t.advanceUntil(run.id, finished, HOUR / 4);
    expect(done.status).toBe('succeeded');
    expect(t.clock.now() - start).toBeGreaterThanOrEqual(4 * DAY);
    expect(await t.engine.result(run.id)).toEqual({
      expenseId: 'exp-4',
      status: 'expired',
      decidedBy: null,
      comment: null,
      escalated: true,
    });
    expect(t.recorded.map((o) => o.status)).toEqual(['expired']);
    // The first wait timed out: null is journaled, and replays as null.
    const decision = await t.store.getStep(run.id, 'decision');
    expect(decision?.output).toBe('null');
  });

  it('takes a decision from the escalation contact', async () => {
    const t = await setup();
    const run = await t.submit('exp-5', { approvalTimeout: '1h', escalationTimeout: '1h' });
    await t.advanceUntil(run.id, waitingFor('escalated-decision'), HOUR / 4);
    await t.engine.sendEvent(DECISION_EVENT, { approved: true, by: 'finance' }, { key: 'exp-5' });
    expect((await t.advanceUntil(run.id, finished, 10)).status).toBe('succeeded');
    expect(await t.engine.result(run.id)).toMatchObject({
      status: 'approved',
      decidedBy: 'finance',
      escalated: true,
    });
  });

  it('delivers a decision sent before the workflow reaches the wait (keyed events wait)', async () => {
    const t = await setup();
    // The approver answers before the run even starts.
    const early = await t.engine.sendEvent(
      DECISION_EVENT,
      { approved: true, by: 'grace' },
      { key: 'exp-6' },
    );
    expect(early.woken).toEqual([]);
    const run = await t.submit('exp-6');
    const done = await t.advanceUntil(run.id, finished, 10);
    expect(done.status).toBe('succeeded');
    expect(await t.engine.result(run.id)).toMatchObject({ status: 'approved', decidedBy: 'grace' });
    // It never parked on the decision: the event was there when the wait began.
    expect(
      t.events.some((e) => e.type === 'run' && e.runId === run.id && e.status === 'waiting'),
    ).toBe(false);
    const decision = await t.store.getStep(run.id, 'decision');
    expect(decision?.output).toContain(early.event.id);
  });

  it('refuses an expense over the limit at once, without asking anyone', async () => {
    const t = await setup();
    const run = await t.submit('exp-7', { amount: 25_000 });
    expect((await t.advanceUntil(run.id, finished, 10)).status).toBe('failed');
    const error = (await t.engine.outputs(run.id).catch((e: unknown) => e)) as RunFailedError;
    expect(error).toBeInstanceOf(RunFailedError);
    const validate = await t.store.getStep(run.id, 'validate');
    expect(validate?.error).toMatchObject({ name: NonRetryableError.name });
    expect(validate?.error?.message).toContain('file a purchase order instead');
    expect(validate?.attempt).toBe(1);
    expect(t.notified).toEqual([]);
  });

  it('exports the workflow for weft run, with defaults for everything but the expense', () => {
    expect(expenseApproval.kind).toBe('workflow');
    expect(expenseApproval.name).toBe('expense-approval');
    expect(
      expenseApproval.input?.parse({ expenseId: 'e', employee: 'ada', amount: 1 }),
    ).toMatchObject({ approvalTimeout: '3d', escalationTimeout: '1d', description: '' });
    expect(() =>
      expenseApproval.input?.parse({
        expenseId: 'e',
        employee: 'ada',
        amount: 1,
        approvalTimeout: '3 days',
      }),
    ).toThrow(/a duration such as '3d'/);
  });
});
