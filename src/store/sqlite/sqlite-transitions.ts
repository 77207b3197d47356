/**
 * The transitions the SQLite store composes inside its transactions: what follows a step's
 * success or failure (dependents, map steps, the run finishing), a workflow's `$run` step
 * finishing, waking a parked parent, cancelling a run's steps and its descendants. Every
 * method here runs inside the caller's `BEGIN IMMEDIATE` transaction and never opens one.
 */
import { NotFoundError, type SerializedError } from '../../core/errors.js';
import { isTerminalRun, type RunStatus } from '../../core/states.js';
import type {
  AttemptStatus,
  CompleteStep,
  NewLog,
  StepRef,
  TransitionResult,
  WaitInfo,
} from '../contract/types.js';
import { findEvent, waitQuery } from './sqlite-events.js';
import { errorToText, toClaimed, type ClaimRow } from './sqlite-rows.js';
import type { Partitions } from './sqlite-partitions.js';
import type { FinishedRow, ReadyRow, prepareStatements } from './sqlite-statements.js';

/** Dependents a success made ready, and the finished steps whose edges lead to them. */
interface Ready {
  steps: ReadyRow[];
  from: string[];
}

export class Transitions {
  readonly #s: ReturnType<typeof prepareStatements>;
  readonly #p: Partitions;

  constructor(statements: ReturnType<typeof prepareStatements>, partitions: Partitions) {
    this.#s = statements;
    this.#p = partitions;
  }

  /** `completeStep` inside the caller's transaction. */
  complete(input: CompleteStep): TransitionResult {
    const { runId, key, now } = input;
    if (input.claim) {
      const { leaseMs, startedAt } = input.claim;
      const claimed = this.#s.claimAhead.get(
        input.workerId,
        now + leaseMs,
        startedAt,
        runId,
        key,
        input.attempt,
      );
      if (!claimed) return this.refused(runId);
    }
    const held = this.#s.succeed.get(input.output, now, runId, key, input.attempt, input.workerId);
    if (!held) return this.refused(runId);
    this.recordAttempt(input, 'succeeded', held.started_at, null);
    if (input.logs) this.insertLogs(input.logs);
    const woke = input.slot !== undefined && this.wakeSlot(input.slot, now);
    if (held.kind === 'run') {
      // The workflow function returned: its output (on the `$run` step) is the run's result.
      this.finishWorkflow(runId, now, null);
      return { applied: true, runStatus: this.runStatusOf(runId), claimed: [], queuedMore: woke };
    }
    const ready = this.afterSuccess(runId, key, held.parent_key, now);
    // Something ready means the run has work left; only otherwise is it worth asking.
    if (ready.steps.length === 0) this.finishIfDone(runId, now);
    const result = this.release(runId, ready, now, input.workerId, input.claimNext);
    return woke ? { ...result, queuedMore: true } : result;
  }

  /** A step that held `slot` stopped running: one step deferred for the slot may go now. */
  wakeSlot(slot: string, now: number): boolean {
    return this.#s.wakeSlot.run(now, slot, now).changes > 0;
  }

  /**
   * A step succeeded: count down its dependents and, for a fan-out item, its map step, which
   * succeeds with its last item and counts down its own dependents the same way. Returns the
   * dependents now waiting on nothing; they are still `pending` until {@link release}.
   */
  afterSuccess(runId: string, key: string, parentKey: string | null, now: number): Ready {
    const ready: Ready = { steps: [], from: [] };
    let done = key;
    let parent = parentKey;
    for (;;) {
      let any = false;
      for (const row of this.#s.countDownDependents.all(runId, done)) {
        if (row.waiting_on > 0) continue;
        ready.steps.push(row);
        any = true;
      }
      if (any) ready.from.push(done);
      if (parent === null) return ready;
      const map = this.#s.countDownMap.get(now, runId, parent);
      if (map?.status !== 'succeeded') return ready;
      done = parent;
      parent = map.parent_key;
    }
  }

  /**
   * A step failed for good: its downstream is skipped, transitively. For an item, its map step
   * (if still waiting on its items) fails too, the items not yet started are skipped (their only
   * consumer failed), and the map step's downstream is skipped.
   */
  afterFailure(
    runId: string,
    key: string,
    parentKey: string | null,
    error: SerializedError,
    now: number,
  ): void {
    this.#skipDownstream(runId, key, now);
    let failed = key;
    let cause = error;
    let parent = parentKey;
    while (parent !== null) {
      const mapError: SerializedError = {
        name: 'ItemFailed',
        message: `item ${failed} failed: ${cause.message}`,
        cause,
      };
      const map = this.#s.failMap.get(errorToText(mapError), now, runId, parent);
      if (!map) return;
      this.#s.skipItems.run(now, runId, parent);
      this.#skipDownstream(runId, parent, now);
      failed = parent;
      cause = mapError;
      parent = map.parent_key;
    }
  }

  #skipDownstream(runId: string, key: string, now: number): void {
    const todo = [key];
    for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
      for (const skipped of this.#s.skipDependents.all(now, runId, runId, next)) todo.push(skipped);
    }
  }

  /** Cancels every unfinished step of a run; running ones held by a worker get an attempt row. */
  cancelUnfinished(runId: string, now: number, error: SerializedError): string[] {
    const running = this.#s.runningSteps.all(runId);
    const text = errorToText(error);
    for (const r of running) {
      // An expanded map step has no owner and no attempt of its own to record.
      if (r.lease_owner === null) continue;
      this.#s.insertAttempt.run(
        runId,
        r.key,
        r.attempt,
        'cancelled',
        r.lease_owner,
        r.started_at ?? now,
        now,
        text,
      );
    }
    this.#s.cancelSteps.run(now, runId);
    return running.map((r) => r.key);
  }

  /** Finishes the run if no step is left to do: failed if any step failed, else succeeded. */
  finishIfDone(runId: string, now: number): void {
    if (this.#s.anyUnfinished.get(runId) !== undefined) return;
    const failed = this.#s.failedKeys.all(runId);
    if (failed.length > 0) {
      const error: SerializedError = {
        name: 'RunFailed',
        message: `steps failed: ${failed.join(', ')}`,
      };
      this.wakeParent(this.#s.failRun.get(now, now, now, errorToText(error), runId), now);
    } else {
      this.wakeParent(this.#s.succeedRun.get(now, now, now, runId), now);
    }
  }

  /**
   * A workflow's `$run` step finished: so does the run (failed with `error`, else succeeded),
   * whatever journal entries it left unfinished.
   */
  finishWorkflow(runId: string, now: number, error: SerializedError | null): void {
    this.cancelUnfinished(runId, now, {
      name: 'Cancelled',
      message: `the workflow ${error ? 'failed' : 'returned'} before this entry finished`,
    });
    const finished =
      error === null
        ? this.#s.succeedRun.get(now, now, now, runId)
        : this.#s.failRun.get(now, now, now, errorToText(error), runId);
    this.wakeParent(finished, now);
  }

  /**
   * A run just finished: its parent, if parked, wakes to read the result, and if it was gated
   * (max active runs, a serial schedule) the held runs it made room for are let in.
   */
  wakeParent(finished: FinishedRow | undefined, now: number): void {
    if (!finished) return;
    const parent = finished.parent_run_id;
    if (parent) this.#s.wakeRun.run(now, now, now, parent);
    if (finished.max_active !== null || finished.serial) this.#p.admit(finished.definition, now);
  }

  /** Cancels the unfinished runs below `root` (children, their children…); returns their ids. */
  cancelDescendants(root: string, now: number, reason: string): string[] {
    const error: SerializedError = {
      name: 'Cancelled',
      message: `cancelled with its ancestor run ${root}: ${reason}`,
    };
    const text = errorToText(error);
    const cancelled: string[] = [];
    // Finished runs are walked too: a finished child may have left a child of its own running.
    const seen = new Set([root]);
    const todo = [root];
    for (let parent = todo.shift(); parent !== undefined; parent = todo.shift()) {
      for (const child of this.#s.childIds.all(parent)) {
        if (seen.has(child)) continue;
        seen.add(child);
        todo.push(child);
        const finished = this.#s.cancelRun.get(now, now, text, child);
        if (!finished) continue;
        this.cancelUnfinished(child, now, error);
        // Its parent is being cancelled: only the gates matter.
        this.wakeParent({ ...finished, parent_run_id: null }, now);
        cancelled.push(child);
      }
    }
    return cancelled;
  }

  /**
   * Whether what a run is about to park for has already happened: its child finished (or is
   * gone: waking shows the engine, instead of waiting forever), or, given the events already
   * delivered, an event satisfies its wait. A wake-up that came between the worker's last look
   * and the park had no parked run to wake; this is what keeps it from being lost.
   */
  satisfied(wait: WaitInfo, exclude: readonly string[] | undefined): boolean {
    switch (wait.kind) {
      case 'child': {
        const status = this.#s.runStatus.get(wait.childRunId);
        return status === undefined || isTerminalRun(status);
      }
      case 'event':
        return exclude !== undefined && findEvent(this.#s, waitQuery(wait, exclude)) !== undefined;
      default:
        return false;
    }
  }

  /**
   * Moves the steps a success made ready: up to `claimNext.limit` of them (by priority, then
   * key: they all became ready now) straight to `running` for the caller, the rest to `queued`.
   * A claimed step goes pending → queued → running inside one transaction, so no reader can
   * tell it skipped a state, and it never touches the queued-step indexes: on a chain that is
   * most of the pages a completion writes.
   */
  release(
    runId: string,
    ready: Ready,
    now: number,
    workerId: string,
    claimNext: { limit: number; leaseMs: number; labels?: readonly string[] } | undefined,
  ): TransitionResult {
    const taken: { key: string; row: Omit<ClaimRow, 'run_id' | 'key' | 'kind' | 'definition'> }[] =
      [];
    const lease = now + (claimNext?.leaseMs ?? 0);
    const limit = claimNext?.limit ?? 0;
    if (limit > 0 && ready.steps.length > 0) {
      // Only steps whose labels the claiming worker has; the others wait for a worker that does.
      const fit = ready.steps.filter((r) => labelsFit(r.labels, claimNext?.labels));
      const order =
        fit.length <= 1
          ? fit
          : [...fit].sort(
              (a, b) => b.priority - a.priority || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
            );
      for (const step of order.slice(0, limit)) {
        const row = this.#s.claimReady.get(workerId, lease, now, now, now, runId, step.key);
        if (row) taken.push({ key: step.key, row });
      }
    }
    if (taken.length < ready.steps.length) {
      for (const from of ready.from) this.#s.queueReady.run(now, now, runId, runId, from);
    }
    const run = this.#s.runInfo.get(runId);
    if (!run) throw new NotFoundError('run', runId);
    let runStatus = run.status;
    // The run is running already unless it was waiting (a workflow): spare the no-op update.
    if (taken.length > 0 && runStatus !== 'running') {
      if (this.#s.startRun.run(now, now, runId).changes > 0) runStatus = 'running';
    }
    const claimed = taken.map(({ key, row }) =>
      toClaimed({ ...row, run_id: runId, key, kind: run.kind, definition: run.definition }, lease),
    );
    return { applied: true, runStatus, claimed, queuedMore: ready.steps.length > claimed.length };
  }

  /** The attempt row of the caller's attempt, ending now. */
  recordAttempt(
    ref: StepRef & { now: number },
    status: AttemptStatus,
    startedAt: number | null,
    error: string | null,
  ): void {
    const { runId, key, attempt, workerId, now } = ref;
    this.#s.insertAttempt.run(runId, key, attempt, status, workerId, startedAt ?? now, now, error);
  }

  refused(runId: string): TransitionResult {
    return { applied: false, runStatus: this.runStatusOf(runId), claimed: [], queuedMore: false };
  }

  runStatusOf(runId: string): RunStatus {
    const status = this.#s.runStatus.get(runId);
    if (status === undefined) throw new NotFoundError('run', runId);
    return status;
  }

  insertLogs(lines: readonly NewLog[]): void {
    for (const l of lines)
      this.#s.insertLog.run(l.runId, l.stepKey, l.attempt, l.at, l.level, l.message);
  }
}

/** Whether a worker with `worker` labels may take a step requiring `required` (a JSON array). */
function labelsFit(required: string | null, worker: readonly string[] | undefined): boolean {
  if (required === null) return true;
  const need = JSON.parse(required) as string[];
  return need.every((l) => worker?.includes(l) ?? false);
}
