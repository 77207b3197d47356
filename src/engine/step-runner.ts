/**
 * Runs one claimed pipeline step: builds its input, runs the attempt under the node's policy
 * (concurrency slot, timeout, abort), and records the outcome — a result, a retry, a failure,
 * or for a map step its expansion into items.
 */
import { isThenable, LazyAbortController, runAttempt, type Abortable } from '../core/attempt.js';
import {
  CancelledError,
  CodecError,
  isRetryable,
  NonRetryableError,
  serializeError,
} from '../core/errors.js';
import type { LogLevel } from '../core/log.js';
import { retryDelay } from '../core/policy.js';
import { AttemptContext, formatLogData, type TaskContext } from '../sdk/context.js';
import { itemKey } from '../sdk/fanout.js';
import type { Partition } from '../core/partitions.js';
import type { NodeSpec } from '../sdk/pipeline.js';
import { concurrencySlot } from '../sdk/slots.js';
import type {
  ClaimedStep,
  CompleteStep,
  NewLog,
  TransitionResult,
} from '../store/contract/types.js';
import type { Engine } from './engine.js';
import type { FaultPoint } from './events.js';
import { withLogSink } from './log-capture.js';
import type { RunContext } from './run-context.js';

/** A step this worker holds. */
export interface ActiveStep {
  claimed: ClaimedStep;
  controller: LazyAbortController;
  /** False once a map step has expanded (its items carry the leases). */
  leased: boolean;
  /** True once the step's last transition is recorded: nothing of it is left to abort. */
  done: boolean;
  logs: NewLog[];
  flushLogs: () => Promise<void>;
}

/**
 * Calls the fault hook at `point` for step `key` of `c`'s run. Callers check for a hook first:
 * awaiting one that is absent would still cost the step a turn of the microtask queue.
 */
function fault(
  engine: Engine,
  point: FaultPoint,
  c: ClaimedStep,
  key = c.key,
  attempt = c.attempt,
): void | Promise<void> {
  return engine.faults[point]?.({ point, runId: c.runId, step: key, attempt });
}

/** The step `c` as this worker holds it, for the store's transitions. */
function heldBy(engine: Engine, c: ClaimedStep) {
  return { runId: c.runId, key: c.key, attempt: c.attempt, workerId: engine.workerId };
}

export async function runPipelineStep(
  engine: Engine,
  context: RunContext,
  active: ActiveStep,
): Promise<TransitionResult | null> {
  const c = active.claimed;
  if (engine.faults.afterClaim) await fault(engine, 'afterClaim', c);
  const node = context.spec.nodes.get(c.node);
  // Work run ahead of this step's claim (by the worker that ran its predecessor) is taken over
  // as this attempt instead of running the node again; its start was reported when it began.
  const handedOver =
    c.parentKey === null && c.attempt === 1 ? context.takeHandedOver(c.node) : undefined;
  if (!handedOver) {
    engine.emit({
      type: 'step',
      runId: c.runId,
      step: c.key,
      node: c.node,
      status: 'running',
      attempt: c.attempt,
      at: engine.clock.now(),
    });
  }
  if (!node) {
    return fail(
      engine,
      active,
      new NonRetryableError(
        `pipeline ${context.spec.name} has no node "${c.node}" any more; the code changed while the run was in progress`,
      ),
      null,
    );
  }

  // A map step is expanded into its items; the items do the work.
  if (node.kind === 'map' && c.parentKey === null) {
    let items: string[];
    try {
      const fan = await context.fanOut(node);
      items = fan.paths.map((p) => itemKey(node.name, p));
    } catch (error) {
      return fail(engine, active, error, node);
    }
    // This worker takes the first items itself, as many as it has free slots (its own
    // included): they start without a round trip through the queue.
    const result = await engine.withClaim((claim) =>
      engine.store.expandStep({
        ...heldBy(engine, c),
        now: engine.clock.now(),
        items,
        ...(claim ? { claim } : {}),
      }),
    );
    active.leased = false;
    if (result.applied) {
      engine.emit({
        type: 'step',
        runId: c.runId,
        step: c.key,
        node: c.node,
        status: items.length ? 'running' : 'succeeded',
        attempt: c.attempt,
        at: engine.clock.now(),
        items: items.length,
      });
      if (items.length === 0) context.remember(node.name, await context.value(node.name));
    }
    return result;
  }

  let input: Record<string, unknown>;
  let item: unknown;
  try {
    const known = context.input(node);
    input = isThenable(known) ? await known : known;
    item = c.parentKey === null ? undefined : (await context.fanOut(node)).items[c.index!];
  } catch (error) {
    return fail(engine, active, error, node);
  }

  if (handedOver) {
    active.logs.push(...handedOver.logs.splice(0));
    active.controller.link(handedOver.controller);
  }

  let output: unknown;
  const slot = concurrencySlot(context.spec.name, node, node.kind === 'map' ? item : input);
  let release: (() => void) | null = null;
  /** The global concurrency slot this attempt holds, freed by recording its outcome. */
  let held: string | undefined;
  try {
    if (handedOver) {
      output = await handedOver.outcome;
    } else {
      if (slot !== null) {
        // This process's limiter first (free), then the limit across every worker (a store
        // transaction): a step whose slot is full everywhere goes back to the queue, instead
        // of holding a worker's capacity while it waits.
        const limit = node.policy.concurrency!;
        release = await engine.limiter.acquire(slot, limit, active.controller.signal);
        const now = engine.clock.now();
        if (!(await engine.store.acquireSlot({ ...heldBy(engine, c), slot, limit, now }))) {
          release();
          return defer(engine, active, slot);
        }
        held = slot;
      }
      if (engine.faults.beforeAttempt) await fault(engine, 'beforeAttempt', c);
      const r = startAttempt(
        engine,
        c.runId,
        c.key,
        c.attempt,
        node,
        input,
        item,
        active.controller,
        active.logs,
        context.partition,
      );
      output = isThenable(r) ? await r : r;
    }
  } catch (error) {
    release?.();
    return fail(engine, active, error, node, held);
  }
  release?.();

  let encoded: string;
  try {
    encoded = engine.encodeOutput(output, `output of ${c.key}`);
  } catch (error) {
    return fail(engine, active, error, node, held);
  }
  if (engine.faults.beforeCommit) await fault(engine, 'beforeCommit', c);
  const final = c.parentKey === null && !context.spec.dependents.get(node.name)?.length;
  const result: Omit<CompleteStep, 'claimNext'> = {
    runId: c.runId,
    key: c.key,
    attempt: c.attempt,
    workerId: engine.workerId,
    output: encoded,
    now: engine.clock.now(),
    logs: active.logs.length > 0 ? active.logs.splice(0) : [],
  };
  if (held !== undefined) result.slot = held;
  if (final) {
    result.mayFinish = true;
    if (engine.waitedOn(c.runId)) result.returnRun = true;
  }
  const batch = [result];
  if (c.parentKey === null) {
    context.remember(node.name, output);
    if (node.kind === 'node' && !final && engine.state === 'running') {
      await runAhead(engine, context, active, node, batch);
    }
  }
  const results = await engine.commitCompletions(batch);
  const now = engine.clock.now();
  for (let k = 0; k < results.length; k++) {
    const r = results[k]!;
    const input = batch[k]!;
    if (!r.applied) {
      if (k > 0 || c.parentKey === null) context.forget(input.key);
      continue;
    }
    if (engine.faults.afterCommit) await fault(engine, 'afterCommit', c, input.key, input.attempt);
    engine.emit({
      type: 'step',
      runId: c.runId,
      step: input.key,
      node: input.key === c.key ? c.node : input.key,
      status: 'succeeded',
      attempt: input.attempt,
      at: now,
    });
  }
  const last = results[results.length - 1]!;
  // A lone result's transition is the step's (the run as the commit that finished it left it
  // too: its waiters need not read it back).
  if (results.length === 1) return last;
  return {
    applied: results[0]!.applied,
    runStatus: last.runStatus,
    claimed: results.flatMap((r) => r.claimed),
    queuedMore: results.some((r) => r.queuedMore),
    ...(last.finishedRun ? { finishedRun: last.finishedRun } : {}),
  };
}

/** How long results may wait uncommitted while the worker runs a chain ahead, and how many. */
const RUN_AHEAD_MS = 2;
const RUN_AHEAD_STEPS = 64;

/**
 * Runs a chain ahead: while the node just finished has exactly one successor that can run now
 * (see `RunContext.soleSuccessor`) and the work is quick, runs it at once — before anything is
 * committed — and adds its result to `batch`, so a chain of cheap nodes commits up to 64 results
 * per transaction. Results never wait more than a couple of milliseconds: a successor still
 * running after a millisecond, or one that failed, is handed over and the batch commits; the
 * batch's commit claims that step for this worker, whose runner then takes over the work in
 * flight (or its failure) as the step's first attempt.
 */
async function runAhead(
  engine: Engine,
  context: RunContext,
  active: ActiveStep,
  from: NodeSpec,
  batch: Omit<CompleteStep, 'claimNext'>[],
): Promise<void> {
  const c = active.claimed;
  const began = performance.now();
  let current = from;
  // Work run ahead can outlive this step's runner (when handed over): it gets its own signal,
  // aborted with this step's while this runner lasts, and by its taker's afterwards.
  const controller = new LazyAbortController();
  const unlink = active.controller.link(controller);
  try {
    while (batch.length < RUN_AHEAD_STEPS && performance.now() - began < RUN_AHEAD_MS) {
      const next = await context.soleSuccessor(current, engine.labels);
      if (!next) return;
      const startedAt = engine.clock.now();
      const logs: NewLog[] = [];
      engine.emit({
        type: 'step',
        runId: c.runId,
        step: next.name,
        node: next.name,
        status: 'running',
        attempt: 1,
        at: startedAt,
      });
      if (engine.faults.beforeAttempt) await fault(engine, 'beforeAttempt', c, next.name, 1);
      let outcome: unknown;
      try {
        const known = context.input(next);
        outcome = startAttempt(
          engine,
          c.runId,
          next.name,
          1,
          next,
          isThenable(known) ? await known : known,
          undefined,
          controller,
          logs,
          context.partition,
        );
      } catch (error) {
        outcome = Promise.reject(error);
      }
      let value: unknown;
      if (isThenable(outcome)) {
        const promise = Promise.resolve(outcome);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const settled = await Promise.race([
          promise.then(
            (v) => ({ ok: true as const, v }),
            () => null,
          ),
          new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 1))),
        ]);
        clearTimeout(timer);
        if (settled === null) {
          context.handOver(next.name, { outcome: promise, logs, startedAt, controller });
          return;
        }
        value = settled.v;
      } else {
        value = outcome;
      }
      let encoded: string;
      try {
        encoded = engine.encodeOutput(value, `output of ${next.name}`);
      } catch (error) {
        context.handOver(next.name, {
          outcome: Promise.reject(error),
          logs,
          startedAt,
          controller,
        });
        return;
      }
      if (engine.faults.beforeCommit) await fault(engine, 'beforeCommit', c, next.name, 1);
      batch.push({
        runId: c.runId,
        key: next.name,
        attempt: 1,
        workerId: engine.workerId,
        output: encoded,
        now: engine.clock.now(),
        logs,
        claim: { leaseMs: engine.leaseMs, startedAt },
      });
      context.remember(next.name, value);
      current = next;
    }
  } finally {
    // From here on, the step that takes the work over aborts it.
    unlink();
  }
}

/** Starts one attempt of a node (or a map item) under its timeout; logs go to `logs`. */
function startAttempt(
  engine: Engine,
  runId: string,
  key: string,
  attempt: number,
  node: NodeSpec,
  input: Record<string, unknown>,
  item: unknown,
  signal: Abortable,
  logs: NewLog[],
  partition: Partition | null,
): unknown {
  const sink = (level: LogLevel, message: string) => {
    const at = engine.clock.now();
    logs.push({ runId, stepKey: key, attempt, at, level, message });
    engine.emit({ type: 'log', runId, step: key, level, message, at });
  };
  const ctx = (s: Abortable): TaskContext =>
    new AttemptContext(
      s,
      attempt,
      runId,
      key,
      (level, message, data) => sink(level, formatLogData(message, data)),
      partition,
    );
  return withLogSink(sink, () =>
    runAttempt(
      key,
      (s) => (node.kind === 'map' ? node.item!(item, input, ctx(s)) : node.fn(input, ctx(s))),
      signal,
      node.policy.timeoutMs,
      engine.clock,
    ),
  );
}

async function fail(
  engine: Engine,
  active: ActiveStep,
  error: unknown,
  node: NodeSpec | null,
  slot?: string,
): Promise<TransitionResult> {
  const c = active.claimed;
  // A stopping worker hands the step back (stop() requeues it): nothing to record.
  if (engine.handingBack(active)) return HANDED_BACK;
  const cancelled = active.controller.aborted;
  const serialized = serializeError(error);
  const policy = node?.policy;
  const retry =
    !cancelled &&
    policy !== undefined &&
    c.attempt < policy.maxAttempts &&
    isRetryable(error) &&
    !(error instanceof CodecError);
  const now = engine.clock.now();
  const retryAt = retry ? now + retryDelay(policy, c.attempt + 1) : null;
  const result = await engine.store.failStep({
    runId: c.runId,
    key: c.key,
    attempt: c.attempt,
    workerId: engine.workerId,
    error: serialized,
    now,
    retryAt,
    failFast: failFastOf(engine, c.definition),
    logs: active.logs.splice(0),
    ...(slot !== undefined ? { slot } : {}),
  });
  if (result.applied) {
    engine.emit({
      type: 'step',
      runId: c.runId,
      step: c.key,
      node: c.node,
      status:
        retryAt !== null
          ? 'queued'
          : cancelled && error instanceof CancelledError
            ? 'cancelled'
            : 'failed',
      attempt: c.attempt,
      at: now,
      error: serialized,
      ...(retryAt !== null ? { retryAt } : {}),
    });
  }
  return result;
}

/**
 * How long a step deferred for a full concurrency slot waits at most before it looks again: a
 * step that frees the slot wakes one deferred step at once, but a holder that dies frees it
 * without waking anyone.
 */
const SLOT_RETRY_MS = 1000;

/** The step's slot is full on every worker: hand it back to the queue, as if never claimed. */
async function defer(engine: Engine, active: ActiveStep, slot: string): Promise<null> {
  const c = active.claimed;
  const now = engine.clock.now();
  const { applied } = await engine.store.deferStep({
    runId: c.runId,
    key: c.key,
    attempt: c.attempt,
    workerId: engine.workerId,
    slot,
    now,
    retryAt: now + SLOT_RETRY_MS,
  });
  if (applied) {
    engine.emit({
      type: 'step',
      runId: c.runId,
      step: c.key,
      node: c.node,
      status: 'queued',
      attempt: c.attempt - 1,
      at: now,
    });
  }
  return null;
}

const HANDED_BACK: TransitionResult = {
  applied: false,
  runStatus: 'running',
  claimed: [],
  queuedMore: false,
};

function failFastOf(engine: Engine, definition: string): boolean {
  if (!engine.registry.has(definition)) return false;
  const d = engine.registry.get(definition);
  return d.kind === 'pipeline' && d.spec.failFast;
}
