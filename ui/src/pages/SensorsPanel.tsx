/**
 * Sensors, under the schedules: functions in the workers' code evaluated every interval that
 * start runs of their target. The panel shows what their last evaluation did (when, how many
 * runs it asked for, its error, the cursor it kept) and pauses or resumes them in place.
 */
import { useEffect, useState } from 'react';
import type { SensorView } from '../../../src/client/index.js';
import { useApiContext } from '../api/client.js';
import { toUiError, type UiError } from '../api/errors.js';
import { useApi } from '../api/use-api.js';
import { PauseToggle } from '../components/Button.js';
import { formatDuration } from '../components/format.js';
import { Panel } from '../components/Panel.js';
import { EmptyState, InlineError } from '../components/States.js';
import { Table, tableState, type Column } from '../components/Table.js';
import { RelativeTime } from '../components/Time.js';
import { Link } from '../router.js';
import { ScheduleState } from './schedule-parts.js';

const REFRESH_MS = 5000;

/** An interval as it was likely written: `30s`, `15m`, `1h`, `1d`; else as a duration. */
function formatInterval(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return formatDuration(ms);
}
const CURSOR_SHOWN = 28;

function Cursor({ sensor }: { sensor: SensorView }) {
  const { cursor } = sensor;
  if (cursor === null) {
    return (
      <span className="muted small" data-testid={`sensor-cursor-${sensor.name}`}>
        none yet
      </span>
    );
  }
  const cut = cursor.length > CURSOR_SHOWN;
  return (
    <code
      className="small sensor-cursor"
      title={cursor}
      data-testid={`sensor-cursor-${sensor.name}`}
      data-cursor={cursor}
    >
      {cut ? `${cursor.slice(0, CURSOR_SHOWN)}…` : cursor}
    </code>
  );
}

export function SensorsPanel() {
  const { client, requireSignIn } = useApiContext();
  const { state, reload, update } = useApi((c) => c.sensors(), []);
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<UiError | null>(null);

  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);

  // A server from before sensors answers 404: the panel is left out.
  if (state.status === 'error' && state.error.kind === 'not-found') return null;

  const setPaused = async (sensor: SensorView, paused: boolean) => {
    setBusy(sensor.name);
    setActionError(null);
    try {
      const next = paused
        ? await client.pauseSensor(sensor.name)
        : await client.resumeSensor(sensor.name);
      update((d) => ({ sensors: d.sensors.map((s) => (s.name === next.name ? next : s)) }));
    } catch (error) {
      const uiError = toUiError(error);
      if (uiError.kind === 'unauthorized') requireSignIn();
      setActionError(uiError);
    } finally {
      setBusy(null);
    }
  };

  const columns: Column<SensorView>[] = [
    {
      key: 'state',
      header: 'State',
      width: 116,
      render: (s) => <ScheduleState paused={s.paused} />,
    },
    {
      key: 'name',
      header: 'Sensor',
      render: (s) => (
        <span>
          <span className="strong">{s.name}</span>
          <br />
          <span className="muted small">
            every{' '}
            <span data-testid={`sensor-interval-${s.name}`}>{formatInterval(s.intervalMs)}</span>
          </span>
        </span>
      ),
    },
    {
      key: 'target',
      header: 'Starts',
      width: 150,
      render: (s) => (
        <Link to={`/catalog/${encodeURIComponent(s.target)}`} className="strong-link">
          {s.target}
        </Link>
      ),
    },
    {
      key: 'evaluated',
      header: 'Last evaluated',
      width: 170,
      render: (s) => (
        <span data-testid={`sensor-evaluated-${s.name}`} data-at={s.evaluatedAt ?? ''}>
          <RelativeTime at={s.evaluatedAt} />
          <br />
          {s.lastError ? (
            <span
              className="sensor-error small"
              title={s.lastError}
              data-testid={`sensor-error-${s.name}`}
            >
              failed: {s.lastError.length > 60 ? `${s.lastError.slice(0, 60)}…` : s.lastError}
            </span>
          ) : s.evaluatedAt !== null ? (
            <span className="muted small" data-testid={`sensor-requested-${s.name}`}>
              requested {s.lastRequested} run{s.lastRequested === 1 ? '' : 's'}
            </span>
          ) : (
            <span className="muted small">not evaluated yet</span>
          )}
        </span>
      ),
    },
    { key: 'cursor', header: 'Cursor', width: 190, render: (s) => <Cursor sensor={s} /> },
    {
      key: 'actions',
      header: '',
      width: 130,
      align: 'right',
      render: (s) => (
        <PauseToggle
          paused={s.paused}
          name={s.name}
          testIdPrefix="sensor"
          busy={busy === s.name}
          onChange={(paused) => void setPaused(s, paused)}
        />
      ),
    },
  ];

  return (
    <Panel title="Sensors" flush data-testid="sensors">
      <InlineError error={actionError} testId="sensor-action-error" />
      <Table
        columns={columns}
        rowKey={(s) => s.name}
        rowProps={(s) => ({
          'data-testid': `sensor-row-${s.name}`,
          'data-paused': String(s.paused),
        })}
        state={tableState(state, (d) => d.sensors, reload)}
        empty={
          <EmptyState title="No sensors" inline>
            Declare one next to its target,{' '}
            <code>
              export const watch = sensor(target, {'{'} every: &apos;30s&apos;, evaluate {'}'})
            </code>
            , in a file your workers load; it shows up here once a worker registers it.
          </EmptyState>
        }
      />
    </Panel>
  );
}
