/**
 * Human approval with a durable workflow: an expense waits for its approver's decision, which
 * arrives as an event keyed by the expense id — sent by a web handler, a chat bot, or a shell.
 *
 * validate → notify the approver → wait for `expense.decided` (key: the expense id, up to
 * `approvalTimeout`) → approved or rejected; on no answer, escalate and wait once more (up to
 * `escalationTimeout`), then expire → record the outcome.
 *
 * While it waits the run is parked: it holds no worker and survives restarts. The decision is
 * keyed, so it is delivered even when it is sent before the workflow reaches the wait (an
 * approver who answers straight from the notification can be faster than the workflow).
 *
 * ```sh
 * npx weft run examples/approval/workflow.ts -p expenseId=exp-1 -p employee=ada -p amount=120
 * # in another shell, as the approver:
 * npx weft event send expense.decided --key exp-1 --data '{"approved":true,"by":"grace"}'
 * ```
 *
 * Try the escalation path with short timeouts: `-p approvalTimeout=5s -p escalationTimeout=5s`.
 */
import { NonRetryableError, workflow, type Duration, type TaskContext } from 'weft';
import { z } from 'zod';

/** The event a decision comes as; its key is the expense id. */
export const DECISION_EVENT = 'expense.decided';

/** Larger expenses are refused outright: they need a purchase order instead. */
export const MAX_AMOUNT = 10_000;

const DURATION = /^\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w)$/;
const duration = z
  .union([z.number().nonnegative(), z.string().regex(DURATION, "a duration such as '3d' or '30s'")])
  .transform((v) => v as Duration);

export const expenseInput = z.object({
  expenseId: z.string().min(1),
  employee: z.string().min(1),
  amount: z.number().positive(),
  description: z.string().default(''),
  approver: z.string().default('manager@example.com'),
  /** Who decides when the approver does not answer in time. */
  escalateTo: z.string().default('finance@example.com'),
  approvalTimeout: duration.default('3d'),
  escalationTimeout: duration.default('1d'),
});
export type Expense = z.output<typeof expenseInput>;

/** The payload of a decision event. */
export const decisionSchema = z.object({
  approved: z.boolean(),
  by: z.string().default('unknown'),
  comment: z.string().optional(),
});
export type Decision = z.output<typeof decisionSchema>;

export interface Outcome {
  expenseId: string;
  status: 'approved' | 'rejected' | 'expired';
  decidedBy: string | null;
  comment: string | null;
  /** Whether the approver's time ran out and the expense went to `escalateTo`. */
  escalated: boolean;
}

/** The outside world: where notifications go and where outcomes are kept. */
export interface ExpenseServices {
  notify(to: string, message: string, ctx: TaskContext): void | Promise<void>;
  record(outcome: Outcome, ctx: TaskContext): void | Promise<void>;
}

/** Services that only log (what `weft run` uses): the lines show up in progress and `weft show`. */
export const loggingServices: ExpenseServices = {
  notify: (to, message, ctx) => ctx.log.info(`to ${to}: ${message}`),
  record: (outcome, ctx) =>
    ctx.log.info(`expense ${outcome.expenseId} ${outcome.status}`, { ...outcome }),
};

/** The shell command that decides an expense. */
export function decideCommand(expenseId: string, approved: boolean): string {
  const data = JSON.stringify({ approved, by: '<your name>' });
  return `weft event send ${DECISION_EVENT} --key ${expenseId} --data '${data}'`;
}

function requestText(e: Expense, escalated: boolean): string {
  const what = `${e.employee} spent ${e.amount.toFixed(2)}${e.description ? ` on ${e.description}` : ''}`;
  const why = escalated ? ` (escalated: ${e.approver} did not answer)` : '';
  return (
    `expense ${e.expenseId} needs a decision${why}: ${what}. ` +
    `Decide with: ${decideCommand(e.expenseId, true)} ("approved":false to reject)`
  );
}

function validate(e: Expense): { amount: number } {
  if (e.amount > MAX_AMOUNT) {
    // Retrying cannot fix this: fail the run at once, naming what to do instead.
    throw new NonRetryableError(
      `expense ${e.expenseId}: ${e.amount} is over the ${MAX_AMOUNT} limit; file a purchase order instead`,
    );
  }
  return { amount: Math.round(e.amount * 100) / 100 };
}

/** The workflow, with the services it talks to (tests pass their own). */
export function expenseApprovalWorkflow(services: ExpenseServices = loggingServices) {
  return workflow(
    'expense-approval',
    { input: expenseInput, description: 'An expense waits for its approver, then is recorded' },
    async (ctx, expense) => {
      await ctx.step('validate', () => validate(expense));
      await ctx.step('notify-approver', (s) =>
        services.notify(expense.approver, requestText(expense, false), s),
      );
      const wait = { event: DECISION_EVENT, key: expense.expenseId, schema: decisionSchema };
      let decision = await ctx.waitForEvent('decision', {
        ...wait,
        timeout: expense.approvalTimeout,
      });
      let escalated = false;
      if (!decision) {
        escalated = true;
        await ctx.step('escalate', (s) =>
          services.notify(expense.escalateTo, requestText(expense, true), s),
        );
        // A second wait, with a name of its own: the journal keeps both.
        decision = await ctx.waitForEvent('escalated-decision', {
          ...wait,
          timeout: expense.escalationTimeout,
        });
      }
      const outcome: Outcome = decision
        ? {
            expenseId: expense.expenseId,
            status: decision.payload.approved ? 'approved' : 'rejected',
            decidedBy: decision.payload.by,
            comment: decision.payload.comment ?? null,
            escalated,
          }
        : {
            expenseId: expense.expenseId,
            status: 'expired',
            decidedBy: null,
            comment: null,
            escalated,
          };
      await ctx.step('record-outcome', (s) => services.record(outcome, s));
      return outcome;
    },
  );
}

export const expenseApproval = expenseApprovalWorkflow();
