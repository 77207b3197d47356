/**
 * Backfills, newest first: what each runs over, its status and progress. Read again every 2 s
 * while one is unfinished (their runs move on the cluster's maintenance passes), else every 10 s.
 */
import { useEffect } from 'react';
import type { BackfillStatus, BackfillView } from '../../../src/client/index.js';
import { useApi } from '../api/use-api.js';
import {
  BackfillProgress,
  BackfillStatusBadge,
  isUnfinished,
  rangeText,
} from '../components/BackfillParts.js';
import { Button } from '../components/Button.js';
import { shortId } from '../components/format.js';
import { PageHeader } from '../components/PageHeader.js';
import { EmptyState } from '../components/States.js';
import { Table, tableState, type Column } from '../components/Table.js';
import { RelativeTime } from '../components/Time.js';
import { Link, navigate, useSearchParam } from '../router.js';

export const LIVE_MS = 2000;
const IDLE_MS = 10_000;

const STATUSES: readonly BackfillStatus[] = [
  'running',
  'paused',
  'succeeded',
  'failed',
  'cancelled',
];

export const backfillHref = (id: string) => `/backfills/${encodeURIComponent(id)}`;

const columns: Column<BackfillView>[] = [
  {
    key: 'status',
    header: 'Status',
    width: 130,
    render: (b) => <BackfillStatusBadge status={b.status} />,
  },
  {
    key: 'id',
    header: 'Backfill',
    width: 150,
    render: (b) => (
      <Link
        to={backfillHref(b.id)}
        className="mono small strong-link"
        title={b.id}
        onClick={(e) => e.stopPropagation()}
      >
        {shortId(b.id)}
      </Link>
    ),
  },
  {
    key: 'target',
    header: 'Pipeline',
    render: (b) => (
      <Link
        to={`/catalog/${encodeURIComponent(b.target)}`}
        className="strong-link"
        onClick={(e) => e.stopPropagation()}
      >
        {b.target}
      </Link>
    ),
  },
  {
    key: 'range',
    header: 'Partitions',
    width: 270,
    className: 'nowrap',
    render: (b) => (
      <span>
        <span className="mono small">{rangeText(b.partitions)}</span>
        <br />
        <span className="muted small">
          {b.total.toLocaleString()} partition{b.total === 1 ? '' : 's'} · {b.maxConcurrent} at once
        </span>
      </span>
    ),
  },
  {
    key: 'progress',
    header: 'Progress',
    width: 220,
    render: (b) => <BackfillProgress backfill={b} testId={`backfill-progress-${b.id}`} />,
  },
  {
    key: 'created',
    header: 'Created',
    width: 130,
    className: 'nowrap',
    render: (b) => <RelativeTime at={b.createdAt} />,
  },
];

function isStatus(value: string): value is BackfillStatus {
  return (STATUSES as readonly string[]).includes(value);
}

export function BackfillsPage() {
  const [status, setStatus] = useSearchParam('status');
  const [target, setTarget] = useSearchParam('target');
  const { state, reload } = useApi(
    (client) =>
      client.backfills({
        limit: 100,
        ...(isStatus(status) ? { status } : {}),
        ...(target ? { target } : {}),
      }),
    [status, target],
  );
  const live = state.status === 'ready' && state.data.backfills.some((b) => isUnfinished(b.status));
  useEffect(() => {
    const timer = setInterval(reload, live ? LIVE_MS : IDLE_MS);
    return () => clearInterval(timer);
  }, [reload, live]);

  const filtered = Boolean(status || target);
  return (
    <div className="page">
      <PageHeader
        kicker="Backfills"
        title="Backfills"
        subtitle="Runs of a partitioned pipeline over a range of its partitions, a few at a time. Start one from the pipeline's partitions."
      >
        <div className="filters">
          <select
            data-testid="backfills-status-filter"
            aria-label="Status"
            value={status}
            onChange={(e) => setStatus(e.target.value || null)}
          >
            <option value="">All statuses</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          {target && (
            <span className="tag" data-testid="backfills-target-filter">
              pipeline: {target}
            </span>
          )}
          {filtered && (
            <Button
              variant="ghost"
              size="sm"
              onClick={() => {
                setStatus(null);
                setTarget(null);
              }}
            >
              Clear filters
            </Button>
          )}
        </div>
      </PageHeader>
      <div className="panel">
        <Table
          columns={columns}
          rowKey={(b) => b.id}
          rowProps={(b) => ({ 'data-testid': `backfill-row-${b.id}`, 'data-status': b.status })}
          onRowClick={(b) => navigate(backfillHref(b.id))}
          state={tableState(state, (d) => d.backfills, reload)}
          empty={
            <EmptyState title={filtered ? 'No backfills match' : 'No backfills yet'}>
              {filtered
                ? 'Try other filters.'
                : 'Open a partitioned pipeline in the catalog, choose partitions in its grid and press Backfill.'}
            </EmptyState>
          }
        />
      </div>
    </div>
  );
}
