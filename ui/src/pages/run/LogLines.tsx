/**
 * A step's (or the whole run's) log lines: loaded from the logs route, then followed live from
 * the page's stream. Lines are kept in `seq` order without duplicates, whichever way they came.
 */
import { useEffect, useRef, useState } from 'react';
import type { LogView } from '../../../../src/client/index.js';
import { useClient } from '../../api/client.js';
import { isAbort, toUiError, type UiError } from '../../api/errors.js';
import { formatClock } from '../../components/format.js';
import { EmptyState, ErrorState, Loading } from '../../components/States.js';
import type { LogBus } from './log-bus.js';

const LIMIT = 5000;

function merge(current: readonly LogView[], incoming: readonly LogView[]): LogView[] {
  const seen = new Set(current.map((l) => l.seq));
  const fresh = incoming.filter((l) => !seen.has(l.seq));
  if (fresh.length === 0) return current as LogView[];
  return [...current, ...fresh].sort((a, b) => a.seq - b.seq);
}

export function LogLines({
  runId,
  stepKey,
  bus,
  testId,
  refreshKey,
}: {
  runId: string;
  /** Only this step's lines; null for every line of the run. */
  stepKey: string | null;
  bus: LogBus;
  testId: string;
  /** Changes when the page reloads after a stream reset: read the lines again. */
  refreshKey: number;
}) {
  const client = useClient();
  const [lines, setLines] = useState<LogView[] | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);

  useEffect(() => {
    const controller = new AbortController();
    let pending: LogView[] = [];
    let loaded = false;
    const unsubscribe = bus.subscribe((log) => {
      if (log.runId !== runId || (stepKey !== null && log.stepKey !== stepKey)) return;
      if (!loaded) pending.push(log);
      else setLines((current) => merge(current ?? [], [log]));
    });
    setError(null);
    client.logs(runId, { ...(stepKey !== null ? { step: stepKey } : {}), limit: LIMIT }).then(
      ({ logs }) => {
        if (controller.signal.aborted) return;
        loaded = true;
        setLines(merge(logs, pending));
        pending = [];
      },
      (e: unknown) => {
        if (controller.signal.aborted || isAbort(e)) return;
        setError(toUiError(e));
      },
    );
    return () => {
      controller.abort();
      unsubscribe();
    };
  }, [client, runId, stepKey, bus, refreshKey]);

  // Follow the tail like a terminal, unless the reader scrolled up.
  useEffect(() => {
    const el = box.current;
    if (el && stickToBottom.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  return (
    <div
      className="logs"
      data-testid={testId}
      ref={box}
      onScroll={(e) => {
        const el = e.currentTarget;
        stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}
    >
      {error ? (
        <ErrorState error={error} inline />
      ) : lines === null ? (
        <Loading inline label="Loading logs…" />
      ) : lines.length === 0 ? (
        <EmptyState inline title="No log lines yet" />
      ) : (
        lines.map((line) => (
          <div key={line.seq} className={`log-line log-${line.level}`} data-testid="log-line">
            <span className="log-time">{formatClock(line.at)}</span>
            <span className="log-level">{line.level}</span>
            {stepKey === null && line.stepKey && <span className="log-step">{line.stepKey}</span>}
            {line.attempt !== null && line.attempt > 1 && (
              <span className="log-attempt">#{line.attempt}</span>
            )}
            <span className="log-message">{line.message}</span>
          </div>
        ))
      )}
    </div>
  );
}
