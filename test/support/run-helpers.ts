/** Helpers shared by the runtime tests: event recording and driving a ManualClock. */
import type { ManualClock, RunEvent } from '../../src/index.js';

export type StepEvent = Extract<RunEvent, { type: 'step' }>;
export type LogEvent = Extract<RunEvent, { type: 'log' }>;

/** Collects run events; `onEvent` goes into the run options. */
export function recorder() {
  const events: RunEvent[] = [];
  const steps = () => events.filter((e): e is StepEvent => e.type === 'step');
  return {
    events,
    onEvent: (e: RunEvent) => void events.push(e),
    steps,
    logs: () => events.filter((e): e is LogEvent => e.type === 'log'),
    /** Statuses of one step key, in order. */
    statuses: (step: string) =>
      steps()
        .filter((e) => e.step === step)
        .map((e) => e.status),
    /** The last status of every step key. */
    final: () => {
      const out: Record<string, string> = {};
      for (const e of steps()) out[e.step] = e.status;
      return out;
    },
    /** How many times a step key started running. */
    attempts: (step: string) =>
      steps().filter((e) => e.step === step && e.status === 'running').length,
  };
}

/**
 * Moves `clock` forward `stepMs` at a time until `promise` settles, and returns its outcome.
 * Fails after `maxMs` of virtual time, so a run that never ends fails the test instead of
 * hanging it.
 */
export async function drive<T>(
  clock: ManualClock,
  promise: Promise<T>,
  { stepMs = 10, maxMs = 600_000 }: { stepMs?: number; maxMs?: number } = {},
): Promise<T> {
  let settled = false;
  const watched = promise.finally(() => {
    settled = true;
  });
  watched.catch(() => undefined);
  for (let elapsed = 0; !settled; elapsed += stepMs) {
    if (elapsed > maxMs) throw new Error(`still running after ${maxMs} ms of virtual time`);
    await clock.advance(stepMs);
  }
  return watched;
}

/** Whether `promise` has settled, after letting pending continuations run. */
export async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
  return settled;
}

/** Counts calls and in-flight calls of async work, to measure concurrency. */
export function gauge() {
  let inFlight = 0;
  let max = 0;
  let calls = 0;
  return {
    async track<T>(work: () => Promise<T>): Promise<T> {
      calls++;
      inFlight++;
      max = Math.max(max, inFlight);
      try {
        return await work();
      } finally {
        inFlight--;
      }
    },
    get max() {
      return max;
    },
    get calls() {
      return calls;
    },
    get inFlight() {
      return inFlight;
    },
  };
}
