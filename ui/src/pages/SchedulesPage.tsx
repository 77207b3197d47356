/**
 * The schedules: what each starts and when it fires next, paused or not, refreshed every few
 * seconds. A row pauses or resumes its schedule in place; one made through the API can be
 * deleted (one declared in code would come back with the next worker, so it can only be
 * paused). "Runs" shows the runs a schedule started; "New schedule" makes one of a registered
 * definition.
 */
import { useEffect, useState } from 'react';
import type { ScheduleView } from '../../../src/client/index.js';
import { useApiContext } from '../api/client.js';
import { toUiError, type UiError } from '../api/errors.js';
import { useApi } from '../api/use-api.js';
import { Badge } from '../components/Badge.js';
import { Button, PauseToggle } from '../components/Button.js';
import { ConfirmDialog, Dialog } from '../components/Dialog.js';
import { formatDuration, formatTimestamp } from '../components/format.js';
import { PageHeader } from '../components/PageHeader.js';
import { Panel } from '../components/Panel.js';
import { EmptyState, InlineError } from '../components/States.js';
import { Table, tableState, type Column } from '../components/Table.js';
import { RelativeTime } from '../components/Time.js';
import { ScheduleForm } from '../forms/ScheduleForm.js';
import { Link } from '../router.js';
import { RunsTable } from './RunsTable.js';
import { NextTick, ScheduleState } from './schedule-parts.js';
import { SensorsPanel } from './SensorsPanel.js';

const REFRESH_MS = 5000;

/** The runs a schedule started, newest first. */
function ScheduleRuns({ schedule, onClose }: { schedule: ScheduleView; onClose: () => void }) {
  const { name, target } = schedule;
  // The runs API has no filter by trigger, and `q` matches ids and tags only: this reads the
  // target's latest runs and keeps those of this schedule. Enough to see what it did lately;
  // older runs of a busy target are not looked for.
  const { state, reload } = useApi(
    (client) => client.runs({ definition: target, limit: 50 }),
    [target],
  );
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const trigger = `schedule:${name}`;
  return (
    <Panel
      title={
        <>
          Runs of <span className="mono">{name}</span>
        </>
      }
      flush
      data-testid="schedule-runs"
      data-schedule={name}
      actions={
        <>
          <Link to={`/runs?definition=${encodeURIComponent(target)}`}>All runs of {target} →</Link>
          <Button size="sm" variant="ghost" onClick={onClose} aria-label="Close">
            ×
          </Button>
        </>
      }
    >
      <RunsTable
        state={tableState(state, (d) => d.runs.filter((r) => r.trigger === trigger), reload)}
        empty={
          <EmptyState title="No runs from this schedule yet" inline>
            Among the latest 50 runs of {target}, none was started by this schedule.
          </EmptyState>
        }
      />
    </Panel>
  );
}

/** Declared in code, or made through the API (which alone can delete it). */
function SourceBadge({ source }: { source: ScheduleView['source'] }) {
  return (
    <Badge
      tone={source === 'api' ? 'accent' : 'neutral'}
      title={source === 'api' ? 'made through the API or the CLI' : 'declared in code (schedule())'}
    >
      {source}
    </Badge>
  );
}

/** What happens to missed ticks, and to a tick while the previous run is unfinished. */
function Policies({ schedule }: { schedule: ScheduleView }) {
  const { catchUp, maxCatchUp, overlap, start, end, jitterMs } = schedule.spec;
  return (
    <span className="muted small">
      <span title="ticks missed while no scheduler ran (catchUp)">
        catch-up: {catchUp === 'all' ? `all (at most ${maxCatchUp})` : catchUp}
      </span>
      {' · '}
      <span
        title={
          overlap === 'queue'
            ? 'a tick while the previous run is unfinished starts its run held, after it'
            : 'a tick while the previous run is unfinished (overlap)'
        }
      >
        overlap: {overlap}
      </span>
      {jitterMs > 0 && <> · jitter {formatDuration(jitterMs)}</>}
      {start !== null && <> · from {formatTimestamp(start).slice(0, -3)}</>}
      {end !== null && <> · until {formatTimestamp(end).slice(0, -3)}</>}
    </span>
  );
}

export function SchedulesPage() {
  const { client } = useApiContext();
  const { state, reload, update } = useApi((c) => c.schedules(), []);
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<UiError | null>(null);
  const [deleting, setDeleting] = useState<ScheduleView | null>(null);
  const [showing, setShowing] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);

  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);

  const replace = (next: ScheduleView) =>
    update((d) => ({ schedules: d.schedules.map((s) => (s.name === next.name ? next : s)) }));

  const act = async (name: string, action: () => Promise<void>) => {
    setBusy(name);
    setActionError(null);
    try {
      await action();
    } catch (error) {
      setActionError(toUiError(error));
    } finally {
      setBusy(null);
    }
  };

  const setPaused = (s: ScheduleView, paused: boolean) =>
    act(s.name, async () => {
      const { schedule } = paused
        ? await client.pauseSchedule(s.name)
        : await client.resumeSchedule(s.name);
      replace(schedule);
    });

  const remove = (s: ScheduleView) =>
    act(s.name, async () => {
      await client.deleteSchedule(s.name);
      update((d) => ({ schedules: d.schedules.filter((x) => x.name !== s.name) }));
      if (showing === s.name) setShowing(null);
    });

  const created = (schedule: ScheduleView) => {
    setCreating(false);
    // Shown at once; the reload brings the list in the server's order.
    update((d) => ({
      schedules: [...d.schedules.filter((s) => s.name !== schedule.name), schedule],
    }));
    reload();
  };

  const columns: Column<ScheduleView>[] = [
    {
      key: 'state',
      header: 'State',
      width: 116,
      render: (s) => <ScheduleState paused={s.paused} />,
    },
    {
      key: 'name',
      header: 'Schedule',
      render: (s) => (
        <span>
          <span className="strong">{s.name}</span> <SourceBadge source={s.source} />
          <br />
          <span className="small" data-testid={`schedule-description-${s.name}`}>
            {s.description}
          </span>
          <br />
          <Policies schedule={s} />
        </span>
      ),
    },
    {
      key: 'target',
      header: 'Starts',
      width: 100,
      render: (s) => (
        <Link to={`/catalog/${encodeURIComponent(s.target)}`} className="strong-link">
          {s.target}
        </Link>
      ),
    },
    {
      key: 'next',
      header: 'Next tick',
      width: 160,
      render: (s) => <NextTick schedule={s} testId={`schedule-next-${s.name}`} />,
    },
    {
      key: 'last',
      header: 'Last tick',
      width: 110,
      render: (s) => <RelativeTime at={s.cursor} />,
    },
    {
      key: 'actions',
      header: '',
      width: 236,
      align: 'right',
      render: (s) => (
        <span className="row-actions">
          <Button
            size="sm"
            variant="ghost"
            data-testid={`schedule-runs-${s.name}`}
            aria-pressed={showing === s.name}
            onClick={() => setShowing(showing === s.name ? null : s.name)}
          >
            Runs
          </Button>
          <PauseToggle
            paused={s.paused}
            name={s.name}
            testIdPrefix="schedule"
            busy={busy === s.name}
            onChange={(paused) => void setPaused(s, paused)}
          />
          {s.source === 'api' && (
            <Button
              size="sm"
              variant="danger"
              data-testid={`schedule-delete-${s.name}`}
              disabled={busy === s.name}
              onClick={() => setDeleting(s)}
            >
              Delete
            </Button>
          )}
        </span>
      ),
    },
  ];

  const schedules = state.status === 'ready' ? state.data.schedules : null;
  const paused = schedules?.filter((s) => s.paused).length ?? 0;
  const shown = schedules?.find((s) => s.name === showing) ?? null;
  return (
    <div className="page">
      <PageHeader
        kicker="Schedules"
        title="Schedules"
        subtitle={
          schedules === null
            ? 'Runs started at the ticks of a cron expression or an interval.'
            : `${schedules.length} schedule${schedules.length === 1 ? '' : 's'}, ${paused} paused. Times are this browser's; each description names the schedule's own time zone.`
        }
        actions={
          <Button variant="primary" data-testid="schedule-new" onClick={() => setCreating(true)}>
            + New schedule
          </Button>
        }
      />
      <InlineError error={actionError} testId="schedule-action-error" />
      <div className="panel">
        <Table
          columns={columns}
          rowKey={(s) => s.name}
          rowProps={(s) => ({
            'data-testid': `schedule-row-${s.name}`,
            'data-paused': String(s.paused),
          })}
          state={tableState(state, (d) => d.schedules, reload)}
          empty={
            <EmptyState title="No schedules">
              Declare one next to its pipeline or workflow,{' '}
              <code>
                export const nightly = schedule(target, {'{'} cron: &apos;30 2 * * *&apos; {'}'})
              </code>
              , in a file your workers load; it shows up here once a worker registers it. Or make
              one here with New schedule.
            </EmptyState>
          }
        />
      </div>
      {shown && <ScheduleRuns key={shown.name} schedule={shown} onClose={() => setShowing(null)} />}
      <SensorsPanel />
      <Dialog open={creating} title="New schedule" onClose={() => setCreating(false)} wide>
        <ScheduleForm onCreated={created} onCancel={() => setCreating(false)} />
      </Dialog>
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete schedule ${deleting?.name ?? ''}?`}
        message={
          <>
            No further runs of <strong>{deleting?.target}</strong> start from it. The runs it
            started stay.
          </>
        }
        confirmLabel="Delete schedule"
        onConfirm={() => {
          if (deleting) void remove(deleting);
        }}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}
