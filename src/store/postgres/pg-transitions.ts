/**
 * The transitions the Postgres store composes inside its transactions: what follows a step's
 * success or failure (dependents, map steps, the run finishing), a workflow's `$run` step
 * finishing, waking a parked parent, cancelling a run's steps and its descendants. Every
 * function here runs on the caller's transaction client, after the caller locked the run's row
 * ({@link S.lockRun}), and never opens a transaction.
 */
import { NotFoundError, type SerializedError } from '../../core/errors.js';
import { isTerminalRun, type RunStatus } from '../../core/states.js';
import type {
  RunRecord,
  AttemptStatus,
  CompleteStep,
  JournalEntry,
  NewLog,
  RecordEntry,
  StepRef,
  TransitionResult,
  WaitInfo,
} from '../contract/types.js';
import { lastOfEach } from '../contract/entries.js';
import { findEvent, waitQuery } from './pg-events.js';
import { json, toClaimed, toRun, type ClaimRow, type RunRow } from './pg-rows.js';
import * as S from './pg-statements.js';
import { notifyAfterCommit } from './pg-notify.js';
import { admit } from './pg-partitions.js';
import type { Db, FinishedRow, ReadyRow } from './pg-statements.js';

/** Dependents a success made ready, and the finished steps whose edges lead to them. */
export interface Ready {
  steps: ReadyRow[];
  from: string[];
}

/** What `lockRun` read of the run, for a transition that needs it again. */
export type LockedRun = NonNullable<Awaited<ReturnType<typeof S.lockRun>>>;

/**
 * `completeStep` inside the caller's transaction (the run's row locked). `locked`, when the
 * caller read the run as it locked it, spares reading it again.
 */
export async function complete(
  db: Db,
  input: CompleteStep,
  locked?: LockedRun,
): Promise<TransitionResult> {
  const { runId, key, now } = input;
  if (input.claim) {
    const { leaseMs, startedAt } = input.claim;
    const claimed = await S.claimAhead(
      db,
      runId,
      key,
      input.attempt,
      input.workerId,
      now + leaseMs,
      startedAt,
    );
    if (!claimed) return refused(db, runId);
  }
  const held = await S.succeedStep(
    db,
    runId,
    key,
    input.attempt,
    input.workerId,
    input.output,
    now,
  );
  if (!held) return refused(db, runId);
  if (input.logs) await S.insertLogs(db, input.logs);
  const woke = input.slot !== undefined && (await S.wakeSlot(db, input.slot, now)) > 0;
  if (held.kind === 'run') {
    // The workflow function returned: its output (on the `$run` step) is the run's result.
    const finished = await finishWorkflow(db, runId, now, null);
    return {
      applied: true,
      runStatus: finished?.status ?? (await runStatusOf(db, runId)),
      claimed: [],
      queuedMore: woke,
      ...(finished ? { finishedRun: finished } : {}),
    };
  }
  const ready = await afterSuccess(db, runId, key, held.parent_key, now, held.dependents);
  // Something ready means the run has work left; only otherwise is it worth asking.
  const finished = ready.steps.length === 0 ? await finishIfDone(db, runId, now) : null;
  // Nothing else here moves the run's status: what was locked (or just finished) still holds.
  const run = locked && { ...locked, status: finished?.status ?? locked.status };
  const result = await release(db, runId, ready, now, input.workerId, input.claimNext, run);
  return {
    ...result,
    ...(woke ? { queuedMore: true } : {}),
    ...(finished ? { finishedRun: finished } : {}),
  };
}

/**
 * A step succeeded: count down its dependents and, for a fan-out item, its map step, which
 * succeeds with its last item and counts down its own dependents the same way. Returns the
 * dependents now waiting on nothing; they are still `pending` until {@link release}.
 */
export async function afterSuccess(
  db: Db,
  runId: string,
  key: string,
  parentKey: string | null,
  now: number,
  counted?: ReadyRow[],
): Promise<Ready> {
  const ready: Ready = { steps: [], from: [] };
  let done = key;
  let parent = parentKey;
  // `counted`: the step's own dependents, counted down already (`succeedStep`).
  let rows = counted;
  for (;;) {
    let any = false;
    for (const row of rows ?? (await S.countDownDependents(db, runId, done))) {
      if (row.waiting_on > 0) continue;
      ready.steps.push(row);
      any = true;
    }
    if (any) ready.from.push(done);
    if (parent === null) return ready;
    const map = await S.countDownMap(db, runId, parent, now);
    if (map?.status !== 'succeeded') return ready;
    done = parent;
    parent = map.parent_key;
    rows = undefined;
  }
}

/**
 * A step failed for good: its downstream is skipped, transitively. For an item, its map step
 * (if still waiting on its items) fails too, the items not yet started are skipped (their only
 * consumer failed), and the map step's downstream is skipped.
 */
export async function afterFailure(
  db: Db,
  runId: string,
  key: string,
  parentKey: string | null,
  error: SerializedError,
  now: number,
): Promise<void> {
  await skipDownstream(db, runId, key, now);
  let failed = key;
  let cause = error;
  let parent = parentKey;
  while (parent !== null) {
    const mapError: SerializedError = {
      name: 'ItemFailed',
      message: `item ${failed} failed: ${cause.message}`,
      cause,
    };
    const map = await S.failMap(db, runId, parent, json(mapError), now);
    if (!map) return;
    await S.skipItems(db, runId, parent, now);
    await skipDownstream(db, runId, parent, now);
    failed = parent;
    cause = mapError;
    parent = map.parent_key;
  }
}

async function skipDownstream(db: Db, runId: string, key: string, now: number): Promise<void> {
  const todo = [key];
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    for (const skipped of await S.skipDependents(db, runId, next, now)) todo.push(skipped.key);
  }
}

/** Cancels every unfinished step of a run; running ones held by a worker get an attempt row. */
export async function cancelUnfinished(
  db: Db,
  runId: string,
  now: number,
  error: SerializedError,
): Promise<string[]> {
  const rows = await S.cancelSteps(db, runId, now);
  const running = rows.filter((r) => r.status === 'running').sort((a, b) => a.ord - b.ord);
  // An expanded map step has no owner and no attempt of its own to record.
  const held = running.filter((r) => r.lease_owner !== null);
  if (held.length > 0) {
    await S.insertAttempts(
      db,
      held.map(() => runId),
      held.map((r) => r.key),
      held.map((r) => r.attempt),
      'cancelled',
      held.map((r) => r.lease_owner),
      held.map((r) => r.started_at ?? now),
      now,
      json(error),
    );
  }
  return running.map((r) => r.key);
}

/**
 * Finishes the run if no step is left to do: failed if any step failed (its error lists them),
 * else succeeded. Returns the run as it finished, or null when it did not finish.
 */
export async function finishIfDone(db: Db, runId: string, now: number): Promise<RunRecord | null> {
  const finished = await S.finishIfDone(db, now, runId);
  if (!finished) return null;
  notifyAfterCommit(db);
  await wakeParent(db, finished, now);
  return toRun(finished);
}

/**
 * A workflow's `$run` step finished: so does the run (failed with `error`, else succeeded),
 * whatever journal entries it left unfinished. Returns the finished run (null if it had
 * already finished, e.g. cancelled). The work channel is notified after commit.
 */
export async function finishWorkflow(
  db: Db,
  runId: string,
  now: number,
  error: SerializedError | null,
): Promise<RunRecord | null> {
  await cancelUnfinished(db, runId, now, {
    name: 'Cancelled',
    message: `the workflow ${error ? 'failed' : 'returned'} before this entry finished`,
  });
  const finished =
    error === null
      ? await S.succeedRun(db, now, runId)
      : await S.failRun(db, now, json(error), runId);
  if (finished) notifyAfterCommit(db);
  await wakeParent(db, finished, now);
  return finished ? toRun(finished) : null;
}

/**
 * A run just finished: its parent, if parked, wakes to read the result. The parent's row is
 * locked first (blocking): a parent parking on this child right now commits its park before
 * the wake-up reads it, or parks after this commits and then sees the child finished (see
 * `PostgresStore.parkRun`).
 */
export async function wakeParent(
  db: Db,
  finished: FinishedRow | undefined,
  now: number,
): Promise<void> {
  if (!finished) return;
  const parent = finished.parent_run_id;
  if (parent) {
    await S.lockRun(db, parent);
    await S.wakeRun(db, parent, now);
  }
  // A gated run (max active runs, a serial schedule) lets in the held runs it made room for.
  if (finished.max_active !== null || finished.serial) await admit(db, finished.definition, now);
}

/** Cancels the unfinished runs below `root` (children, their children…); returns their ids. */
export async function cancelDescendants(
  db: Db,
  root: string,
  now: number,
  reason: string,
): Promise<string[]> {
  const error: SerializedError = {
    name: 'Cancelled',
    message: `cancelled with its ancestor run ${root}: ${reason}`,
  };
  const text = json(error);
  const cancelled: string[] = [];
  // Finished runs are walked too: a finished child may have left a child of its own running.
  const seen = new Set([root]);
  const todo = [root];
  for (let parent = todo.shift(); parent !== undefined; parent = todo.shift()) {
    for (const { id: child } of await S.childIds(db, parent)) {
      if (seen.has(child)) continue;
      seen.add(child);
      todo.push(child);
      const finished = await S.cancelRun(db, now, text, child);
      if (!finished) continue;
      await cancelUnfinished(db, child, now, error);
      // Its parent is being cancelled: only the gates matter.
      await wakeParent(db, { ...finished, parent_run_id: null }, now);
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
export async function satisfied(
  db: Db,
  wait: WaitInfo,
  exclude: readonly string[] | undefined,
): Promise<boolean> {
  switch (wait.kind) {
    case 'child': {
      const row = await S.runStatus(db, wait.childRunId);
      return row === undefined || isTerminalRun(row.status);
    }
    case 'event':
      return exclude !== undefined && (await findEvent(db, waitQuery(wait, exclude))) !== undefined;
    default:
      return false;
  }
}

/**
 * Moves the steps a success made ready: up to `claimNext.limit` of them (by priority, then
 * key: they all became ready now) straight to `running` for the caller, the rest to `queued`.
 */
export async function release(
  db: Db,
  runId: string,
  ready: Ready,
  now: number,
  workerId: string,
  claimNext: { limit: number; leaseMs: number; labels?: readonly string[] } | undefined,
  known?: LockedRun,
): Promise<TransitionResult> {
  const taken: { key: string; row: Omit<ClaimRow, 'run_id' | 'key' | 'kind' | 'definition'> }[] =
    [];
  const lease = now + (claimNext?.leaseMs ?? 0);
  const limit = claimNext?.limit ?? 0;
  if (limit > 0 && ready.steps.length > 0) {
    // Only steps whose labels the claiming worker has; the others wait for a worker that does.
    const fit = ready.steps.filter(
      (r) => r.labels === null || r.labels.every((l) => claimNext?.labels?.includes(l) ?? false),
    );
    const order =
      fit.length <= 1
        ? fit
        : [...fit].sort(
            (a, b) => b.priority - a.priority || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
          );
    const chosen = order.slice(0, limit).map((step) => step.key);
    if (chosen.length === 1) {
      const row = await S.claimReady(db, runId, chosen[0]!, workerId, lease, now);
      if (row) taken.push({ key: chosen[0]!, row });
    } else if (chosen.length > 1) {
      // One statement for all of them (a fan-out's branches), put back in claim order.
      const rows = new Map(
        (await S.claimReadyMany(db, runId, chosen, workerId, lease, now)).map((r) => [r.key, r]),
      );
      for (const key of chosen) {
        const row = rows.get(key);
        if (row) taken.push({ key, row });
      }
    }
  }
  if (taken.length < ready.steps.length) await S.queueReady(db, runId, ready.from, now);
  const run = known ?? (await S.runInfo(db, runId));
  if (!run) throw new NotFoundError('run', runId);
  let runStatus = run.status;
  // The run is running already unless it was waiting (a workflow): spare the no-op update.
  if (taken.length > 0 && runStatus !== 'running') {
    if ((await S.startRun(db, now, runId)) > 0) runStatus = 'running';
  }
  const claimed = taken.map(({ key, row }) =>
    toClaimed({ ...row, run_id: runId, key, kind: run.kind, definition: run.definition }, lease),
  );
  return { applied: true, runStatus, claimed, queuedMore: ready.steps.length > claimed.length };
}

/** The attempt row of the caller's attempt, ending now. */
export async function recordAttempt(
  db: Db,
  ref: StepRef & { now: number },
  status: AttemptStatus,
  startedAt: number | null,
  error: string | null,
): Promise<void> {
  const { runId, key, attempt, workerId, now } = ref;
  await S.insertAttempt(db, runId, key, attempt, status, workerId, startedAt ?? now, now, error);
}

export async function refused(db: Db, runId: string): Promise<TransitionResult> {
  return {
    applied: false,
    runStatus: await runStatusOf(db, runId),
    claimed: [],
    queuedMore: false,
  };
}

export async function runStatusOf(db: Db, runId: string): Promise<RunStatus> {
  const row = await S.runStatus(db, runId);
  if (row === undefined) throw new NotFoundError('run', runId);
  return row.status;
}

/**
 * Writes journal entries of one run (checked by `checkEntries`) with ONE statement, which locks
 * the run, checks that `first`'s holder still holds it and writes all or nothing: whether it did.
 */
export async function writeEntries(
  db: Db,
  first: RecordEntry,
  inputs: readonly RecordEntry[],
): Promise<boolean> {
  const row = await S.recordEntriesAtOnce(
    db,
    first.runId,
    first.workerId,
    first.runAttempt,
    ...entryArrays(inputs, []),
  );
  return (row?.held ?? 0) > 0;
}

/**
 * The entries of several runs, each group (checked: one run and holder, `first` its first) as
 * {@link writeEntries} would write it, in one statement ({@link S.recordEntryGroupsAtOnce}).
 * The runs must be distinct. Returns the runs whose holder still held them (those written).
 */
export async function writeEntryGroups(
  db: Db,
  groups: readonly { first: RecordEntry; inputs: readonly RecordEntry[] }[],
): Promise<Set<string>> {
  const rows = groups.map(({ first, inputs }) => ({ runId: first.runId, ...journalRows(inputs) }));
  const entryRuns = rows.flatMap((r) => r.entries.map(() => r.runId));
  const attemptRuns = rows.flatMap((r) => r.attempts.map(() => r.runId));
  const lines = groups.flatMap(({ inputs }) => inputs.flatMap((i) => i.logs ?? []));
  const written = await S.recordEntryGroupsAtOnce(
    db,
    groups.map((g) => g.first.runId),
    groups.map((g) => g.first.workerId),
    groups.map((g) => g.first.runAttempt),
    entryRuns,
    ...entryColumns(rows.flatMap((r) => r.entries)),
    attemptRuns,
    ...attemptColumns(rows.flatMap((r) => r.attempts)),
    ...S.logColumns(lines),
  );
  return new Set(written.map((r) => r.run_id));
}

/**
 * A step's success that finishes its run, in one statement (see {@link S.completeLastAtOnce}),
 * with a workflow's last journal entries (checked); `alone`: only for a run with no parent and
 * no gate (then nothing follows the statement, which may run outside a transaction). When the
 * success does not finish the run that way, nothing is written and it says why: `unfinished`
 * (the general path follows), or `not alone` (in a transaction, without `alone`, it would).
 */
export async function completeLast(
  db: Db,
  input: CompleteStep,
  alone: boolean,
): Promise<TransitionResult | 'unfinished' | 'not alone'> {
  const { runId, now } = input;
  const row = await S.completeLastAtOnce(
    db,
    runId,
    input.key,
    input.attempt,
    input.workerId,
    input.output,
    now,
    alone,
    ...entryArrays(input.journal ?? [], input.logs ?? []),
  );
  if (!row || row.holding === 0) return refused(db, runId);
  if (row.went === 0) return alone && row.lone === false ? 'not alone' : 'unfinished';
  if (!row.id) {
    // Held, yet the run could not succeed (not running): as the general path leaves it.
    return {
      applied: true,
      runStatus: await runStatusOf(db, runId),
      claimed: [],
      queuedMore: false,
    };
  }
  const finished = row as RunRow & FinishedRow;
  notifyAfterCommit(db);
  await wakeParent(db, finished, now);
  return {
    applied: true,
    runStatus: 'succeeded',
    claimed: [],
    queuedMore: false,
    finishedRun: toRun(finished),
  };
}

/** The arrays of entries, attempt rows and log lines (`logs` and the entries') of a write. */
function entryArrays(
  inputs: readonly RecordEntry[],
  logs: readonly NewLog[],
): Parameters<typeof S.recordEntriesAtOnce> extends [Db, string, string, number, ...infer A]
  ? A
  : never {
  const { entries, attempts } = journalRows(inputs);
  const lines = [...inputs.flatMap((i) => i.logs ?? []), ...logs];
  return [...entryColumns(entries), ...attemptColumns(attempts), ...S.logColumns(lines)];
}

/** What a run's entries leave written: the last state of each key, of each attempt of a key. */
function journalRows(inputs: readonly RecordEntry[]) {
  return {
    entries: lastOfEach(inputs, (i) => i.entry.key).map((i) => i.entry),
    attempts: lastOfEach(
      inputs.filter((i) => i.attemptRow !== undefined),
      (i) => `${i.entry.key}\u0000${i.attemptRow!.attempt}`,
    ).map((i) => ({ key: i.entry.key, now: i.now, ...i.attemptRow! })),
  };
}

/** Journal entries as column arrays: key, name, kind, seq, status, output, error, attempt, started, finished. */
function entryColumns(entries: readonly JournalEntry[]) {
  return [
    entries.map((e) => e.key),
    entries.map((e) => e.name),
    entries.map((e) => e.kind),
    entries.map((e) => e.seq),
    entries.map((e) => e.status),
    entries.map((e) => e.output),
    entries.map((e) => json(e.error)),
    entries.map((e) => e.attempt),
    entries.map((e) => e.startedAt),
    entries.map((e) => e.finishedAt),
  ] as const;
}

/** Attempt rows as column arrays: key, attempt, status, started, finished, error. */
function attemptColumns(attempts: ReturnType<typeof journalRows>['attempts']) {
  return [
    attempts.map((a) => a.key),
    attempts.map((a) => a.attempt),
    attempts.map((a) => a.status),
    attempts.map((a) => a.startedAt),
    attempts.map((a) => a.now),
    attempts.map((a) => json(a.error)),
  ] as const;
}
