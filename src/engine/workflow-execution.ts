/**
 * The context a workflow function runs with: its steps are journaled. A warm run goes on in
 * memory; the journal is read once, when the run (re)starts after a park or a crash, and
 * completed entries are replayed from memory.
 *
 * Parking (a durable sleep, an event wait, a child run, a long retry backoff) unwinds the
 * workflow function with an internal {@link Park} signal, waits for steps still in flight to
 * record their results, and hands the run back to the store with the time to wake it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { isThenable, runAttempt } from '../core/attempt.js';
import { decode, encode } from '../core/codec.js';
import { parseDuration } from '../core/duration.js';
import {
  isRetryable,
  NonDeterminismError,
  serializeError,
  StepFailure,
  WeftError,
  type SerializedError,
} from '../core/errors.js';
import type { LogLevel } from '../core/log.js';
import { resolvePolicy, retryDelay, type Policy } from '../core/policy.js';
import { AttemptContext, formatLogData, makeLogger, type Logger } from '../sdk/context.js';
import { validateInput } from '../sdk/params.js';
import { setTaskCallHook, type AnyTask } from '../sdk/task.js';
import type {
  ChildTarget,
  JournalMode,
  StepOptions,
  WaitForEventOptions,
  WorkflowContext,
  WorkflowEvent,
} from '../sdk/workflow.js';
import {
  WORKFLOW_STEP_KEY,
  type JournalEntry,
  type RecordEntry,
  type StepRecord,
  type WaitInfo,
} from '../store/contract/types.js';
import type { Engine } from './engine.js';
import { withLogSink } from './log-capture.js';
import type { ActiveStep } from './step-runner.js';

/** Unwinds the workflow function when the run parks. Never seen by user code that rethrows. */
export class Park extends Error {
  constructor() {
    super('the workflow run is parking');
    this.name = 'WeftPark';
  }
}

/** Retry backoffs up to this long are waited out in memory; longer ones park the run. */
const INLINE_RETRY_MS = 5000;

interface Scope {
  execution: WorkflowExecution;
  /** Inside a step's function: task calls there are plain calls, not nested steps. */
  inStep: boolean;
}
const scope = new AsyncLocalStorage<Scope>();

/** Runs the workflow function with `execution` as the workflow that task calls belong to. */
export function runInWorkflowScope<T>(execution: WorkflowExecution, fn: () => T): T {
  return scope.run({ execution, inStep: false }, fn);
}

setTaskCallHook((task: AnyTask, input: unknown) => {
  const s = scope.getStore();
  if (!s || s.inStep) return undefined;
  return s.execution.runStep(task.taskName, (ctx) => task.fn(input as never, ctx), task.policy);
});

type Entry = StepRecord;

export class WorkflowExecution implements WorkflowContext {
  readonly runId: string;
  readonly attempt: number;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly #engine: Engine;
  readonly #active: ActiveStep;
  readonly #journal = new Map<number, Entry>();
  readonly #delivered = new Set<string>();
  readonly #keyCounts = new Map<string, number>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #batched: boolean;
  /** Entries not yet written, in order, with what to do once they commit. */
  #pending: { input: RecordEntry; committed: () => Promise<void> }[] = [];
  /** The write in progress (at most one: a run's entries commit in order). */
  #writing: Promise<void> | null = null;
  /** A write is due at the next turn of the event loop. */
  #scheduled = false;
  /** No more writes: what is pending goes with the run's completion. */
  #holding = false;
  /** Why a batched write failed; the run ends with it. */
  journalError: unknown = null;
  #seq = 0;
  #lost = false;
  /** Set once the run must park: when to wake, and what it waits for. */
  park: { wakeAt: number | null; waitingFor: WaitInfo } | null = null;

  constructor(
    engine: Engine,
    active: ActiveStep,
    runId: string,
    journal: StepRecord[],
    attempt: number,
    mode: JournalMode,
  ) {
    this.#batched = mode === 'batched';
    this.#engine = engine;
    this.#active = active;
    this.runId = runId;
    this.attempt = attempt;
    this.signal = active.controller.signal;
    for (const e of journal) {
      if (e.seq === null) continue;
      this.#journal.set(e.seq, e);
      // Delivered events, whether the wait accepted them or its schema rejected them.
      if (e.kind === 'event' && (e.status === 'succeeded' || e.status === 'failed') && e.output) {
        const delivered = decode<{ id?: string } | null>(e.output);
        if (delivered?.id) this.#delivered.add(delivered.id);
      }
    }
    this.log = makeLogger((level, message, data) =>
      this.sink(WORKFLOW_STEP_KEY, this.attempt)(level, formatLogData(message, data)),
    );
  }

  /** A log sink writing lines of `stepKey` into the run's `$run` step buffer. */
  sink(stepKey: string, attempt: number) {
    return (level: LogLevel, message: string) => {
      const at = this.#engine.clock.now();
      this.#active.logs.push({ runId: this.runId, stepKey, attempt, at, level, message });
      this.#engine.emit({ type: 'log', runId: this.runId, step: stepKey, level, message, at });
    };
  }

  /** Ids of the events this run has received (each is delivered at most once per run). */
  get delivered(): string[] {
    return [...this.#delivered];
  }

  /** Waits for steps still running: they record their results (or park the run). */
  async settleSteps(): Promise<void> {
    while (this.#inFlight.size) await Promise.allSettled([...this.#inFlight]);
  }

  /** Waits until every result recorded so far has committed (before a park or a failure). */
  async flush(): Promise<void> {
    this.#write();
    while (this.#writing) await this.#writing;
  }

  /**
   * For a run about to complete: stops writing, waits for the write in progress, and hands
   * over the entries not yet written — they commit with the completion — and what to do once
   * they have.
   */
  async takeJournal(): Promise<{ entries: RecordEntry[]; committed: () => Promise<void> }> {
    this.#holding = true;
    while (this.#writing) await this.#writing;
    const batch = this.#pending.splice(0);
    return {
      entries: batch.map((b) => b.input),
      committed: async () => {
        for (const b of batch) await b.committed();
      },
    };
  }

  // --- journal bookkeeping -------------------------------------------------------------------

  #next(
    name: string,
    kind: JournalEntry['kind'],
  ): { seq: number; key: string; entry: Entry | undefined } {
    if (this.park || this.#lost) throw new Park();
    if (this.journalError) throw this.journalError;
    if (this.signal.aborted) throw this.signal.reason;
    if (typeof name !== 'string' || name.length === 0) {
      throw new WeftError('invalid_step', `every workflow step needs a name (a non-empty string)`);
    }
    const seq = this.#seq++;
    const n = (this.#keyCounts.get(name) ?? 0) + 1;
    this.#keyCounts.set(name, n);
    const key = n === 1 ? name : `${name}#${n}`;
    const entry = this.#journal.get(seq);
    if (entry && (entry.node !== name || entry.kind !== kind)) {
      throw new NonDeterminismError(
        this.runId,
        seq,
        `${entry.kind} "${entry.node}"`,
        `${kind} "${name}"`,
      );
    }
    return { seq, key, entry };
  }

  /**
   * Records an entry and waits until it has committed (with every entry before it). A step's
   * success in a batched journal is only queued: the workflow goes on, and it commits with the
   * next write (or the run's completion). `committed` runs once it has.
   */
  async #record(
    entry: JournalEntry,
    attemptRow?: {
      attempt: number;
      status: 'succeeded' | 'failed';
      startedAt: number;
      error: SerializedError | null;
    },
    retryAt?: number,
    committed?: () => void | Promise<void>,
  ): Promise<void> {
    const engine = this.#engine;
    const input: RecordEntry = {
      runId: this.runId,
      workerId: engine.workerId,
      runAttempt: this.#active.claimed.attempt,
      entry,
      now: engine.clock.now(),
      ...(attemptRow ? { attemptRow } : {}),
      logs: this.#active.logs.splice(0),
    };
    this.#pending.push({
      input,
      committed: async () => {
        engine.emit({
          type: 'step',
          runId: this.runId,
          step: entry.key,
          node: entry.name,
          status: entry.status,
          attempt: entry.attempt,
          at: engine.clock.now(),
          kind: entry.kind,
          ...(entry.error ? { error: entry.error } : {}),
          ...(retryAt !== undefined ? { retryAt } : {}),
        });
        if (committed) await committed();
      },
    });
    if (this.#batched && entry.status === 'succeeded' && entry.kind === 'step') {
      // Written at the next turn of the event loop: steps that follow at once (no I/O of
      // their own) go in the same write, or with the run's completion.
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#write();
        });
      }
      return;
    }
    await this.flush();
    // The run was cancelled or its lease lost: stop here, record nothing more.
    if (this.#lost) throw new Park();
    if (this.journalError) throw this.journalError;
  }

  /** Starts writing what is pending, unless a write is in progress (it starts the next). */
  #write(): void {
    if (this.#writing || this.#holding || this.#pending.length === 0) return;
    const batch = this.#pending.splice(0);
    this.#writing = this.#commit(batch).finally(() => {
      this.#writing = null;
      this.#write();
    });
  }

  async #commit(batch: { input: RecordEntry; committed: () => Promise<void> }[]): Promise<void> {
    if (this.#lost || this.journalError) return;
    try {
      const { applied } = await this.#engine.recordJournal(batch.map((b) => b.input));
      if (!applied) {
        this.#lost = true;
        return;
      }
      for (const b of batch) await b.committed();
    } catch (error) {
      // Nothing awaits a write behind: the error ends the run where it would next be seen.
      this.journalError = error;
    }
  }

  #requestPark(wakeAt: number | null, waitingFor: WaitInfo): never {
    if (!this.park) this.park = { wakeAt, waitingFor };
    else if (wakeAt !== null && (this.park.wakeAt === null || wakeAt < this.park.wakeAt)) {
      this.park.wakeAt = wakeAt;
    }
    throw new Park();
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inFlight.add(promise);
    void promise.then(
      () => this.#inFlight.delete(promise),
      () => this.#inFlight.delete(promise),
    );
    return promise;
  }

  // --- the context API -------------------------------------------------------------------------

  step<T>(
    name: string,
    fn: (ctx: AttemptContext) => T | Promise<T>,
    options?: StepOptions,
  ): Promise<T> {
    let policy: Policy;
    try {
      policy = resolvePolicy(`step ${name}`, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.runStep(name, fn, policy);
  }

  runStep<T>(
    name: string,
    fn: (ctx: AttemptContext) => T | Promise<T>,
    policy: Policy,
  ): Promise<T> {
    let slot: { seq: number; key: string; entry: Entry | undefined };
    try {
      slot = this.#next(name, 'step');
    } catch (error) {
      return Promise.reject(error);
    }
    const { entry } = slot;
    if (entry?.status === 'succeeded') return Promise.resolve(decode<T>(entry.output!));
    if (entry?.status === 'failed') return Promise.reject(new StepFailure(entry.error!));
    return this.#track(this.#execute(slot.seq, slot.key, name, fn, policy, entry?.attempt ?? 0));
  }

  async #execute<T>(
    seq: number,
    key: string,
    name: string,
    fn: (ctx: AttemptContext) => T | Promise<T>,
    policy: Policy,
    previousAttempts: number,
  ): Promise<T> {
    const engine = this.#engine;
    for (let attempt = previousAttempts + 1; ; attempt++) {
      const startedAt = engine.clock.now();
      engine.emit({
        type: 'step',
        runId: this.runId,
        step: key,
        node: name,
        status: 'running',
        attempt,
        at: startedAt,
        kind: 'step',
      });
      const sink = this.sink(key, attempt);
      let value: T;
      try {
        const before = engine.faults.beforeAttempt;
        if (before) await before({ point: 'beforeAttempt', runId: this.runId, step: key, attempt });
        value = await scope.run({ execution: this, inStep: true }, () =>
          withLogSink(sink, () => {
            const r = runAttempt(
              key,
              (signal) =>
                fn(
                  new AttemptContext(signal, attempt, this.runId, key, (l, m, d) =>
                    sink(l, formatLogData(m, d)),
                  ),
                ),
              this.signal,
              policy.timeoutMs,
              engine.clock,
            );
            return isThenable(r) ? r : Promise.resolve(r);
          }),
        );
      } catch (error) {
        if (this.signal.aborted || this.#lost) throw error;
        const serialized = serializeError(error);
        const retry = attempt < policy.maxAttempts && isRetryable(error);
        const now = engine.clock.now();
        const base = {
          key,
          name,
          kind: 'step' as const,
          seq,
          attempt,
          startedAt,
          error: serialized,
          output: null,
        };
        if (!retry) {
          await this.#record(
            { ...base, status: 'failed', finishedAt: now },
            { attempt, status: 'failed', startedAt, error: serialized },
          );
          throw error;
        }
        const delay = retryDelay(policy, attempt + 1);
        await this.#record(
          { ...base, status: 'queued', finishedAt: null },
          { attempt, status: 'failed', startedAt, error: serialized },
          now + delay,
        );
        if (delay > INLINE_RETRY_MS)
          this.#requestPark(now + delay, { kind: 'retry', entry: key, until: now + delay });
        await engine.clock.sleep(delay, this.signal);
        continue;
      }
      const output = engine.encodeOutput(value, `result of step ${key}`);
      const hook = engine.faults.beforeCommit;
      if (hook) await hook({ point: 'beforeCommit', runId: this.runId, step: key, attempt });
      const after = engine.faults.afterCommit;
      await this.#record(
        {
          key,
          name,
          kind: 'step',
          seq,
          status: 'succeeded',
          output,
          error: null,
          attempt,
          startedAt,
          finishedAt: engine.clock.now(),
        },
        { attempt, status: 'succeeded', startedAt, error: null },
        undefined,
        after
          ? () => after({ point: 'afterCommit', runId: this.runId, step: key, attempt })
          : undefined,
      );
      return value;
    }
  }

  sleep(name: string, duration: Parameters<WorkflowContext['sleep']>[1]): Promise<void> {
    let ms: number;
    try {
      ms = parseDuration(duration, `ctx.sleep('${name}')`);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#sleep(name, (now) => now + ms);
  }

  sleepUntil(name: string, until: Date | number): Promise<void> {
    const at = typeof until === 'number' ? until : until.getTime();
    if (!Number.isFinite(at)) {
      return Promise.reject(
        new WeftError('invalid_date', `ctx.sleepUntil('${name}'): not a valid date`),
      );
    }
    return this.#sleep(name, () => at);
  }

  async #sleep(name: string, untilFrom: (now: number) => number): Promise<void> {
    const { seq, key, entry } = this.#next(name, 'sleep');
    if (entry?.status === 'succeeded') return;
    const now = this.#engine.clock.now();
    // The wake time is fixed when the sleep is first reached, and replayed from the journal.
    const until = entry?.output ? decode<{ until: number }>(entry.output).until : untilFrom(now);
    const base = {
      key,
      name,
      kind: 'sleep' as const,
      seq,
      error: null,
      attempt: 1,
      startedAt: entry?.startedAt ?? now,
    };
    if (now >= until) {
      await this.#record({
        ...base,
        status: 'succeeded',
        output: encode({ until }),
        finishedAt: now,
      });
      return;
    }
    if (!entry)
      await this.#record({
        ...base,
        status: 'running',
        output: encode({ until }),
        finishedAt: null,
      });
    this.#requestPark(until, { kind: 'sleep', entry: key, until });
  }

  async waitForEvent<T = unknown>(
    name: string,
    options: WaitForEventOptions<T>,
  ): Promise<WorkflowEvent<T> | null> {
    const { seq, key, entry } = this.#next(name, 'event');
    if (entry?.status === 'succeeded') return revive<T>(entry.output);
    if (entry?.status === 'failed') throw new StepFailure(entry.error!);
    if (typeof options?.event !== 'string' || !options.event) {
      throw new WeftError(
        'invalid_wait',
        `ctx.waitForEvent('${name}'): options.event (the event type) is required`,
      );
    }
    const now = this.#engine.clock.now();
    const spec = entry?.output
      ? decode<{
          event: string;
          key: string | null;
          match: Record<string, unknown> | null;
          since: number;
          until: number;
        }>(entry.output)
      : {
          event: options.event,
          key: options.key ?? null,
          match: options.match ?? null,
          since: now,
          until: now + parseDuration(options.timeout, `ctx.waitForEvent('${name}'): timeout`),
        };
    const base = {
      key,
      name,
      kind: 'event' as const,
      seq,
      error: null,
      attempt: 1,
      startedAt: entry?.startedAt ?? now,
    };
    if (!entry)
      await this.#record({ ...base, status: 'running', output: encode(spec), finishedAt: null });
    const found = await this.#engine.store.findEvent({
      type: spec.event,
      key: spec.key,
      match: spec.match,
      since: spec.since,
      exclude: [...this.#delivered],
    });
    if (found) {
      const payload = decode<unknown>(found.payload);
      const event = {
        id: found.id,
        type: found.type,
        key: found.key,
        payload,
        sentAt: found.sentAt,
      };
      this.#delivered.add(found.id);
      if (options.schema) {
        try {
          event.payload = validateInput(
            `event ${found.type} (${found.id}) for wait '${name}'`,
            options.schema,
            payload,
          );
        } catch (error) {
          // The event was delivered and rejected: recorded as such, so it is never delivered again.
          await this.#record({
            ...base,
            status: 'failed',
            output: encode(event),
            error: serializeError(error),
            finishedAt: now,
          });
          throw error;
        }
      }
      await this.#record({ ...base, status: 'succeeded', output: encode(event), finishedAt: now });
      return revive<T>(encode(event));
    }
    if (now >= spec.until) {
      await this.#record({ ...base, status: 'succeeded', output: encode(null), finishedAt: now });
      return null;
    }
    this.#requestPark(spec.until, {
      kind: 'event',
      entry: key,
      event: spec.event,
      key: spec.key,
      match: spec.match,
      since: spec.since,
      until: spec.until,
    });
  }

  async run<T extends ChildTarget>(
    target: T,
    input: never,
    options?: { name?: string },
  ): Promise<never> {
    if (!target || (target.kind !== 'workflow' && target.kind !== 'pipeline')) {
      throw new WeftError(
        'invalid_child',
        'ctx.run(target, input): target must be a workflow or a pipeline',
      );
    }
    const { seq, key, entry } = this.#next(options?.name ?? `run:${target.name}`, 'child');
    if (entry?.status === 'succeeded') return decode<never>(entry.output!);
    if (entry?.status === 'failed') throw new StepFailure(entry.error!);
    const engine = this.#engine;
    const now = engine.clock.now();
    const base = {
      key,
      name: entry?.node ?? options?.name ?? `run:${target.name}`,
      kind: 'child' as const,
      seq,
      attempt: 1,
      startedAt: entry?.startedAt ?? now,
    };
    let childRunId: string;
    if (entry?.output) childRunId = decode<{ childRunId: string }>(entry.output).childRunId;
    else {
      // The idempotency key makes a replay after a crash find the child it already started.
      const child = await engine.submit(target, {
        params: input,
        parentRunId: this.runId,
        idempotencyKey: `${this.runId}/${key}`,
        trigger: `parent:${this.runId}`,
      });
      childRunId = child.id;
      await this.#record({
        ...base,
        status: 'running',
        output: encode({ childRunId }),
        error: null,
        finishedAt: null,
      });
    }
    const child = await engine.store.getRun(childRunId);
    if (child?.status === 'succeeded') {
      const result = await engine.result(childRunId);
      await this.#record({
        ...base,
        status: 'succeeded',
        output: engine.encodeOutput(result, `result of child run ${childRunId}`),
        error: null,
        finishedAt: engine.clock.now(),
      });
      return result as never;
    }
    if (child?.status === 'failed' || child?.status === 'cancelled') {
      const error: SerializedError = {
        name: 'ChildRunFailed',
        code: child.status === 'failed' ? 'child_failed' : 'child_cancelled',
        message: `child run ${childRunId} (${child.definition}) ${child.status}${child.error ? `: ${child.error.message}` : ''}`,
        retryable: false,
        ...(child.error ? { cause: child.error } : {}),
      };
      await this.#record({
        ...base,
        status: 'failed',
        output: encode({ childRunId }),
        error,
        finishedAt: engine.clock.now(),
      });
      throw new StepFailure(error);
    }
    this.#requestPark(null, { kind: 'child', entry: key, childRunId });
  }
}

function revive<T>(encoded: string | null): WorkflowEvent<T> | null {
  if (encoded === null) return null;
  const e = decode<{
    id: string;
    type: string;
    key: string | null;
    payload: T;
    sentAt: number;
  } | null>(encoded);
  return e ? { ...e, sentAt: new Date(e.sentAt) } : null;
}
