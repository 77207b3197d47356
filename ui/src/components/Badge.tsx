/**
 * Badges and status colours. Every run and step status has one colour (CSS variables
 * `--st-<status>`), the same in tables, graphs and the timeline.
 */
import type { ReactNode } from 'react';
import type { RunStatus, StepStatus } from '../../../src/client/index.js';

/**
 * A status as the UI names it: a step's `pending` shows as `waiting`, the word the run views
 * use for "not ready yet".
 */
export type UiStatus = Exclude<RunStatus | StepStatus, 'pending'>;

export function uiStatus(status: RunStatus | StepStatus): UiStatus {
  return status === 'pending' ? 'waiting' : status;
}

export function isActive(status: UiStatus): boolean {
  return status === 'running' || status === 'queued';
}

export function Badge({
  children,
  tone = 'neutral',
  title,
}: {
  children: ReactNode;
  tone?: 'neutral' | 'accent' | 'warn';
  title?: string;
}) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

export function Tag({ children }: { children: ReactNode }) {
  return <span className="tag">{children}</span>;
}

export function Tags({ values }: { values: readonly string[] }) {
  if (values.length === 0) return <span className="muted">–</span>;
  return (
    <span className="tags">
      {values.map((v) => (
        <Tag key={v}>{v}</Tag>
      ))}
    </span>
  );
}

export function StatusBadge({
  status,
  testId,
  held = false,
  long = false,
}: {
  status: RunStatus | StepStatus;
  testId?: string;
  /**
   * A queued run held back (its definition's max active runs, a schedule's overlap `queue`):
   * "queued (held)", or with `long` the reason too.
   */
  held?: boolean;
  long?: boolean;
}) {
  const shown = uiStatus(status);
  const isHeld = held && shown === 'queued';
  return (
    <span
      className={isHeld ? `status status-${shown} status-held` : `status status-${shown}`}
      data-status={shown}
      data-held={isHeld ? 'true' : undefined}
      data-testid={testId}
      title={
        isHeld
          ? 'held: waiting for a slot (max active runs, or a schedule’s overlap queue)'
          : undefined
      }
    >
      <span className="status-dot" aria-hidden />
      {isHeld ? (long ? 'queued (held: waiting for a slot)' : 'queued (held)') : shown}
    </span>
  );
}

export function AliveBadge({ alive }: { alive: boolean }) {
  return (
    <span className={`status ${alive ? 'status-succeeded' : 'status-cancelled'}`}>
      <span className="status-dot" aria-hidden />
      {alive ? 'alive' : 'gone'}
    </span>
  );
}

const LEGEND: readonly UiStatus[] = [
  'waiting',
  'queued',
  'running',
  'succeeded',
  'failed',
  'cached',
  'skipped',
  'cancelled',
];

/** What the colours of a run's graph and timeline mean: those of the statuses shown. */
export function StatusLegend({ shown }: { shown: Iterable<UiStatus> }) {
  const present = new Set(shown);
  return (
    <span className="legend" aria-label="Status colours">
      {LEGEND.filter((s) => present.has(s)).map((s) => (
        <span key={s} className={`legend-item st-${s}`}>
          <span className="legend-dot" aria-hidden />
          {s}
        </span>
      ))}
    </span>
  );
}
