/**
 * Runs a workflow's `$run` step: reads the journal once, runs the workflow function with a
 * {@link WorkflowExecution} as its context, and records how the execution ended — parked (with
 * what it waits for and when to wake), finished with a result, or failed (retried as the
 * workflow's policy says). A warm run is never replayed; only a resume reads the journal.
 */
import { SLEEP_ENDED } from '../core/clock.js';
import { decode } from '../core/codec.js';
import {
  CancelledError,
  isRetryable,
  NonRetryableError,
  serializeError,
  TimeoutError,
} from '../core/errors.js';
import { retryDelay } from '../core/policy.js';
import type { AnyWorkflow } from '../sdk/workflow.js';
import { WORKFLOW_STEP_KEY, type TransitionResult } from '../store/contract/types.js';
import type { Engine } from './engine.js';
import { withLogSink } from './log-capture.js';
import type { ActiveStep } from './step-runner.js';
import { Park, runInWorkflowScope, WorkflowExecution } from './workflow-execution.js';

/** Runs (or resumes) the workflow of a claimed `$run` step and records how it ended. */
export async function runWorkflowStep(
  engine: Engine,
  active: ActiveStep,
  definition: AnyWorkflow,
): Promise<TransitionResult | null> {
  const c = active.claimed;
  const now = engine.clock.now();
  // The first claim of `$run` read the run's input and started the run: nothing to read back.
  const first = c.attempt === 1 && c.input !== undefined;
  const stored = first ? null : await engine.store.getRun(c.runId);
  if (!first && !stored) return null;
  const run = stored ?? { id: c.runId, input: c.input!, startedAt: now };
  const fault = engine.faults.afterClaim;
  if (fault) await fault({ point: 'afterClaim', runId: c.runId, step: c.key, attempt: c.attempt });
  const ref = { runId: c.runId, key: c.key, attempt: c.attempt, workerId: engine.workerId };
  const fail = async (error: unknown, retryAt: number | null): Promise<TransitionResult> =>
    // A stopping worker hands the run back (stop() requeues it): nothing to record.
    engine.handingBack(active)
      ? { applied: false, runStatus: 'running', claimed: [], queuedMore: false }
      : engine.store.failStep({
          ...ref,
          error: serializeError(error),
          now: engine.clock.now(),
          retryAt,
          failFast: false,
          logs: active.logs.splice(0),
        });

  const deadline =
    definition.policy.timeoutMs === null
      ? null
      : (run.startedAt ?? now) + definition.policy.timeoutMs;
  if (deadline !== null && now >= deadline) {
    return fail(
      new TimeoutError(`workflow ${definition.name} (run ${run.id})`, definition.policy.timeoutMs!),
      null,
    );
  }
  // The first claim of `$run` finds nothing journaled (entries are written only by a holder).
  const journal =
    c.attempt === 1
      ? []
      : (await engine.store.listSteps(c.runId)).filter((s) => s.key !== WORKFLOW_STEP_KEY);
  // Every resume is a new claim of `$run`; the workflow's own attempt counts its failures only.
  const failures =
    c.attempt === 1
      ? 0
      : (await engine.store.listAttempts(c.runId)).filter(
          (a) => a.stepKey === WORKFLOW_STEP_KEY && a.status === 'failed',
        ).length;
  const attempt = failures + 1;
  const execution = new WorkflowExecution(
    engine,
    active,
    c.runId,
    journal,
    attempt,
    definition.journal,
  );

  // The run's deadline aborts whatever is in flight.
  const timer = new AbortController();
  let timedOut = false;
  if (deadline !== null) {
    void engine.clock.sleep(deadline - now, timer.signal).then(
      () => {
        timedOut = true;
        active.controller.abort(
          new TimeoutError(
            `workflow ${definition.name} (run ${run.id})`,
            definition.policy.timeoutMs!,
          ),
        );
      },
      () => undefined,
    );
  }

  let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
  try {
    const input = decode<unknown>(run.input);
    const value = await runInWorkflowScope(execution, () =>
      withLogSink(execution.sink(WORKFLOW_STEP_KEY, attempt), () =>
        definition.fn(execution, input),
      ),
    );
    outcome = { ok: true, value };
  } catch (error) {
    outcome = { ok: false, error };
  }
  await execution.settleSteps();
  let output: string | null = null;
  let unencodable: unknown = null;
  if (outcome.ok && !execution.park) {
    try {
      output = engine.encodeOutput(outcome.value, `result of workflow ${definition.name}`);
    } catch (error) {
      unencodable = error;
    }
  }
  // A run that completes commits its last results with its end; one that parks or fails
  // commits them first.
  const last = output !== null ? await execution.takeJournal() : null;
  if (!last) await execution.flush();
  timer.abort(SLEEP_ENDED);
  // A batched result that failed to commit fails the run's attempt (retried as the policy says).
  if (execution.journalError && outcome.ok) outcome = { ok: false, error: execution.journalError };

  if (execution.park && !active.controller.aborted) {
    const { wakeAt, waitingFor } = execution.park;
    const wake = deadline === null ? wakeAt : Math.min(wakeAt ?? deadline, deadline);
    // Its child finishing here must wake this worker's loop (see Engine.afterTransition).
    if (waitingFor.kind === 'child') engine.awaitChild(waitingFor.childRunId);
    const { applied } = await engine.store.parkRun({
      runId: c.runId,
      workerId: engine.workerId,
      runAttempt: c.attempt,
      now: engine.clock.now(),
      wakeAt: wake,
      waitingFor,
      // An event that arrived since the last look makes the run claimable at once (no lost wake-up).
      exclude: execution.delivered,
      logs: active.logs.splice(0),
    });
    active.leased = false;
    if (applied)
      engine.emit({
        type: 'run',
        runId: c.runId,
        definition: definition.name,
        status: 'waiting',
        at: engine.clock.now(),
        waitingFor,
      });
    // A wait already satisfied parks the run available at once: let the loop look.
    return { applied, runStatus: 'waiting', claimed: [], queuedMore: applied };
  }
  if (unencodable !== null) return fail(unencodable, null);
  if (outcome.ok) {
    const result = await engine.store.completeStep({
      ...ref,
      // Encoded above: the run neither parks nor failed to encode its result.
      output: output!,
      now: engine.clock.now(),
      logs: active.logs.splice(0),
      mayFinish: true,
      ...(engine.waitedOn(run.id) ? { returnRun: true } : {}),
      ...(last?.entries.length ? { journal: last.entries } : {}),
    });
    if (result.applied) await last?.committed();
    return result;
  }
  const error = timedOut
    ? new TimeoutError(`workflow ${definition.name} (run ${run.id})`, definition.policy.timeoutMs!)
    : outcome.error instanceof Park
      ? new CancelledError(`run ${run.id}`)
      : outcome.error;
  const policy = definition.policy;
  const retry =
    !timedOut &&
    !active.controller.aborted &&
    attempt < policy.maxAttempts &&
    isRetryable(error) &&
    !(error instanceof NonRetryableError);
  return fail(error, retry ? engine.clock.now() + retryDelay(policy, c.attempt + 1) : null);
}
