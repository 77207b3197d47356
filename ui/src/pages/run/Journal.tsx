/** A workflow's journal: its steps, sleeps, event waits and child runs in recorded order. */
import type { StepView } from '../../../../src/client/index.js';
import { StatusBadge, uiStatus, type UiStatus } from '../../components/Badge.js';
import { EmptyState } from '../../components/States.js';
import { Duration, RelativeTime } from '../../components/Time.js';

const KIND_ICON: Record<string, string> = { step: '▸', sleep: '◷', event: '✉', child: '⑂' };

/**
 * What an entry shows: a sleep, event wait or child run still open is the run waiting (its
 * entry is `running` in the journal), and a `pending` entry is waiting too.
 */
function shownStatus(entry: StepView): UiStatus {
  if (entry.kind !== 'step' && entry.status === 'running') return 'waiting';
  return uiStatus(entry.status);
}

function preview(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

export function Journal({
  entries,
  selected,
  onSelect,
}: {
  entries: readonly StepView[];
  selected: string | null;
  onSelect: (key: string) => void;
}) {
  if (entries.length === 0) {
    return (
      <div data-testid="journal">
        <EmptyState inline title="No journal entries yet" />
      </div>
    );
  }
  return (
    <ol className="journal" data-testid="journal">
      {entries.map((entry) => (
        <li key={entry.key}>
          <button
            type="button"
            className={selected === entry.key ? 'journal-entry selected' : 'journal-entry'}
            data-testid={`journal-entry-${entry.key}`}
            data-status={shownStatus(entry)}
            onClick={() => onSelect(entry.key)}
          >
            <span className="journal-seq">{entry.seq ?? '·'}</span>
            <span className="journal-kind" title={entry.kind}>
              {KIND_ICON[entry.kind] ?? '•'} {entry.kind}
            </span>
            <span className="journal-key mono">{entry.key}</span>
            <StatusBadge status={shownStatus(entry)} />
            <span className="journal-time muted small">
              <RelativeTime at={entry.startedAt ?? entry.queuedAt} />
            </span>
            <span className="journal-duration muted small">
              <Duration start={entry.startedAt} end={entry.finishedAt} />
            </span>
            <span className="journal-output mono small">{preview(entry.output)}</span>
          </button>
        </li>
      ))}
    </ol>
  );
}
