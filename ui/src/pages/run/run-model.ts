/**
 * What the run page derives from a run's steps: each node's status, map progress, the journal
 * of a workflow, and how stream messages change the loaded detail.
 */
import type { RunDetailResponse, RunView, StepView } from '../../../../src/client/index.js';
import { uiStatus, type UiStatus } from '../../components/Badge.js';
import type { MapProgress } from '../../graph/index.js';

/** The step key of a workflow's own execution (its output is the workflow's result). */
export const WORKFLOW_STEP = '$run';

export const JOURNAL_KINDS: ReadonlySet<string> = new Set(['step', 'sleep', 'event', 'child']);

const DONE: ReadonlySet<string> = new Set(['succeeded', 'cached', 'skipped']);

export function isTerminal(status: RunView['status']): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}

/** Status of each top-level step (a pipeline node), by node name. */
export function nodeStatuses(steps: readonly StepView[]): Record<string, UiStatus> {
  const out: Record<string, UiStatus> = {};
  for (const step of steps) if (step.parentKey === null) out[step.node] = uiStatus(step.status);
  return out;
}

/** Items done out of items known, for each map step with items. */
export function mapProgress(steps: readonly StepView[]): Record<string, MapProgress> {
  const byKey = new Map(steps.map((s) => [s.key, s]));
  const out: Record<string, MapProgress> = {};
  for (const step of steps) {
    if (step.parentKey === null) continue;
    const parent = byKey.get(step.parentKey);
    const name = parent?.node ?? step.node;
    const entry = (out[name] ??= { done: 0, total: 0, failed: 0 });
    entry.total++;
    if (DONE.has(step.status)) entry.done++;
    if (step.status === 'failed') entry.failed++;
  }
  return out;
}

/** A workflow's journal: its entries in the order they were recorded. */
export function journal(steps: readonly StepView[]): StepView[] {
  return steps
    .filter((s) => JOURNAL_KINDS.has(s.kind))
    .sort((a, b) => (a.seq ?? Number.MAX_SAFE_INTEGER) - (b.seq ?? Number.MAX_SAFE_INTEGER));
}

export function upsertStep(detail: RunDetailResponse, step: StepView): RunDetailResponse {
  if (step.runId !== detail.run.id) return detail;
  const at = detail.steps.findIndex((s) => s.key === step.key);
  const steps = detail.steps.slice();
  if (at >= 0) steps[at] = step;
  else steps.push(step);
  return { ...detail, steps };
}

export function applyRun(detail: RunDetailResponse, run: RunView): RunDetailResponse {
  if (run.id === detail.run.id) return { ...detail, run };
  const children = detail.children ?? [];
  const at = children.findIndex((c) => c.id === run.id);
  if (at >= 0) {
    const next = children.slice();
    next[at] = run;
    return { ...detail, children: next };
  }
  if (run.parentRunId === detail.run.id) return { ...detail, children: [...children, run] };
  return detail;
}
