/** The workers registered in the database, alive or not, refreshed every few seconds. */
import { useEffect } from 'react';
import type { WorkerView } from '../../../src/client/index.js';
import { useApi } from '../api/use-api.js';
import { AliveBadge, Tags } from '../components/Badge.js';
import { PageHeader } from '../components/PageHeader.js';
import { EmptyState } from '../components/States.js';
import { Table, tableState, type Column } from '../components/Table.js';
import { RelativeTime } from '../components/Time.js';

const REFRESH_MS = 5000;

const columns: Column<WorkerView>[] = [
  { key: 'alive', header: 'State', width: 96, render: (w) => <AliveBadge alive={w.alive} /> },
  {
    key: 'id',
    header: 'Worker',
    width: 230,
    render: (w) => <span className="mono small">{w.id}</span>,
  },
  {
    key: 'host',
    header: 'Host',
    render: (w) => (
      <span>
        {w.host} <span className="muted">· {w.pid}</span>
      </span>
    ),
  },
  { key: 'labels', header: 'Labels', width: 130, render: (w) => <Tags values={w.labels} /> },
  {
    key: 'definitions',
    header: 'Definitions',
    width: '26%',
    render: (w) => <Tags values={w.definitions} />,
  },
  {
    key: 'running',
    header: 'Running',
    align: 'right',
    width: 84,
    render: (w) => (typeof w.running === 'number' ? w.running : <span className="muted">–</span>),
  },
  {
    key: 'heartbeat',
    header: 'Heartbeat',
    width: 130,
    render: (w) => <RelativeTime at={w.heartbeatAt} />,
  },
  {
    key: 'started',
    header: 'Started',
    width: 130,
    render: (w) => <RelativeTime at={w.startedAt} />,
  },
];

export function WorkersPage() {
  const { state, reload } = useApi((client) => client.workers(), []);
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const alive = state.status === 'ready' ? state.data.workers.filter((w) => w.alive).length : null;
  return (
    <div className="page">
      <PageHeader
        kicker="Workers"
        title="Workers"
        subtitle={
          alive === null
            ? 'Processes that claim steps from this database.'
            : `${alive} alive of ${state.status === 'ready' ? state.data.workers.length : 0} registered. A worker counts as alive while its heartbeat is recent.`
        }
      />
      <div className="panel">
        <Table
          columns={columns}
          rowKey={(w) => w.id}
          rowProps={(w) => ({ 'data-testid': `worker-row-${w.id}`, 'data-alive': String(w.alive) })}
          state={tableState(state, (d) => d.workers, reload)}
          empty={
            <EmptyState title="No workers">
              Start one with <code>weft worker</code>; it shows up here within a second.
            </EmptyState>
          }
        />
      </div>
    </div>
  );
}
