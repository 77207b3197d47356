/**
 * Runs, newest first, a page at a time from the server (never the whole history): filters and
 * the page cursor live in the URL, so a view can be shared. The stream keeps the page live:
 * changed runs update in place, new ones appear at the top of the first page.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { RunStatus, RunView, RunsQuery, StreamMessage } from '../../../src/client/index.js';
import { useApi } from '../api/use-api.js';
import { useStream } from '../api/use-stream.js';
import { Button } from '../components/Button.js';
import { PageHeader } from '../components/PageHeader.js';
import { EmptyState } from '../components/States.js';
import { StreamIndicator } from '../components/StreamIndicator.js';
import { useLocation, useSearchParam } from '../router.js';
import { tableState } from '../components/Table.js';
import { RunsTable } from './RunsTable.js';

const PAGE_SIZE = 50;
const POLL_MS = 5000;
const STATUSES: readonly RunStatus[] = [
  'queued',
  'running',
  'waiting',
  'succeeded',
  'failed',
  'cancelled',
];

function isRunStatus(value: string): value is RunStatus {
  return (STATUSES as readonly string[]).includes(value);
}

/** Whether a run the stream announced belongs on this page as filtered. */
function matches(run: RunView, query: RunsQuery): boolean {
  if (query.status && run.status !== query.status) return false;
  if (query.definition && run.definition !== query.definition) return false;
  if (query.q && !run.id.startsWith(query.q) && !run.tags.includes(query.q)) return false;
  return true;
}

function SearchBox({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  // Typing updates the URL (and the query) once the user pauses.
  useEffect(() => {
    if (text === value) return;
    const timer = setTimeout(() => onChange(text.trim()), 300);
    return () => clearTimeout(timer);
  }, [text, value, onChange]);
  return (
    <input
      type="search"
      className="search"
      placeholder="Run id or tag"
      data-testid="runs-search"
      aria-label="Search runs by id or tag"
      value={text}
      onChange={(e) => setText(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') onChange(text.trim());
      }}
    />
  );
}

export function RunsPage() {
  const { search } = useLocation();
  const [status, setStatus] = useSearchParam('status');
  const [definition, setDefinition] = useSearchParam('definition');
  const [q, setQ] = useSearchParam('q');
  const [before, setBefore] = useSearchParam('before');
  // Cursors of the pages before this one, to go back; lost on reload, where "Newest" remains.
  const [previous, setPrevious] = useState<string[]>([]);

  const query: RunsQuery = {
    limit: PAGE_SIZE,
    ...(isRunStatus(status) ? { status } : {}),
    ...(definition ? { definition } : {}),
    ...(q ? { q } : {}),
    ...(before ? { before } : {}),
  };
  const key = search.toString();
  const runs = useApi((client) => client.runs(query), [key]);
  const definitions = useApi((client) => client.definitions(), []);
  const { reload, update } = runs;

  // A filter change starts from the newest page again.
  const filterKey = `${status}|${definition}|${q}`;
  const lastFilter = useRef(filterKey);
  useEffect(() => {
    if (lastFilter.current === filterKey) return;
    lastFilter.current = filterKey;
    setPrevious([]);
    if (before) setBefore(null);
  }, [filterKey, before, setBefore]);

  const queryRef = useRef(query);
  queryRef.current = query;
  const onMessage = useCallback(
    (message: StreamMessage) => {
      switch (message.type) {
        case 'reset':
          reload();
          return;
        case 'run': {
          const run = message.run;
          const current = queryRef.current;
          update((data) => {
            const at = data.runs.findIndex((r) => r.id === run.id);
            if (at >= 0) {
              const rows = data.runs.slice();
              rows[at] = run;
              return { ...data, runs: rows };
            }
            // New runs belong at the top of the first page only.
            if (current.before || !matches(run, current)) return data;
            if (data.runs.length > 0 && data.runs[0]!.id > run.id) return data;
            return { ...data, runs: [run, ...data.runs].slice(0, PAGE_SIZE) };
          });
          return;
        }
        case 'step':
        case 'log':
          return;
      }
    },
    [reload, update],
  );
  const streamStatus = useStream({}, onMessage);
  // A server without the stream: poll instead, so the page still moves.
  useEffect(() => {
    if (streamStatus !== 'unsupported') return;
    const timer = setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
  }, [streamStatus, reload]);

  const data = runs.state.status === 'ready' ? runs.state.data : null;
  const names =
    definitions.state.status === 'ready'
      ? definitions.state.data.definitions.map((d) => d.name)
      : [];
  if (definition && !names.includes(definition)) names.push(definition);

  return (
    <div className="page">
      <PageHeader kicker="Runs" title="Runs" actions={<StreamIndicator status={streamStatus} />}>
        <div className="filters">
          <select
            data-testid="runs-status-filter"
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
          <select
            data-testid="runs-definition-filter"
            aria-label="Definition"
            value={definition}
            onChange={(e) => setDefinition(e.target.value || null)}
          >
            <option value="">All definitions</option>
            {names.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
          <SearchBox value={q} onChange={(v) => setQ(v || null)} />
          {(status || definition || q) && (
            <Button
              variant="ghost"
              size="sm"
              onClick={() => {
                setStatus(null);
                setDefinition(null);
                setQ(null);
              }}
            >
              Clear filters
            </Button>
          )}
        </div>
      </PageHeader>
      <div className="panel">
        <RunsTable
          state={tableState(runs.state, (d) => d.runs, reload)}
          empty={
            <EmptyState title={status || definition || q ? 'No runs match' : 'No runs yet'}>
              {status || definition || q
                ? 'Try other filters.'
                : 'Trigger a run from the catalog, or with weft run.'}
            </EmptyState>
          }
        />
        <div className="pager">
          <Button
            size="sm"
            variant="ghost"
            disabled={!before}
            onClick={() => {
              setPrevious([]);
              setBefore(null);
            }}
          >
            ⇤ Newest
          </Button>
          <Button
            size="sm"
            data-testid="runs-prev"
            disabled={!before}
            onClick={() => {
              const stack = previous.slice();
              const back = stack.pop();
              setPrevious(stack);
              setBefore(back ?? null);
            }}
          >
            ← Newer
          </Button>
          <span className="muted small">
            {data ? `${data.runs.length} run${data.runs.length === 1 ? '' : 's'} on this page` : ''}
          </span>
          <Button
            size="sm"
            data-testid="runs-next"
            disabled={!data?.next}
            onClick={() => {
              if (!data?.next) return;
              setPrevious([...previous, before]);
              setBefore(data.next);
            }}
          >
            Older →
          </Button>
        </div>
      </div>
    </div>
  );
}
