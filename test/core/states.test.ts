import { describe, expect, it } from 'vitest';
import {
  RUN_STATUSES,
  STEP_STATUSES,
  isTerminalRun,
  isTerminalStep,
  runSourcesOf,
  stepSourcesOf,
  transitionRun,
  transitionStep,
  type RunStatus,
  type StepStatus,
} from '../../src/core/states.js';
import { WeftError } from '../../src/index.js';

const RUN_VALID: [RunStatus, RunStatus][] = [
  ['queued', 'running'],
  ['queued', 'cancelled'],
  ['running', 'waiting'],
  ['waiting', 'running'],
  ['running', 'succeeded'],
  ['running', 'failed'],
  ['running', 'cancelled'],
  ['waiting', 'cancelled'],
  ['running', 'queued'],
  ['failed', 'queued'],
];
const RUN_INVALID: [RunStatus, RunStatus][] = [
  ['succeeded', 'running'],
  ['succeeded', 'failed'],
  ['cancelled', 'running'],
  ['cancelled', 'queued'],
  ['waiting', 'succeeded'],
  ['running', 'running'],
];

const STEP_VALID: [StepStatus, StepStatus][] = [
  ['pending', 'queued'],
  ['queued', 'running'],
  ['running', 'succeeded'],
  ['running', 'failed'],
  ['running', 'cancelled'],
  ['running', 'queued'],
  ['pending', 'skipped'],
  ['queued', 'cached'],
  ['pending', 'cancelled'],
  ['failed', 'queued'],
];
const STEP_INVALID: [StepStatus, StepStatus][] = [
  ['pending', 'running'],
  ['pending', 'succeeded'],
  ['queued', 'succeeded'],
  ['running', 'skipped'],
  ['running', 'cached'],
  ['succeeded', 'queued'],
  ['cancelled', 'queued'],
  ['cached', 'running'],
  ['failed', 'succeeded'],
];

describe('run state machine', () => {
  it.each(RUN_VALID)('allows %s → %s', (from, to) => {
    expect(transitionRun(from, to)).toBe(to);
  });
  it.each(RUN_INVALID)('refuses %s → %s', (from, to) => {
    expect(() => transitionRun(from, to)).toThrow(`run cannot go from ${from} to ${to}`);
    try {
      transitionRun(from, to);
    } catch (e) {
      expect(e).toBeInstanceOf(WeftError);
      expect((e as WeftError).code).toBe('invalid_transition');
    }
  });
  it('knows the terminal statuses', () => {
    expect(RUN_STATUSES.filter(isTerminalRun)).toEqual(['succeeded', 'failed', 'cancelled']);
  });
  it('lists the sources of a move, for the store guards', () => {
    expect(runSourcesOf('running')).toEqual(['queued', 'waiting']);
    expect(runSourcesOf('cancelled')).toEqual(['queued', 'running', 'waiting']);
  });
});

describe('step state machine', () => {
  it.each(STEP_VALID)('allows %s → %s', (from, to) => {
    expect(transitionStep(from, to)).toBe(to);
  });
  it.each(STEP_INVALID)('refuses %s → %s', (from, to) => {
    expect(() => transitionStep(from, to)).toThrow(`step cannot go from ${from} to ${to}`);
  });
  it('knows the terminal statuses', () => {
    expect(STEP_STATUSES.filter(isTerminalStep)).toEqual([
      'succeeded',
      'failed',
      'cancelled',
      'skipped',
      'cached',
    ]);
  });
  it('lets no terminal step move except a retried failure or skip', () => {
    for (const from of STEP_STATUSES.filter(isTerminalStep)) {
      const moves = STEP_STATUSES.filter((to) => {
        try {
          transitionStep(from, to);
          return true;
        } catch {
          return false;
        }
      });
      if (from === 'failed') expect(moves).toEqual(['queued']);
      else if (from === 'skipped') expect(moves).toEqual(['pending', 'queued']);
      else expect(moves).toEqual([]);
    }
  });
  it('lists the sources of a move', () => {
    expect(stepSourcesOf('running')).toEqual(['queued']);
    expect(stepSourcesOf('queued')).toEqual(['pending', 'running', 'failed', 'skipped']);
  });
});
