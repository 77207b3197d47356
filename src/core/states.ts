/**
 * The state machines of runs and steps. Each has one transition table and one function that
 * checks a move against it; both store backends guard their updates with the same tables.
 *
 * ```text
 * run:  queued → running ⇄ waiting → succeeded | failed | cancelled
 *       (queued may also go straight to cancelled; running/waiting → queued when resumed)
 * step: pending → queued → running → succeeded | failed | cancelled | skipped
 *       running → queued       a retry after its backoff, or a lease that expired
 *       pending|queued → cached | skipped | cancelled
 * ```
 */
import { InvalidTransitionError } from './errors.js';

export const RUN_STATUSES = [
  'queued',
  'running',
  'waiting',
  'succeeded',
  'failed',
  'cancelled',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const STEP_STATUSES = [
  'pending',
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'skipped',
  'cached',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

const RUN_MOVES: Record<RunStatus, readonly RunStatus[]> = {
  queued: ['running', 'cancelled', 'succeeded', 'failed'],
  running: ['waiting', 'succeeded', 'failed', 'cancelled', 'queued'],
  waiting: ['running', 'cancelled', 'failed', 'queued'],
  succeeded: [],
  failed: ['queued'], // retried from its failed steps
  cancelled: [],
};

const STEP_MOVES: Record<StepStatus, readonly StepStatus[]> = {
  pending: ['queued', 'skipped', 'cancelled', 'cached'],
  queued: ['running', 'skipped', 'cancelled', 'cached'],
  running: ['succeeded', 'failed', 'cancelled', 'queued'],
  succeeded: [],
  failed: ['queued'], // retried from failure
  cancelled: [],
  skipped: ['pending', 'queued'], // downstream of a retried failure
  cached: [],
};

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];
export const TERMINAL_STEP_STATUSES: readonly StepStatus[] = [
  'succeeded',
  'failed',
  'cancelled',
  'skipped',
  'cached',
];

export function isTerminalRun(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.includes(status);
}
export function isTerminalStep(status: StepStatus): boolean {
  return TERMINAL_STEP_STATUSES.includes(status);
}

/** Checks a run move; returns the new status or throws {@link InvalidTransitionError}. */
export function transitionRun(from: RunStatus, to: RunStatus): RunStatus {
  if (!RUN_MOVES[from].includes(to)) throw new InvalidTransitionError('run', from, to);
  return to;
}

/** Checks a step move; returns the new status or throws {@link InvalidTransitionError}. */
export function transitionStep(from: StepStatus, to: StepStatus): StepStatus {
  if (!STEP_MOVES[from].includes(to)) throw new InvalidTransitionError('step', from, to);
  return to;
}

/** The statuses a step may move to `to` from: what a store's `WHERE status IN (…)` guards. */
export function stepSourcesOf(to: StepStatus): StepStatus[] {
  return STEP_STATUSES.filter((s) => STEP_MOVES[s].includes(to));
}

/** The statuses a run may move to `to` from. */
export function runSourcesOf(to: RunStatus): RunStatus[] {
  return RUN_STATUSES.filter((s) => RUN_MOVES[s].includes(to));
}
