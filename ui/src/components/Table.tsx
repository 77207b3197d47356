/**
 * A data table: columns say how to render a row; the table adds the loading, empty and error
 * states every list needs, so pages cannot forget them.
 */
import type { HTMLAttributes, ReactNode } from 'react';
import type { UiError } from '../api/errors.js';
import type { ApiState } from '../api/use-api.js';
import { ErrorState, Loading } from './States.js';

export interface Column<T> {
  key: string;
  header: ReactNode;
  render: (row: T) => ReactNode;
  width?: number | string;
  align?: 'left' | 'right';
  className?: string;
}

export type TableState<T> =
  | { status: 'loading' }
  | { status: 'error'; error: UiError; retry?: () => void }
  /** `stale`: a newer page is loading; the rows shown are the previous one's. */
  | { status: 'ready'; rows: readonly T[]; stale?: boolean };

export function Table<T>({
  columns,
  state,
  rowKey,
  rowProps,
  onRowClick,
  empty,
  dense,
}: {
  columns: readonly Column<T>[];
  state: TableState<T>;
  rowKey: (row: T) => string;
  /** Extra attributes per row (test ids, `data-status`). */
  rowProps?: (row: T) => HTMLAttributes<HTMLTableRowElement> & Record<`data-${string}`, string>;
  onRowClick?: (row: T) => void;
  empty: ReactNode;
  dense?: boolean;
}) {
  return (
    <div
      className={state.status === 'ready' && state.stale ? 'table-wrap stale' : 'table-wrap'}
      aria-busy={state.status === 'loading' || (state.status === 'ready' && state.stale)}
    >
      <table className={dense ? 'table dense' : 'table'}>
        <colgroup>
          {columns.map((c) => (
            <col key={c.key} style={c.width !== undefined ? { width: c.width } : undefined} />
          ))}
        </colgroup>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} className={c.align === 'right' ? 'right' : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        {state.status === 'ready' && (
          <tbody>
            {state.rows.map((row) => (
              <tr
                key={rowKey(row)}
                className={onRowClick ? 'clickable' : undefined}
                onClick={onRowClick ? () => onRowClick(row) : undefined}
                {...rowProps?.(row)}
              >
                {columns.map((c) => (
                  <td
                    key={c.key}
                    className={[c.align === 'right' ? 'right' : '', c.className ?? '']
                      .filter(Boolean)
                      .join(' ')}
                  >
                    {c.render(row)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        )}
      </table>
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorState error={state.error} onRetry={state.retry} />}
      {state.status === 'ready' && state.rows.length === 0 && empty}
    </div>
  );
}

/** A table's state from a request's: its rows once loaded, with a retry on error. */
export function tableState<D, T>(
  state: ApiState<D>,
  rows: (data: D) => readonly T[],
  retry: () => void,
): TableState<T> {
  switch (state.status) {
    case 'loading':
      return { status: 'loading' };
    case 'error':
      return { status: 'error', error: state.error, retry };
    case 'ready':
      return { status: 'ready', rows: rows(state.data), stale: state.reloading };
  }
}
