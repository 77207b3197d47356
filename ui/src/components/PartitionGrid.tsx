/**
 * Partitions as a grid of small cells, one per key, coloured by the status of its latest run.
 * Time partitions are laid out on their calendar (a row per month of days, per day of hours, per
 * year of weeks or months; newest row first), a static set as one wrapping row.
 *
 * Ten years of days are 3 650 cells: they are plain elements drawn by one memoised component,
 * and clicks and hovers are handled once on the grid (each cell carries its index), so hovering
 * or selecting re-renders the tooltip or the cells' classes, never a component per cell.
 */
import { memo, useMemo, useRef, useState, type CSSProperties, type MouseEvent } from 'react';
import type { PartitionState, PartitionsSpec, PartitionStatus } from '../../../src/client/index.js';
import { formatTimestamp } from './format.js';

/** A range of the grid's keys, both included (`from` may come after `to`). */
export interface KeyRange {
  from: string;
  to: string;
}

type Layout = Extract<PartitionsSpec, { kind: 'time' }>['granularity'];

/** How a time partition's key is placed: its row's label and its column. */
interface Placement {
  row: string;
  column: number;
  columns: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

function placeKey(key: string, granularity: Layout): Placement {
  switch (granularity) {
    case 'hourly':
      return { row: key.slice(0, 10), column: Number(key.slice(11, 13)) || 0, columns: 24 };
    case 'daily':
      return { row: key.slice(0, 7), column: (Number(key.slice(8, 10)) || 1) - 1, columns: 31 };
    case 'weekly': {
      const year = Number(key.slice(0, 4));
      const at = Date.UTC(year, Number(key.slice(5, 7)) - 1, Number(key.slice(8, 10)));
      const week = Math.floor((at - Date.UTC(year, 0, 1)) / (7 * 86_400_000));
      return { row: key.slice(0, 4), column: Math.max(0, Math.min(52, week)), columns: 53 };
    }
    case 'monthly':
      return { row: key.slice(0, 4), column: (Number(key.slice(5, 7)) || 1) - 1, columns: 12 };
  }
}

/** Column headings of a calendar row. */
function headings(granularity: Layout): string[] | null {
  switch (granularity) {
    case 'hourly':
      return Array.from({ length: 24 }, (_, h) => (h % 3 === 0 ? pad(h) : ''));
    case 'daily':
      return Array.from({ length: 31 }, (_, d) =>
        d === 0 || (d + 1) % 5 === 0 ? String(d + 1) : '',
      );
    case 'monthly':
      return ['J', 'F', 'M', 'A', 'M', 'J', 'J', 'A', 'S', 'O', 'N', 'D'];
    case 'weekly':
      return null;
  }
}

/** Static sets up to this many keys show them written in their cells. */
const LABELLED_KEYS = 60;

/** Cells are as large as the calendar's row length lets them be. */
const CELL_SIZE: Record<Layout | 'static', number> = {
  hourly: 18,
  daily: 16,
  weekly: 13,
  monthly: 22,
  static: 18,
};

interface Row {
  label: string;
  columns: number;
  /** Indexes of the row's cells, with the blank columns before each. */
  cells: { index: number; gap: number }[];
}

function layoutRows(cells: readonly PartitionState[], spec: PartitionsSpec | null): Row[] {
  if (!spec || spec.kind === 'static') {
    return [{ label: '', columns: 0, cells: cells.map((_, index) => ({ index, gap: 0 })) }];
  }
  const rows: Row[] = [];
  let row: Row | undefined;
  let next = 0;
  cells.forEach((cell, index) => {
    const place = placeKey(cell.key, spec.granularity);
    if (!row || row.label !== place.row) {
      row = { label: place.row, columns: place.columns, cells: [] };
      rows.push(row);
      next = 0;
    }
    // A repeated hour (the clocks go back) has two keys for one column: the second follows.
    const gap = Math.max(0, place.column - next);
    row.cells.push({ index, gap });
    next = Math.max(next + gap + 1, place.column + 1);
    if (next > row.columns) row.columns = next;
  });
  return rows.reverse();
}

const Cells = memo(function Cells({
  cells,
  rows,
  spec,
  selected,
  anchor,
}: {
  cells: readonly PartitionState[];
  rows: readonly Row[];
  spec: PartitionsSpec | null;
  /** Indexes selected, both included; [-1, -1] for none. */
  selected: readonly [number, number];
  anchor: number;
}) {
  const [lo, hi] = selected;
  const calendar = spec && spec.kind === 'time' ? spec.granularity : null;
  const heads = calendar ? headings(calendar) : null;
  // A short static set shows its keys in the cells; a long one is a field of squares.
  const labelled = !calendar && cells.length <= LABELLED_KEYS;
  const cell = (index: number) => {
    const c = cells[index]!;
    const status = c.status;
    const isSelected = index >= lo && index <= hi;
    const classes = `pcell pc-${status}${labelled ? ' pchip' : ''}${isSelected ? ' sel' : ''}${index === anchor ? ' anchor' : ''}${c.runId ? ' has-run' : ''}`;
    return (
      <span
        key={c.key}
        className={classes}
        data-index={index}
        data-testid={`partition-cell-${c.key}`}
        data-status={status}
        data-selected={String(isSelected)}
      >
        {labelled ? c.key : null}
      </span>
    );
  };
  if (!calendar) {
    return <div className="pgrid-static">{rows[0]?.cells.map((c) => cell(c.index))}</div>;
  }
  const columns = Math.max(...rows.map((r) => r.columns), heads?.length ?? 0);
  const template = { gridTemplateColumns: `repeat(${columns}, var(--pcell))` };
  return (
    <div className="pgrid-rows">
      {heads && (
        <div className="pgrid-row pgrid-head" aria-hidden>
          <span className="pgrid-label" />
          <span className="pgrid-cells" style={template}>
            {heads.map((h, i) => (
              <span key={i} className="pgrid-heading">
                {h}
              </span>
            ))}
          </span>
        </div>
      )}
      {rows.map((row) => (
        <div key={row.label} className="pgrid-row">
          <span className="pgrid-label">{row.label}</span>
          <span className="pgrid-cells" style={template}>
            {row.cells.map(({ index, gap }) =>
              gap > 0
                ? [<span key={`gap-${index}`} style={{ gridColumn: `span ${gap}` }} />, cell(index)]
                : cell(index),
            )}
          </span>
        </div>
      ))}
    </div>
  );
});

function Tooltip({ cell, x, y }: { cell: PartitionState; x: number; y: number }) {
  const status = cell.status;
  return (
    <div className="pgrid-tooltip" style={{ left: x, top: y }} data-testid="partition-tooltip">
      <div className="mono strong">{cell.key}</div>
      <div className={`status status-${status === 'missing' ? 'skipped' : status}`}>
        <span className="status-dot" aria-hidden />
        {status === 'missing' ? 'missing (no run)' : status}
      </div>
      {cell.finishedAt !== null && (
        <div className="muted small">finished {formatTimestamp(cell.finishedAt)}</div>
      )}
      {cell.runId && <div className="muted small">click to open its run</div>}
    </div>
  );
}

export function PartitionGrid({
  cells,
  spec,
  selection = null,
  onSelect,
  onOpen,
  testId = 'partition-grid',
}: {
  cells: readonly PartitionState[];
  /** How to lay the keys out; null: one wrapping row. */
  spec: PartitionsSpec | null;
  selection?: KeyRange | null;
  /** Without it the grid selects nothing: a click on a cell with a run opens it. */
  onSelect?: (range: KeyRange | null) => void;
  onOpen: (cell: PartitionState) => void;
  testId?: string;
}) {
  const rows = useMemo(() => layoutRows(cells, spec), [cells, spec]);
  const size = spec?.kind === 'time' ? CELL_SIZE[spec.granularity] : CELL_SIZE.static;
  const indexOf = useMemo(() => {
    const map = new Map<string, number>();
    cells.forEach((c, i) => map.set(c.key, i));
    return map;
  }, [cells]);
  const from = selection ? (indexOf.get(selection.from) ?? -1) : -1;
  const to = selection ? (indexOf.get(selection.to) ?? -1) : -1;
  const selected = useMemo<readonly [number, number]>(
    () => (from < 0 || to < 0 ? [-1, -1] : [Math.min(from, to), Math.max(from, to)]),
    [from, to],
  );
  const [hover, setHover] = useState<{ index: number; x: number; y: number } | null>(null);
  const box = useRef<HTMLDivElement>(null);

  const indexAt = (event: MouseEvent): number | null => {
    const target = (event.target as HTMLElement).closest<HTMLElement>('[data-index]');
    if (!target || !box.current?.contains(target)) return null;
    return Number(target.dataset.index);
  };

  const onMouseOver = (event: MouseEvent) => {
    const index = indexAt(event);
    if (index === null) return setHover(null);
    // Placed in the viewport: the grid scrolls, and would clip a tooltip placed inside it.
    const cell = (event.target as HTMLElement).getBoundingClientRect();
    setHover({ index, x: cell.left + cell.width / 2, y: cell.bottom + 6 });
  };

  const onClick = (event: MouseEvent) => {
    const index = indexAt(event);
    if (index === null) return;
    const cell = cells[index]!;
    if (onSelect && event.shiftKey) {
      event.preventDefault();
      // Shift-click extends from the first key chosen; without one it starts the range.
      const start = selection ? selection.from : cell.key;
      onSelect({ from: start, to: cell.key });
      return;
    }
    if (cell.runId) return onOpen(cell);
    if (onSelect) onSelect({ from: cell.key, to: cell.key });
  };

  const hovered = hover ? cells[hover.index] : undefined;
  return (
    <div
      ref={box}
      className={onSelect ? 'pgrid selectable' : 'pgrid'}
      style={{ '--pcell': `${size}px` } as CSSProperties}
      data-testid={testId}
      data-count={cells.length}
      onMouseOver={onMouseOver}
      onMouseLeave={() => setHover(null)}
      onClick={onClick}
      onMouseDown={(e) => {
        // Shift-click would select the page's text between the clicks.
        if (e.shiftKey) e.preventDefault();
      }}
    >
      <Cells cells={cells} rows={rows} spec={spec} selected={selected} anchor={from} />
      {hovered && hover && <Tooltip cell={hovered} x={hover.x} y={hover.y} />}
    </div>
  );
}

/** The order statuses are listed in. */
export const PARTITION_STATUSES: readonly string[] = [
  'succeeded',
  'failed',
  'running',
  'queued',
  'waiting',
  'cancelled',
  'missing',
];

/** How many partitions have each status, as coloured counts (the grid's legend too). */
export function PartitionCounts({
  counts,
  total,
  testId = 'partition-counts',
}: {
  counts: Partial<Record<PartitionStatus, number>>;
  total: number;
  testId?: string;
}) {
  const merged: Record<string, number> = {};
  for (const [status, n] of Object.entries(counts)) {
    merged[status] = (merged[status] ?? 0) + (n ?? 0);
  }
  return (
    <span className="pcounts" data-testid={testId} data-total={total}>
      <span className="pcount">
        <strong>{total.toLocaleString()}</strong> partition{total === 1 ? '' : 's'}
      </span>
      {PARTITION_STATUSES.filter((s) => merged[s]).map((s) => (
        <span
          key={s}
          className="pcount"
          data-testid={`partition-count-${s}`}
          data-count={merged[s]}
        >
          <span className={`pcell pc-${s}`} aria-hidden />
          {merged[s]!.toLocaleString()} {s}
        </span>
      ))}
    </span>
  );
}
