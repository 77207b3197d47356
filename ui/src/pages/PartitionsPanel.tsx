/**
 * A partitioned pipeline's partitions on its definition page: the grid of their statuses (kept
 * live from the runs stream), the counts, a range to choose by clicks or by keys, and the
 * backfill of that range.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type {
  DefinitionView,
  PartitionsResponse,
  PartitionsSpec,
  PartitionStatus,
  RunView,
  StreamMessage,
} from '../../../src/client/index.js';
import { useApi } from '../api/use-api.js';
import { useStream } from '../api/use-stream.js';
import { Button } from '../components/Button.js';
import { Dialog } from '../components/Dialog.js';
import { Panel } from '../components/Panel.js';
import { PartitionCounts, PartitionGrid, type KeyRange } from '../components/PartitionGrid.js';
import { ErrorState, Loading } from '../components/States.js';
import { BackfillForm, keysIn } from '../forms/BackfillForm.js';
import { Link, navigate } from '../router.js';
import { runHref } from './RunsTable.js';

/**
 * The most partitions the grid shows (the latest ones): ten years of days; of hourly
 * partitions, the last five months or so. `counts` still covers them all.
 */
export const GRID_LIMIT = 3700;

/** How long runs' news is gathered before the grid shows it. */
const BATCH_MS = 250;

/** With no stream on the server, how often the grid is read again. */
const POLL_MS = 4000;

/** The partitions response with one run's news applied: its key's cell and the counts. */
function applyRun(data: PartitionsResponse, run: RunView): PartitionsResponse {
  if (run.partition === null) return data;
  const at = data.partitions.findIndex((p) => p.key === run.partition);
  if (at < 0) return data;
  const cell = data.partitions[at]!;
  // Run ids grow with time: an older run's news does not replace the latest run's status.
  if (cell.runId !== null && cell.runId > run.id) return data;
  const status: PartitionStatus = run.status;
  if (cell.runId === run.id && cell.status === status) return data;
  const partitions = data.partitions.slice();
  partitions[at] = { key: cell.key, status, runId: run.id, finishedAt: run.finishedAt };
  const counts = { ...data.counts };
  counts[cell.status] = Math.max(0, (counts[cell.status] ?? 0) - 1);
  if (!counts[cell.status]) delete counts[cell.status];
  counts[status] = (counts[status] ?? 0) + 1;
  return { ...data, partitions, counts };
}

/** The `from`/`to` inputs: any existing key, offered from a list. */
function KeyInput({
  id,
  label,
  value,
  onChange,
  listId,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  listId: string;
}) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  return (
    <label className="pgrid-key" htmlFor={id}>
      <span className="muted small">{label}</span>
      <input
        id={id}
        data-testid={id}
        className="mono"
        list={listId}
        value={text}
        placeholder="key"
        spellCheck={false}
        autoComplete="off"
        onChange={(e) => {
          setText(e.target.value);
          onChange(e.target.value.trim());
        }}
      />
    </label>
  );
}

export function PartitionsPanel({
  definition,
  spec,
}: {
  definition: DefinitionView;
  spec: PartitionsSpec;
}) {
  const name = definition.name;
  const { state, reload, update } = useApi(
    (client) => client.partitions(name, { limit: GRID_LIMIT }),
    [name],
  );
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [backfilling, setBackfilling] = useState(false);

  // A backfill moves many runs at once: their news is applied together, a few times a second,
  // so the grid redraws once per batch rather than once per run.
  const pending = useRef<RunView[]>([]);
  const flushTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(flushTimer.current), []);
  const onMessage = useCallback(
    (message: StreamMessage) => {
      if (message.type === 'reset') return reload();
      if (message.type !== 'run' || message.run.definition !== name) return;
      if (message.run.partition === null) return;
      pending.current.push(message.run);
      if (flushTimer.current !== undefined) return;
      flushTimer.current = setTimeout(() => {
        flushTimer.current = undefined;
        const runs = pending.current;
        pending.current = [];
        update((data) => runs.reduce(applyRun, data));
      }, BATCH_MS);
    },
    [name, reload, update],
  );
  const streamStatus = useStream({}, onMessage);
  useEffect(() => {
    if (streamStatus !== 'unsupported') return;
    const timer = setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
  }, [streamStatus, reload]);

  const data = state.status === 'ready' ? state.data : null;
  const cells = useMemo(() => data?.partitions ?? [], [data]);
  const known = useMemo(() => new Set(cells.map((c) => c.key)), [cells]);
  // A range of keys the grid has; one end alone selects that one key.
  const range: KeyRange | null = useMemo(() => {
    const a = known.has(from) ? from : null;
    const b = known.has(to) ? to : null;
    if (!a && !b) return null;
    return { from: a ?? b!, to: b ?? a! };
  }, [from, to, known]);
  const chosen = useMemo(() => (range ? keysIn(cells, range) : []), [cells, range]);
  const select = useCallback(
    (next: KeyRange | null) => {
      if (!next) {
        setFrom('');
        setTo('');
        return;
      }
      // The inputs read in grid order, whichever end was clicked first.
      const a = cells.findIndex((c) => c.key === next.from);
      const b = cells.findIndex((c) => c.key === next.to);
      const [first, last] = a <= b ? [next.from, next.to] : [next.to, next.from];
      setFrom(first);
      setTo(last !== first ? last : '');
    },
    [cells],
  );

  if (state.status === 'loading') {
    return (
      <Panel title="Partitions">
        <Loading inline />
      </Panel>
    );
  }
  if (state.status === 'error') {
    // A server from before partitions: the panel is left out.
    if (state.error.kind === 'not-found') return null;
    return (
      <Panel title="Partitions">
        <ErrorState error={state.error} onRetry={reload} inline />
      </Panel>
    );
  }
  const { description, counts, total } = state.data;
  const truncated = total > cells.length;
  const listId = `partition-keys-${name}`;
  const ordered =
    chosen.length > 0 ? [chosen[0]!.key, chosen[chosen.length - 1]!.key] : ([] as string[]);
  return (
    <Panel
      title="Partitions"
      data-testid="partitions-panel"
      actions={
        <Link to={`/backfills?target=${encodeURIComponent(name)}`}>Backfills of {name} →</Link>
      }
    >
      <div className="pgrid-head-line">
        <span className="small" data-testid="partition-description">
          {description} · param <code>{spec.param}</code>
        </span>
        <PartitionCounts counts={counts} total={total} />
      </div>
      {cells.length === 0 ? (
        <p className="muted" data-testid="state-empty">
          No partition exists yet: the first one appears once its window has ended.
        </p>
      ) : (
        <>
          <PartitionGrid
            cells={cells}
            spec={spec}
            selection={range}
            onSelect={select}
            onOpen={(cell) => cell.runId && navigate(runHref(cell.runId))}
          />
          {truncated && (
            <p className="muted small">
              The latest {cells.length.toLocaleString()} of {total.toLocaleString()} partitions.
            </p>
          )}
          <div className="pgrid-toolbar">
            <datalist id={listId}>
              {cells.map((c) => (
                <option key={c.key} value={c.key} />
              ))}
            </datalist>
            <KeyInput
              id="partition-from"
              label="from"
              value={from}
              onChange={setFrom}
              listId={listId}
            />
            <KeyInput id="partition-to" label="to" value={to} onChange={setTo} listId={listId} />
            <span
              className="muted small"
              data-testid="partition-selection"
              data-count={chosen.length}
            >
              {chosen.length === 0
                ? 'Click an empty cell (or shift-click any) to start a range, shift-click its end; click a cell with a run to open it.'
                : `${chosen.length.toLocaleString()} selected: ${ordered[0]}${ordered[1] !== ordered[0] ? ` → ${ordered[1]}` : ''}`}
            </span>
            <span className="pgrid-toolbar-actions">
              {chosen.length > 0 && (
                <Button
                  size="sm"
                  variant="ghost"
                  data-testid="partition-clear"
                  onClick={() => select(null)}
                >
                  Clear
                </Button>
              )}
              <Button
                size="sm"
                variant="primary"
                data-testid="backfill-button"
                onClick={() => setBackfilling(true)}
              >
                ⟲ Backfill{chosen.length > 0 ? ` ${chosen.length}` : ' all'}…
              </Button>
            </span>
          </div>
        </>
      )}
      <Dialog
        open={backfilling}
        title={`Backfill ${name}`}
        onClose={() => setBackfilling(false)}
        wide
      >
        <BackfillForm
          definition={definition}
          spec={spec}
          cells={cells}
          total={total}
          range={range}
          onCancel={() => setBackfilling(false)}
        />
      </Dialog>
    </Panel>
  );
}
