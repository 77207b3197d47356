/**
 * Checks the steps of a new run before they are inserted: unique keys, dependencies inside the
 * run, no cycles. A failed check is a bug in whoever planned the run, so it throws at once
 * instead of leaving a run that can never finish.
 */
import { DefinitionError } from '../../core/errors.js';
import type { NewStep } from './types.js';

export interface CheckedStep {
  step: NewStep;
  /** Its dependencies, without duplicates. */
  deps: string[];
  /** Dependencies still to finish: those that are not overrides. */
  waitingOn: number;
}

export function checkNewSteps(definition: string, steps: readonly NewStep[]): CheckedStep[] {
  const byKey = new Map<string, NewStep>();
  for (const step of steps) {
    if (byKey.has(step.key)) {
      throw new DefinitionError(
        'duplicate_step',
        definition,
        [step.key],
        `step ${JSON.stringify(step.key)} appears twice in a run of ${definition}`,
      );
    }
    byKey.set(step.key, step);
  }
  const checked: CheckedStep[] = [];
  for (const step of steps) {
    const deps = [...new Set(step.dependsOn)];
    let waitingOn = 0;
    for (const dep of deps) {
      const target = byKey.get(dep);
      if (!target) {
        throw new DefinitionError(
          'unknown_dependency',
          definition,
          [step.key],
          `step ${JSON.stringify(step.key)} of ${definition} depends on ${JSON.stringify(dep)}, which is not a step of the same run; every dependsOn key must be in the steps list`,
        );
      }
      if (target.override === undefined) waitingOn++;
    }
    checked.push({ step, deps, waitingOn });
  }
  assertAcyclic(definition, checked);
  return checked;
}

/**
 * {@link checkNewSteps} for the runs of a `createRuns`: runs given one steps array (the runs of
 * one `submitMany` share the steps planned for them) are checked once.
 */
export function checkRunsSteps(
  runs: readonly { run: { definition: string }; steps: readonly NewStep[] }[],
): CheckedStep[][] {
  const checked = new Map<readonly NewStep[], CheckedStep[]>();
  return runs.map(({ run, steps }) => {
    let found = checked.get(steps);
    if (!found) {
      found = checkNewSteps(run.definition, steps);
      checked.set(steps, found);
    }
    return found;
  });
}

/** Kahn's algorithm: whatever can't be ordered is on or behind a cycle. */
function assertAcyclic(definition: string, steps: readonly CheckedStep[]): void {
  const remaining = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const { step, deps } of steps) {
    remaining.set(step.key, deps.length);
    for (const dep of deps) {
      const list = dependents.get(dep);
      if (list) list.push(step.key);
      else dependents.set(dep, [step.key]);
    }
  }
  const ready = [...remaining].filter(([, n]) => n === 0).map(([key]) => key);
  let ordered = 0;
  while (ready.length > 0) {
    const key = ready.pop()!;
    ordered++;
    for (const next of dependents.get(key) ?? []) {
      const n = remaining.get(next)! - 1;
      remaining.set(next, n);
      if (n === 0) ready.push(next);
    }
  }
  if (ordered === steps.length) return;
  const stuck = [...remaining].filter(([, n]) => n > 0).map(([key]) => key);
  throw new DefinitionError(
    'dependency_cycle',
    definition,
    stuck,
    `steps of ${definition} depend on each other in a cycle (or wait on one): ${stuck.join(', ')}`,
  );
}
