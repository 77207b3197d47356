/**
 * The selected step: its error, output, log lines (live) and attempts; for a map, its items.
 * Sections are stacked rather than tabbed so that what matters (an error) is never hidden.
 */
import { useState } from 'react';
import type { AttemptView, RunView, StepView } from '../../../../src/client/index.js';
import { useApiContext } from '../../api/client.js';
import { toUiError, type UiError } from '../../api/errors.js';
import { StatusBadge } from '../../components/Badge.js';
import { Button } from '../../components/Button.js';
import { ErrorBlock } from '../../components/ErrorBlock.js';
import { formatBytes, formatDuration, shortId } from '../../components/format.js';
import { JsonView } from '../../components/JsonView.js';
import { Fact, Facts } from '../../components/Panel.js';
import { InlineError } from '../../components/States.js';
import { Duration, RelativeTime } from '../../components/Time.js';
import type { LogBus } from './log-bus.js';
import { LogLines } from './LogLines.js';

const ITEMS_SHOWN = 200;

function Output({ run, step }: { run: RunView; step: StepView }) {
  const { client, requireSignIn } = useApiContext();
  const [full, setFull] = useState<{ value: unknown } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  if (step.status !== 'succeeded' && step.status !== 'cached') return null;
  if (step.outputOmitted && !full) {
    const load = async () => {
      setBusy(true);
      setError(null);
      try {
        const answer = await client.output(run.id, step.key);
        setFull({ value: answer.output });
      } catch (e) {
        const uiError = toUiError(e);
        if (uiError.kind === 'unauthorized') requireSignIn();
        setError(uiError);
      } finally {
        setBusy(false);
      }
    };
    return (
      <section className="step-section">
        <div className="section-label">Output</div>
        <div className="step-output-omitted" data-testid="step-output">
          <span className="muted">
            {step.outputBytes !== null ? formatBytes(step.outputBytes) : 'Large'} output, not sent
            with the run.
          </span>
          <Button size="sm" busy={busy} onClick={() => void load()} data-testid="load-output">
            Load full output
          </Button>
          <InlineError error={error} />
        </div>
      </section>
    );
  }
  return (
    <section className="step-section">
      <div className="section-label">
        Output
        {step.outputBytes !== null && step.outputBytes !== undefined
          ? ` · ${formatBytes(step.outputBytes)}`
          : ''}
      </div>
      <JsonView value={full ? full.value : step.output} testId="step-output" />
    </section>
  );
}

function Attempts({ attempts }: { attempts: readonly AttemptView[] }) {
  if (attempts.length === 0) return null;
  return (
    <section className="step-section">
      <div className="section-label">Attempts</div>
      <ol className="attempts" data-testid="step-attempts">
        {attempts.map((a) => (
          <li key={a.attempt} className="attempt">
            <span className="attempt-n">#{a.attempt}</span>
            <StatusBadge status={a.status === 'interrupted' ? 'cancelled' : a.status} />
            {a.status === 'interrupted' && <span className="muted small">interrupted</span>}
            <span className="muted small">{formatDuration(a.finishedAt - a.startedAt)}</span>
            {a.workerId && (
              <span className="muted small mono" title={a.workerId}>
                {shortId(a.workerId)}
              </span>
            )}
            {a.error && <div className="attempt-error">{a.error.message}</div>}
          </li>
        ))}
      </ol>
    </section>
  );
}

function Items({
  items,
  onSelect,
}: {
  items: readonly StepView[];
  onSelect: (key: string) => void;
}) {
  const sorted = [...items].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  return (
    <section className="step-section">
      <div className="section-label">
        Items · {items.filter((i) => i.status === 'succeeded' || i.status === 'cached').length}/
        {items.length} done
      </div>
      <ul className="items" data-testid="map-items">
        {sorted.slice(0, ITEMS_SHOWN).map((item) => (
          <li key={item.key}>
            <button type="button" className="item" onClick={() => onSelect(item.key)}>
              <StatusBadge status={item.status} />
              <span className="mono">{item.key}</span>
              <span className="muted small">
                <Duration start={item.startedAt} end={item.finishedAt} />
              </span>
              {item.attempt > 1 && <span className="muted small">{item.attempt} attempts</span>}
            </button>
          </li>
        ))}
      </ul>
      {items.length > ITEMS_SHOWN && (
        <p className="muted small">and {items.length - ITEMS_SHOWN} more</p>
      )}
    </section>
  );
}

export function StepPanel({
  run,
  step,
  items,
  attempts,
  bus,
  refreshKey,
  onSelect,
}: {
  run: RunView;
  step: StepView;
  items: readonly StepView[];
  attempts: readonly AttemptView[];
  bus: LogBus;
  refreshKey: number;
  onSelect: (key: string | null) => void;
}) {
  return (
    <div className="step-panel" data-testid="step-panel" data-step={step.key}>
      <div className="step-panel-head">
        <div>
          {step.parentKey && (
            <button
              type="button"
              className="link-button small"
              onClick={() => onSelect(step.parentKey)}
            >
              ← {step.parentKey}
            </button>
          )}
          <h3 className="mono">{step.key}</h3>
        </div>
        <StatusBadge status={step.status} testId="step-status" />
      </div>
      <Facts>
        <Fact label="Kind">{step.kind}</Fact>
        <Fact label="Attempt">{step.attempt}</Fact>
        <Fact label="Started">
          <RelativeTime at={step.startedAt} />
        </Fact>
        <Fact label="Took">
          <Duration
            start={step.startedAt}
            end={step.finishedAt ?? (step.status === 'running' ? null : step.startedAt)}
          />
        </Fact>
        {step.leaseOwner && (
          <Fact label="Worker">
            <span className="mono small" title={step.leaseOwner}>
              {shortId(step.leaseOwner)}
            </span>
          </Fact>
        )}
        {step.origin === 'override' && <Fact label="Origin">override</Fact>}
      </Facts>
      {step.error && (
        <section className="step-section">
          <div className="section-label">Error</div>
          <ErrorBlock error={step.error} testId="step-error" />
        </section>
      )}
      {items.length > 0 && <Items items={items} onSelect={onSelect} />}
      {/* A map's output is its items' outputs: each item shows its own. */}
      {items.length === 0 && <Output key={step.key} run={run} step={step} />}
      <section className="step-section">
        <div className="section-label">Logs</div>
        <LogLines
          runId={run.id}
          stepKey={step.key}
          bus={bus}
          testId="step-logs"
          refreshKey={refreshKey}
        />
      </section>
      <Attempts attempts={attempts} />
    </div>
  );
}
