/**
 * Runs one claimed pipeline step: builds its input, runs the attempt under the node's policy
 * (concurrency slot, timeout, abort), and records the outcome — a result, a retry, a failure,
 * or for a map step its expansion into items.
 */
import { isThenable, runAttempt } from '../core/attempt.js';
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
import type { NodeSpec } from '../sdk/pipeline.js';
import { concurrencySlot } from '../sdk/slots.js';
import type { ClaimedStep, NewLog, TransitionResult } from '../store/contract/types.js';
import type { Engine } from './engine.js';
import type { FaultPoint } from './events.js';
import { withLogSink } from './log-capture.js';
import type { RunContext } from './run-context.js';

/** A step this worker holds. */
export interface ActiveStep {
  claimed: ClaimedStep;
  controller: AbortController;
  /** False once a map step has expanded (its items carry the leases). */
  leased: boolean;
  logs: NewLog[];
  flushLogs: () => Promise<void>;
}

async function fault(engine: Engine, point: FaultPoint, c: ClaimedStep): Promise<void> {
  const hook = engine.faults[point];
  if (hook) await hook({ point, runId: c.runId, step: c.key, attempt: c.attempt });
}

export async function runPipelineStep(
  engine: Engine,
  context: RunContext,
  active: ActiveStep,
): Promise<TransitionResult | null> {
  const c = active.claimed;
  const ref = { runId: c.runId, key: c.key, attempt: c.attempt, workerId: engine.workerId };
  await fault(engine, 'afterClaim', c);
  const node = context.spec.nodes.get(c.node);
  engine.emit({
    type: 'step',
    runId: c.runId,
    step: c.key,
    node: c.node,
    status: 'running',
    attempt: c.attempt,
    at: engine.clock.now(),
  });
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
    const result = await engine.store.expandStep({ ...ref, now: engine.clock.now(), items });
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
    input = await context.input(node);
    item = c.parentKey === null ? undefined : (await context.fanOut(node)).items[c.index!];
  } catch (error) {
    return fail(engine, active, error, node);
  }

  const sink = (level: LogLevel, message: string) => {
    const at = engine.clock.now();
    active.logs.push({ runId: c.runId, stepKey: c.key, attempt: c.attempt, at, level, message });
    engine.emit({ type: 'log', runId: c.runId, step: c.key, level, message, at });
  };
  const ctx = (signal: AbortSignal): TaskContext =>
    new AttemptContext(signal, c.attempt, c.runId, c.key, (level, message, data) =>
      sink(level, formatLogData(message, data)),
    );

  let output: unknown;
  const slot = concurrencySlot(context.spec.name, node, node.kind === 'map' ? item : input);
  let release: (() => void) | null = null;
  try {
    if (slot !== null)
      release = await engine.limiter.acquire(
        slot,
        node.policy.concurrency!,
        active.controller.signal,
      );
    await fault(engine, 'beforeAttempt', c);
    output = await withLogSink(sink, () => {
      const r = runAttempt(
        c.key,
        (signal) =>
          node.kind === 'map' ? node.item!(item, input, ctx(signal)) : node.fn(input, ctx(signal)),
        active.controller.signal,
        node.policy.timeoutMs,
        engine.clock,
      );
      return isThenable(r) ? r : Promise.resolve(r);
    });
  } catch (error) {
    release?.();
    return fail(engine, active, error, node);
  }
  release?.();

  let encoded: string;
  try {
    encoded = engine.encodeOutput(output, `output of ${c.key}`);
  } catch (error) {
    return fail(engine, active, error, node);
  }
  await fault(engine, 'beforeCommit', c);
  const result = await engine.commitCompletion({
    ...ref,
    output: encoded,
    now: engine.clock.now(),
    logs: active.logs.splice(0),
  });
  await fault(engine, 'afterCommit', c);
  if (result.applied) {
    if (c.parentKey === null) context.remember(node.name, output);
    engine.emit({
      type: 'step',
      runId: c.runId,
      step: c.key,
      node: c.node,
      status: 'succeeded',
      attempt: c.attempt,
      at: engine.clock.now(),
    });
  }
  return result;
}

async function fail(
  engine: Engine,
  active: ActiveStep,
  error: unknown,
  node: NodeSpec | null,
): Promise<TransitionResult> {
  const c = active.claimed;
  const cancelled = active.controller.signal.aborted;
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

function failFastOf(engine: Engine, definition: string): boolean {
  if (!engine.registry.has(definition)) return false;
  const d = engine.registry.get(definition);
  return d.kind === 'pipeline' && d.spec.failFast;
}
