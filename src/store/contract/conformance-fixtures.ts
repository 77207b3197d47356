/**
 * Fixtures shared by the conformance suites: fixed times, run and step builders, and the inputs
 * of a completion or failure of a claimed step. Written against the contract alone.
 */
import type { ClaimedStep, CompleteStep, FailStep, NewRun, NewStep } from './types.js';

/** The suites' clock: every time is T0 plus a few milliseconds. */
export const T0 = Date.UTC(2026, 0, 1);
export const W = 'worker-a';
export const LEASE = 30_000;

let counter = 0;
/** Run ids sort in creation order, like real ones. */
export function nextRunId(): string {
  counter++;
  return `run_${String(counter).padStart(8, '0')}`;
}

export function newRun(overrides: Partial<NewRun> = {}): NewRun {
  return {
    id: nextRunId(),
    kind: 'pipeline',
    definition: 'etl',
    input: '{"day":"2026-01-01"}',
    outputs: [],
    trigger: 'test',
    createdAt: T0,
    ...overrides,
  };
}

export function step(key: string, dependsOn: string[] = [], extra: Partial<NewStep> = {}): NewStep {
  return { key, node: key, dependsOn, ...extra };
}

export function done(c: ClaimedStep, now: number, extra: Partial<CompleteStep> = {}): CompleteStep {
  return {
    runId: c.runId,
    key: c.key,
    attempt: c.attempt,
    workerId: W,
    output: JSON.stringify(c.key),
    now,
    ...extra,
  };
}

export function failed(c: ClaimedStep, now: number, extra: Partial<FailStep> = {}): FailStep {
  return {
    runId: c.runId,
    key: c.key,
    attempt: c.attempt,
    workerId: W,
    error: { name: 'Error', message: `${c.key} broke`, code: 'boom' },
    now,
    retryAt: null,
    failFast: false,
    ...extra,
  };
}
