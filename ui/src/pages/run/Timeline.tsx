/**
 * The run as a Gantt chart: one row per step, one bar per attempt coloured by how it ended,
 * the attempt in progress growing live, on a shared time axis from the run's start.
 */
import { useMemo } from 'react';
import type { AttemptView, RunView, StepView } from '../../../../src/client/index.js';
import { uiStatus, type UiStatus } from '../../components/Badge.js';
import { formatDuration } from '../../components/format.js';
import { EmptyState } from '../../components/States.js';
import { useNow } from '../../components/use-now.js';

/** Items of a map drawn under it; more would make the chart a wall. */
const ITEMS_PER_MAP = 25;

interface Bar {
  start: number;
  end: number;
  status: UiStatus | 'interrupted';
  label: string;
  live: boolean;
}

interface Row {
  step: StepView;
  depth: number;
  bars: Bar[];
}

function niceStep(span: number, ticks: number): number {
  const raw = span / ticks;
  const pow = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const m of [1, 2, 5, 10]) if (raw <= m * pow) return m * pow;
  return 10 * pow;
}

function barsOf(step: StepView, attempts: readonly AttemptView[], now: number): Bar[] {
  const bars: Bar[] = attempts.map((a) => ({
    start: a.startedAt,
    end: a.finishedAt,
    status: a.status === 'interrupted' ? 'interrupted' : a.status,
    label: `attempt ${a.attempt}: ${a.status}, ${formatDuration(a.finishedAt - a.startedAt)}`,
    live: false,
  }));
  const recorded = new Set(attempts.map((a) => a.attempt));
  if (step.startedAt !== null && !recorded.has(step.attempt)) {
    // The current attempt: running now, or finished but not (yet) among the attempts read.
    const live = step.status === 'running';
    const end = live ? Math.max(now, step.startedAt) : (step.finishedAt ?? step.startedAt);
    bars.push({
      start: step.startedAt,
      end,
      status: uiStatus(step.status),
      label: `attempt ${step.attempt}: ${step.status}, ${formatDuration(end - step.startedAt)}`,
      live,
    });
  }
  return bars;
}

/** Journal order for a workflow; else by start, and unstarted steps in the server's order. */
function byStart(steps: readonly StepView[]): StepView[] {
  const position = new Map(steps.map((s, i) => [s.key, i]));
  const at = (s: StepView) => s.startedAt ?? s.queuedAt ?? Number.MAX_SAFE_INTEGER;
  // A workflow's own step comes first, then its journal.
  const rank = (s: StepView) => (s.kind === 'run' ? 0 : s.seq !== null ? 1 : 2);
  return [...steps].sort((a, b) => {
    if (rank(a) !== rank(b)) return rank(a) - rank(b);
    if (a.seq !== null && b.seq !== null) return a.seq - b.seq;
    return at(a) - at(b) || position.get(a.key)! - position.get(b.key)!;
  });
}

export function Timeline({
  run,
  steps,
  attempts,
  selected,
  onSelect,
}: {
  run: RunView;
  steps: readonly StepView[];
  attempts: readonly AttemptView[];
  selected: string | null;
  onSelect: (key: string) => void;
}) {
  const live = run.finishedAt === null;
  // Unfinished runs draw their running attempts up to now; the clock is not read otherwise.
  const now = useNow(500, live) || run.updatedAt;

  const rows = useMemo(() => {
    const byStep = new Map<string, AttemptView[]>();
    for (const a of attempts) {
      const list = byStep.get(a.stepKey) ?? [];
      list.push(a);
      byStep.set(a.stepKey, list);
    }
    const children = new Map<string, StepView[]>();
    for (const s of steps) {
      if (s.parentKey === null) continue;
      const list = children.get(s.parentKey) ?? [];
      list.push(s);
      children.set(s.parentKey, list);
    }
    const out: Row[] = [];
    const top = byStart(steps.filter((s) => s.parentKey === null));
    for (const step of top) {
      out.push({ step, depth: 0, bars: barsOf(step, byStep.get(step.key) ?? [], now) });
      const items = (children.get(step.key) ?? []).sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
      for (const item of items.slice(0, ITEMS_PER_MAP)) {
        out.push({ step: item, depth: 1, bars: barsOf(item, byStep.get(item.key) ?? [], now) });
      }
    }
    return out;
  }, [steps, attempts, now]);

  const times = rows.flatMap((r) => r.bars.flatMap((b) => [b.start, b.end]));
  const start = Math.min(run.startedAt ?? run.createdAt, ...times);
  const end = Math.max(run.finishedAt ?? (live ? now : start), ...times, start + 1);
  const span = end - start;
  const tick = niceStep(span, 6);
  const ticks: number[] = [];
  for (let t = 0; t <= span; t += tick) ticks.push(t);
  const pct = (t: number) => `${((t - start) / span) * 100}%`;

  const hidden =
    steps.filter((s) => s.parentKey !== null).length - rows.filter((r) => r.depth > 0).length;

  return (
    <div className="timeline" data-testid="timeline">
      {rows.every((r) => r.bars.length === 0) ? (
        <EmptyState inline title="Nothing has started yet" />
      ) : (
        <>
          <div className="timeline-axis">
            <div className="timeline-label" />
            <div className="timeline-track">
              {ticks.map((t) => (
                <span key={t} className="timeline-tick" style={{ left: pct(start + t) }}>
                  {formatDuration(t)}
                </span>
              ))}
            </div>
          </div>
          {rows.map(({ step, depth, bars }) => (
            <button
              type="button"
              key={step.key}
              className={selected === step.key ? 'timeline-row selected' : 'timeline-row'}
              data-testid={`timeline-row-${step.key}`}
              onClick={() => onSelect(step.key)}
            >
              <span className={depth ? 'timeline-label nested' : 'timeline-label'} title={step.key}>
                {step.key}
              </span>
              <span className="timeline-track">
                {ticks.map((t) => (
                  <span key={t} className="timeline-grid" style={{ left: pct(start + t) }} />
                ))}
                {bars.map((bar, i) => (
                  <span
                    key={i}
                    className={`timeline-bar st-${bar.status}${bar.live ? ' live' : ''}`}
                    style={{
                      left: pct(bar.start),
                      width: `max(3px, ${((bar.end - bar.start) / span) * 100}%)`,
                    }}
                    title={bar.label}
                  />
                ))}
              </span>
            </button>
          ))}
          {hidden > 0 && (
            <div className="muted small timeline-more">{hidden} more items not drawn</div>
          )}
        </>
      )}
    </div>
  );
}
