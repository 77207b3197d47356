/** The columns of a runs list, shared by the runs page and a definition's recent runs. */
import type { RunView } from '../../../src/client/index.js';
import { StatusBadge, Tags } from '../components/Badge.js';
import { shortId } from '../components/format.js';
import { Table, type Column, type TableState } from '../components/Table.js';
import { Duration, RelativeTime } from '../components/Time.js';
import { Link, navigate } from '../router.js';
import type { ReactNode } from 'react';

export const runHref = (id: string) => `/runs/${encodeURIComponent(id)}`;

const columns: Column<RunView>[] = [
  {
    key: 'status',
    header: 'Status',
    width: 136,
    render: (r) => <StatusBadge status={r.status} held={r.held} />,
  },
  {
    key: 'id',
    header: 'Run',
    width: 170,
    render: (r) => (
      <Link
        to={runHref(r.id)}
        className="mono small strong-link"
        title={r.id}
        onClick={(e) => e.stopPropagation()}
      >
        {shortId(r.id)}
      </Link>
    ),
  },
  {
    key: 'definition',
    header: 'Definition',
    render: (r) => (
      <span>
        {r.definition}
        {r.partition !== null && r.partition !== undefined && (
          <>
            {' '}
            <span className="tag mono" title="partition" data-testid="run-partition">
              {r.partition}
            </span>
          </>
        )}
        {r.parentRunId && <span className="muted small"> · child</span>}
      </span>
    ),
  },
  {
    key: 'trigger',
    header: 'Trigger',
    width: 100,
    render: (r) => <span className="muted">{r.trigger}</span>,
  },
  {
    key: 'created',
    header: 'Created',
    width: 150,
    className: 'nowrap',
    render: (r) => <RelativeTime at={r.createdAt} />,
  },
  {
    key: 'duration',
    header: 'Duration',
    width: 100,
    className: 'nowrap',
    align: 'right',
    render: (r) => <Duration start={r.startedAt} end={r.finishedAt} />,
  },
  { key: 'tags', header: 'Tags', width: '18%', render: (r) => <Tags values={r.tags} /> },
];

export function RunsTable({ state, empty }: { state: TableState<RunView>; empty: ReactNode }) {
  return (
    <Table
      columns={columns}
      state={state}
      rowKey={(r) => r.id}
      rowProps={(r) => ({
        'data-testid': `run-row-${r.id}`,
        'data-status': r.status,
        'data-held': String(r.held === true && r.status === 'queued'),
      })}
      onRowClick={(r) => navigate(runHref(r.id))}
      empty={empty}
    />
  );
}
