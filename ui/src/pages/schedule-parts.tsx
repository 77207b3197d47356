/** Pieces of a schedule shown on the schedules page and on its target's definition page. */
import type { ScheduleView } from '../../../src/client/index.js';
import { useApi } from '../api/use-api.js';
import { formatRelative, formatTimestamp } from '../components/format.js';
import { Panel } from '../components/Panel.js';
import { Table, tableState, type Column } from '../components/Table.js';
import { useNow } from '../components/use-now.js';
import { Link } from '../router.js';

export function ScheduleState({ paused }: { paused: boolean }) {
  return (
    <span className={`status ${paused ? 'status-waiting' : 'status-succeeded'}`}>
      <span className="status-dot" aria-hidden />
      {paused ? 'paused' : 'active'}
    </span>
  );
}

/** When it fires next: the time, and how soon ("in 3 hours"); why not, when it does not. */
export function NextTick({ schedule, testId }: { schedule: ScheduleView; testId?: string }) {
  const now = useNow(5000);
  const at = schedule.nextTick;
  if (at === null) {
    return (
      <span className="muted small" data-testid={testId} data-next="">
        {schedule.paused ? 'paused' : 'none (past its end)'}
      </span>
    );
  }
  return (
    <time
      dateTime={new Date(at).toISOString()}
      data-testid={testId}
      data-next={String(at)}
      className="next-tick"
    >
      <span className="small" title={formatTimestamp(at)}>
        {formatTimestamp(at).slice(0, -3)}
      </span>
      <br />
      <span className="muted small">{formatRelative(at, now)}</span>
    </time>
  );
}

const columns: Column<ScheduleView>[] = [
  { key: 'state', header: 'State', width: 116, render: (s) => <ScheduleState paused={s.paused} /> },
  {
    key: 'name',
    header: 'Schedule',
    render: (s) => (
      <span>
        <Link to="/schedules" className="strong-link">
          {s.name}
        </Link>
        <br />
        <span className="muted small">{s.description}</span>
      </span>
    ),
  },
  { key: 'next', header: 'Next tick', width: 168, render: (s) => <NextTick schedule={s} /> },
];

/** The schedules that start `definition`; nothing at all when there are none. */
export function DefinitionSchedules({ definition }: { definition: string }) {
  const { state, reload } = useApi((client) => client.schedules(), [definition]);
  if (state.status === 'loading') return null;
  // A server from before schedules answers 404: the panel is simply left out.
  if (state.status === 'error' && state.error.kind === 'not-found') return null;
  const mine = (s: ScheduleView) => s.target === definition;
  if (state.status === 'ready' && !state.data.schedules.some(mine)) return null;
  return (
    <Panel
      title="Schedules"
      flush
      data-testid="definition-schedules"
      actions={<Link to="/schedules">All schedules →</Link>}
    >
      <Table
        columns={columns}
        rowKey={(s) => s.name}
        rowProps={(s) => ({
          'data-testid': `definition-schedule-${s.name}`,
          'data-paused': String(s.paused),
        })}
        state={tableState(state, (d) => d.schedules.filter(mine), reload)}
        empty={null}
        dense
      />
    </Panel>
  );
}
