/**
 * Group commit on Postgres, set-based: a batch of results is recorded with a handful of
 * statements whatever its size (the steps, their attempt rows, their logs, the count-down of
 * their dependents, the runs they finish), instead of a handful per result. A round trip costs
 * far more than a row, so a worker draining many small steps records them at the speed of
 * Postgres rather than of the network.
 *
 * Same outcome as {@link T.complete} applied to each input in order, for batches whose inputs
 * claim nothing ahead (no `claim`) and name distinct steps: those are independent of one
 * another except through shared dependents, which the count-down aggregates. Fan-out items and
 * workflow `$run` steps take the per-result path for what follows their success (map
 * count-downs, finishing a workflow); plain nodes share the batched one.
 */
import { isTerminalRun, type RunStatus } from '../../core/states.js';
import type { ClaimedStep, CompleteStep, TransitionResult } from '../contract/types.js';
import { toClaimed } from './pg-rows.js';
import * as S from './pg-statements.js';
import type { Db, ReadyRow } from './pg-statements.js';
import * as T from './pg-transitions.js';

/** Whether {@link completeBatch} may record these inputs (else apply them one by one). */
export function batchable(inputs: readonly CompleteStep[]): boolean {
  if (inputs.length < 2) return false;
  const seen = new Set<string>();
  for (const i of inputs) {
    if (i.claim || i.journal?.length) return false;
    const id = `${i.runId}\u0000${i.key}`;
    if (seen.has(id)) return false;
    seen.add(id);
  }
  return true;
}

/** Records a {@link batchable} batch; the caller has locked every run of it, in id order. */
export async function completeBatch(
  db: Db,
  inputs: readonly CompleteStep[],
): Promise<TransitionResult[]> {
  const succeeded = await S.succeedMany(db, ...S.resultColumns(inputs));
  const held = new Map(succeeded.map((r) => [`${r.run_id}\u0000${r.key}`, r]));
  const applied = inputs.map((i) => held.get(`${i.runId}\u0000${i.key}`));
  const done = inputs.filter((_, n) => applied[n] !== undefined);
  if (done.length > 0) {
    await S.insertSucceededAttempts(
      db,
      done.map((i) => i.runId),
      done.map((i) => i.key),
      done.map((i) => i.attempt),
      done.map((i) => i.workerId),
      done.map((i) => held.get(`${i.runId}\u0000${i.key}`)!.started_at ?? i.now),
      done.map((i) => i.now),
    );
    await S.insertLogs(
      db,
      done.flatMap((i) => i.logs ?? []),
    );
  }

  /** Per run: the steps this batch made ready (still pending). */
  const ready = new Map<string, ReadyRow[]>();
  const addReady = (runId: string, rows: readonly ReadyRow[]): void => {
    if (rows.length === 0) return;
    const list = ready.get(runId) ?? [];
    list.push(...rows);
    ready.set(runId, list);
  };
  const plain: CompleteStep[] = [];
  /** Fan-out items by their map step: each map counts down once for all of them. */
  const items = new Map<string, { runId: string; map: string; n: number; now: number }>();
  let woke = false;
  for (const [n, input] of inputs.entries()) {
    const row = applied[n];
    if (!row) continue;
    if (input.slot !== undefined && (await S.wakeSlot(db, input.slot, input.now)) > 0) woke = true;
    if (row.kind === 'run') {
      // The workflow function returned: its output (on the `$run` step) is the run's result.
      await T.finishWorkflow(db, input.runId, input.now, null);
    } else if (row.parent_key !== null) {
      // An item has no dependents of its own (edges start at its map step).
      const id = `${input.runId}\u0000${row.parent_key}`;
      const group = items.get(id) ?? { runId: input.runId, map: row.parent_key, n: 0, now: 0 };
      group.n++;
      group.now = Math.max(group.now, input.now);
      items.set(id, group);
    } else {
      plain.push(input);
    }
  }
  for (const { runId, map, n, now } of items.values()) {
    const counted = await S.countDownMapBy(db, runId, map, now, n);
    if (counted?.status !== 'succeeded') continue;
    // The map's last items came in: it succeeds, and what follows it as after any success.
    const r = await T.afterSuccess(db, runId, map, counted.parent_key, now);
    addReady(runId, r.steps);
    if (r.steps.length === 0) await T.finishIfDone(db, runId, now);
  }
  if (plain.length > 0) {
    const counted = await S.countDownMany(
      db,
      plain.map((i) => i.runId),
      plain.map((i) => i.key),
    );
    const byRun = new Map<string, ReadyRow[]>();
    for (const r of counted) {
      if (r.waiting_on > 0) continue;
      byRun.set(r.run_id, [...(byRun.get(r.run_id) ?? []), r]);
    }
    for (const [runId, rows] of byRun) addReady(runId, rows);
    // Runs where nothing became ready may be finished: check them all at once.
    const now = plain[plain.length - 1]!.now;
    const quiet = [...new Set(plain.map((i) => i.runId))].filter((id) => !ready.has(id));
    if (quiet.length > 0) {
      const finished = await S.finishedRuns(db, quiet);
      const clean = finished.filter((f) => !f.failed).map((f) => f.id);
      if (clean.length > 0) {
        for (const parent of await S.succeedRuns(db, now, clean)) {
          await T.wakeParent(db, parent, now);
        }
      }
      // A run with a failed step fails with the list of them: rare, one at a time.
      for (const f of finished) if (f.failed) await T.finishIfDone(db, f.id, now);
    }
  }

  // Claim what became ready, up to the batch's budget (named by its last input), best first;
  // queue the rest.
  const last = inputs[inputs.length - 1]!;
  const budget = last.claimNext;
  const claimed: ClaimedStep[] = [];
  const queue = { runIds: [] as string[], keys: [] as string[] };
  const candidates = [...ready.entries()].flatMap(([runId, rows]) =>
    rows.map((row) => ({ runId, row })),
  );
  candidates.sort(
    (a, b) =>
      b.row.priority - a.row.priority ||
      (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0) ||
      (a.row.key < b.row.key ? -1 : a.row.key > b.row.key ? 1 : 0),
  );
  const started = new Set<string>();
  const now = last.now;
  // Chosen first (best first, within the budget and the worker's labels), then claimed with
  // one statement per run; what is not taken is queued.
  const chosen = new Map<string, string[]>();
  let count = 0;
  for (const { runId, row } of candidates) {
    const fits =
      budget !== undefined &&
      count < budget.limit &&
      (row.labels === null || row.labels.every((l) => budget.labels?.includes(l) ?? false));
    if (fits) {
      chosen.set(runId, [...(chosen.get(runId) ?? []), row.key]);
      count++;
    } else {
      queue.runIds.push(runId);
      queue.keys.push(row.key);
    }
  }
  for (const [runId, keys] of chosen) {
    const lease = now + budget!.leaseMs;
    const taken = new Map(
      (await S.claimReadyMany(db, runId, keys, last.workerId, lease, now)).map((r) => [r.key, r]),
    );
    const run = taken.size > 0 ? await S.runInfo(db, runId) : undefined;
    for (const key of keys) {
      const row = taken.get(key);
      if (!row || !run) {
        queue.runIds.push(runId);
        queue.keys.push(key);
        continue;
      }
      claimed.push(
        toClaimed({ ...row, run_id: runId, kind: run.kind, definition: run.definition }, lease),
      );
    }
    if (run && run.status !== 'running') started.add(runId);
  }
  if (queue.keys.length > 0) await S.queueSteps(db, queue.runIds, queue.keys, now);
  if (started.size > 0) await S.startRuns(db, now, [...started]);

  const statuses = new Map<string, RunStatus>(
    (await S.runStatuses(db, [...new Set(inputs.map((i) => i.runId))])).map((r) => [
      r.id,
      r.status,
    ]),
  );
  const queuedRuns = new Set(queue.runIds);
  return inputs.map((input, n) => {
    const isLast = n === inputs.length - 1;
    return {
      applied: applied[n] !== undefined,
      runStatus: statuses.get(input.runId)!,
      claimed: isLast ? claimed : [],
      queuedMore: applied[n] !== undefined && (queuedRuns.has(input.runId) || (isLast && woke)),
    };
  });
}

/** Whether a batch's results may give another process something to do or to see. */
export function batchMayWake(results: readonly TransitionResult[]): boolean {
  return results.some((r) => r.applied && (r.queuedMore || isTerminalRun(r.runStatus)));
}
