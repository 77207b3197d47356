/**
 * The in-process runner: runs a pipeline in this process with no store. It is how users
 * unit-test pipelines and the fastest way to run one; retries, timeouts and concurrency limits
 * apply as they do in the durable engine. Sync node functions run without any promise in
 * between, so a chain of cheap nodes costs about a microsecond per node.
 */
import { systemClock, type Clock } from '../core/clock.js';
import { isThenable, runAttempt } from '../core/attempt.js';
import {
  CancelledError,
  ConfigError,
  isRetryable,
  RunCancelledError,
  RunFailedError,
  serializeError,
  type SerializedError,
} from '../core/errors.js';
import { Limiter } from '../core/limiter.js';
import { retryDelay } from '../core/policy.js';
import type { StepStatus } from '../core/states.js';
import { AttemptContext, formatLogData, type LogLevel } from './context.js';
import { collectFanOut, expandFanOut, inputOf, itemKey } from './fanout.js';
import { validateInput } from './params.js';
import { localPartition } from './partitions.js';
import {
  setLocalRunner,
  upstreamOf,
  type NodeSpec,
  type PipelineSpec,
  type RunOptions,
} from './pipeline.js';
import { planRun } from './plan.js';
import { concurrencySlot } from './slots.js';

export type RunEvent =
  | {
      type: 'step';
      step: string;
      node: string;
      status: StepStatus;
      attempt: number;
      at: number;
      error?: SerializedError;
    }
  | { type: 'log'; step: string; level: LogLevel; message: string; at: number };

interface MapState {
  pending: number;
  results: unknown[];
  shape: number[] | null;
  failed: boolean;
}

interface Unit {
  node: NodeSpec;
  key: string;
  /** For a map item: its index among the node's items, and the item. */
  index: number;
  item: unknown;
  input: Record<string, unknown>;
  attempt: number;
}

/** Runs `spec` in-process. See {@link Pipeline.run}. */
export async function runLocal(
  spec: PipelineSpec,
  rawParams: unknown,
  options: RunOptions<Record<string, unknown>, string>,
): Promise<Record<string, unknown>> {
  const params = validateInput(
    `pipeline ${spec.name}: invalid params`,
    spec.params,
    rawParams,
  ) as Record<string, unknown>;
  const partition = localPartition(spec.partitions, params);
  const overrides = options.overrides ?? {};
  const plan = planRun(spec, options.outputs, Object.keys(overrides));
  const clock: Clock = options.clock ?? systemClock;
  const concurrency = options.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ConfigError(
      'invalid_option',
      `concurrency must be a whole number >= 1, got ${concurrency}`,
    );
  }
  const failFast = options.failFast ?? spec.failFast;
  const onEvent = options.onEvent;
  const runId = 'local';

  const values = new Map<string, unknown>();
  for (const p of spec.paramNames) values.set(p, params[p]);
  for (const o of plan.overridden) values.set(o, overrides[o]);
  const read = (name: string) => values.get(name);

  const inPlan = new Set(plan.nodes);
  const remaining = new Map<string, number>();
  for (const n of plan.nodes) {
    const node = spec.nodes.get(n)!;
    let count = 0;
    for (const i of node.inputs) if (inPlan.has(i.from)) count++;
    if (
      node.over !== null &&
      inPlan.has(node.over) &&
      !node.inputs.some((i) => i.from === node.over)
    ) {
      count++;
    }
    remaining.set(n, count);
  }

  const controller = new AbortController();
  const onAbort = () => controller.abort(new CancelledError('run'));
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const limiter = new Limiter();
  const maps = new Map<string, MapState>();
  const failed: { step: string; error: SerializedError }[] = [];
  const failedNodes = new Set<string>();
  const ready: Unit[] = [];
  let head = 0;
  let running = 0;
  let wake: (() => void) | null = null;

  const emit = (unit: Unit, status: StepStatus, error?: SerializedError) => {
    onEvent?.({
      type: 'step',
      step: unit.key,
      node: unit.node.name,
      status,
      attempt: unit.attempt,
      at: clock.now(),
      ...(error ? { error } : {}),
    });
  };

  const nodeDone = (name: string, value: unknown) => {
    values.set(name, value);
    for (const d of spec.dependents.get(name) ?? []) {
      if (!inPlan.has(d)) continue;
      const left = remaining.get(d)! - 1;
      remaining.set(d, left);
      if (left === 0) schedule(spec.nodes.get(d)!);
    }
  };

  const scheduled = new Set<string>();
  const schedule = (node: NodeSpec) => {
    scheduled.add(node.name);
    const input = inputOf(node, read);
    if (node.kind === 'node') {
      ready.push({ node, key: node.name, index: -1, item: undefined, input, attempt: 1 });
      return;
    }
    let fan;
    try {
      fan = expandFanOut(node, read(node.over!));
    } catch (error) {
      fail({ node, key: node.name, index: -1, item: undefined, input, attempt: 1 }, error);
      return;
    }
    if (fan.items.length === 0) {
      const unit = { node, key: node.name, index: -1, item: undefined, input, attempt: 1 };
      emit(unit, 'succeeded');
      nodeDone(node.name, collectFanOut(fan.shape, []));
      return;
    }
    maps.set(node.name, {
      pending: fan.items.length,
      results: new Array<unknown>(fan.items.length),
      shape: fan.shape,
      failed: false,
    });
    for (let i = 0; i < fan.items.length; i++) {
      ready.push({
        node,
        key: itemKey(node.name, fan.paths[i]!),
        index: i,
        item: fan.items[i],
        input,
        attempt: 1,
      });
    }
  };

  const succeed = (unit: Unit, value: unknown) => {
    emit(unit, 'succeeded');
    if (unit.index < 0) return nodeDone(unit.node.name, value);
    const state = maps.get(unit.node.name)!;
    state.results[unit.index] = value;
    if (--state.pending === 0 && !state.failed)
      nodeDone(unit.node.name, collectFanOut(state.shape, state.results));
  };

  function fail(unit: Unit, error: unknown) {
    const serialized = serializeError(error);
    emit(unit, 'failed', serialized);
    failed.push({ step: unit.key, error: serialized });
    failedNodes.add(unit.node.name);
    if (unit.index >= 0) maps.get(unit.node.name)!.failed = true;
    if (failFast && !controller.signal.aborted)
      controller.abort(new CancelledError('run (fail-fast)'));
  }

  const settle = () => {
    running--;
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  };

  const attemptOnce = (unit: Unit, signal: AbortSignal): unknown => {
    const node = unit.node;
    const ctx = new AttemptContext(
      signal,
      unit.attempt,
      runId,
      unit.key,
      (level, message, data) => {
        const text = formatLogData(message, data);
        if (onEvent)
          onEvent({ type: 'log', step: unit.key, level, message: text, at: clock.now() });
        else console.log(`[${unit.key}] ${text}`);
      },
      partition,
    );
    return node.kind === 'node' ? node.fn(unit.input, ctx) : node.item!(unit.item, unit.input, ctx);
  };

  const afterError = async (unit: Unit, error: unknown): Promise<void> => {
    const policy = unit.node.policy;
    if (controller.signal.aborted || unit.attempt >= policy.maxAttempts || !isRetryable(error)) {
      if (controller.signal.aborted && error instanceof CancelledError) emit(unit, 'cancelled');
      else fail(unit, error);
      return;
    }
    emit(unit, 'queued', serializeError(error));
    try {
      await clock.sleep(retryDelay(policy, unit.attempt + 1), controller.signal);
    } catch {
      emit(unit, 'cancelled');
      return;
    }
    unit.attempt++;
    await execute(unit);
  };

  const execute = async (unit: Unit): Promise<void> => {
    emit(unit, 'running');
    let result: unknown;
    try {
      result = runAttempt(
        unit.key,
        (signal) => attemptOnce(unit, signal),
        controller.signal,
        unit.node.policy.timeoutMs,
        clock,
      );
      if (isThenable(result)) result = await result;
    } catch (error) {
      return afterError(unit, error);
    }
    succeed(unit, result);
  };

  const start = (unit: Unit) => {
    const key = concurrencySlot(
      spec.name,
      unit.node,
      unit.node.kind === 'map' ? unit.item : unit.input,
    );
    // Fast path: no limit, and the function returns synchronously.
    if (key === null && unit.node.policy.timeoutMs === null) {
      emit(unit, 'running');
      let result: unknown;
      try {
        if (controller.signal.aborted) throw controller.signal.reason;
        result = attemptOnce(unit, controller.signal);
      } catch (error) {
        running++;
        void afterError(unit, error).finally(settle);
        return;
      }
      if (!isThenable(result)) return succeed(unit, result);
      running++;
      void (result as Promise<unknown>)
        .then(
          (v) => succeed(unit, v),
          (e: unknown) => afterError(unit, e),
        )
        .finally(settle);
      return;
    }
    running++;
    const run = async () => {
      const release =
        key === null
          ? null
          : await limiter.acquire(key, unit.node.policy.concurrency!, controller.signal);
      try {
        await execute(unit);
      } finally {
        release?.();
      }
    };
    void run()
      .catch(() => emit(unit, 'cancelled'))
      .finally(settle);
  };

  try {
    for (const n of plan.nodes) if (remaining.get(n) === 0) schedule(spec.nodes.get(n)!);
    for (;;) {
      while (head < ready.length && running < concurrency) {
        const unit = ready[head++]!;
        if (controller.signal.aborted) {
          emit(unit, 'cancelled');
          continue;
        }
        start(unit);
      }
      if (head > 1024 && head === ready.length) {
        ready.length = 0;
        head = 0;
      }
      if (running === 0 && head >= ready.length) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }

  // Nodes of the plan that never started: `skipped` when something upstream failed or was
  // skipped, otherwise `cancelled` (fail-fast or the run's signal stopped the run first).
  // Plan order is topological, so an upstream's verdict is known before its dependents'.
  const skipped = new Set<string>();
  for (const n of plan.nodes) {
    if (scheduled.has(n)) continue;
    const node = spec.nodes.get(n)!;
    const blocked = upstreamOf(node).some((u) => failedNodes.has(u) || skipped.has(u));
    if (blocked) skipped.add(n);
    const unit = { node, key: n, index: -1, item: undefined, input: {}, attempt: 0 };
    emit(unit, blocked ? 'skipped' : 'cancelled');
  }

  if (failed.length) throw new RunFailedError(runId, failed);
  if (options.signal?.aborted) throw new RunCancelledError(runId);
  const out: Record<string, unknown> = {};
  for (const o of plan.outputs) out[o] = values.get(o);
  return out;
}

setLocalRunner(runLocal);
