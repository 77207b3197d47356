/** A backfill's status and progress, shown in the backfills list and on a backfill's page. */
import type { BackfillStatus, BackfillView, PartitionStatus } from '../../../src/client/index.js';

/** The status colour of a backfill's status: paused reads as waiting. */
const TONE: Record<BackfillStatus, string> = {
  running: 'running',
  paused: 'waiting',
  cancelled: 'cancelled',
  succeeded: 'succeeded',
  failed: 'failed',
};

export function BackfillStatusBadge({
  status,
  testId,
}: {
  status: BackfillStatus;
  testId?: string;
}) {
  return (
    <span className={`status status-${TONE[status]}`} data-status={status} data-testid={testId}>
      <span className="status-dot" aria-hidden />
      {status}
    </span>
  );
}

export function isUnfinished(status: BackfillStatus): boolean {
  return status === 'running' || status === 'paused';
}

/** The segments of the bar, in order; the rest of the total is missing (not launched). */
const SEGMENTS = ['succeeded', 'failed', 'cancelled', 'running', 'queued'] as const;

function count(counts: Partial<Record<PartitionStatus, number>>, status: string): number {
  if (status === 'running') return (counts.running ?? 0) + (counts.waiting ?? 0);
  return counts[status as PartitionStatus] ?? 0;
}

/**
 * A bar of the backfill's partitions by status, and "3 / 10 succeeded". Its `data-*` attributes
 * carry the counts, for the browser tests.
 */
export function BackfillProgress({
  backfill,
  testId,
  wide,
}: {
  backfill: Pick<BackfillView, 'counts' | 'total'>;
  testId?: string;
  wide?: boolean;
}) {
  const { counts, total } = backfill;
  const parts = SEGMENTS.map((s) => ({ status: s, n: count(counts, s) }));
  const done = parts.reduce((sum, p) => sum + p.n, 0);
  const missing = Math.max(0, total - done);
  const succeeded = count(counts, 'succeeded');
  const failed = count(counts, 'failed');
  const data: Record<string, string> = {};
  for (const p of parts) data[`data-${p.status}`] = String(p.n);
  const title = [
    ...parts.filter((p) => p.n > 0).map((p) => `${p.n} ${p.status}`),
    `${missing} not launched`,
  ]
    .filter(Boolean)
    .join(', ');
  return (
    <div
      className={wide ? 'bprogress wide' : 'bprogress'}
      data-testid={testId}
      data-total={total}
      data-missing={missing}
      {...data}
      title={title}
    >
      <div
        className="bprogress-bar"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={succeeded}
      >
        {parts.map((p) =>
          p.n > 0 ? (
            <span
              key={p.status}
              className={`bprogress-seg pc-${p.status}`}
              style={{ width: `${(100 * p.n) / Math.max(1, total)}%` }}
            />
          ) : null,
        )}
      </div>
      <span className="bprogress-text small">
        <strong>{succeeded}</strong> / {total} succeeded
        {failed > 0 && <span className="bprogress-failed"> · {failed} failed</span>}
      </span>
    </div>
  );
}

/** `2026-01-01 → 2026-01-31`, or the only key. */
export function rangeText(partitions: readonly string[]): string {
  if (partitions.length === 0) return '–';
  const first = partitions[0]!;
  const last = partitions[partitions.length - 1]!;
  return first === last ? first : `${first} → ${last}`;
}
