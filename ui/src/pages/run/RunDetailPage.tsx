/**
 * One run: its status and timings, the live graph (a pipeline) or journal (a workflow), the
 * selected step's error, output and logs, a timeline of attempts, and the actions. The page
 * follows the run's stream and applies its messages in place; a `reset` reloads everything.
 * On a server without the stream it polls while the run is unfinished.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, type StreamMessage } from '../../../../src/client/index.js';
import { loadDefinition } from '../../api/definitions.js';
import { dataOf, useApi } from '../../api/use-api.js';
import { useStream } from '../../api/use-stream.js';
import { StatusLegend, uiStatus } from '../../components/Badge.js';
import { ErrorBlock } from '../../components/ErrorBlock.js';
import { JsonView } from '../../components/JsonView.js';
import { Panel } from '../../components/Panel.js';
import { EmptyState, ErrorState, Loading } from '../../components/States.js';
import { StreamIndicator } from '../../components/StreamIndicator.js';
import { NotFoundPage } from '../NotFoundPage.js';
import { RunsTable } from '../RunsTable.js';
import { Journal } from './Journal.js';
import { LogBus } from './log-bus.js';
import { LogLines } from './LogLines.js';
import { RunActions } from './RunActions.js';
import { RunGraph } from './RunGraph.js';
import { RunHeader } from './RunHeader.js';
import { applyRun, isTerminal, journal, upsertStep, WORKFLOW_STEP } from './run-model.js';
import { StepPanel } from './StepPanel.js';
import { Timeline } from './Timeline.js';
import { WaitingFor } from './WaitingFor.js';

const POLL_MS = 2000;
const ATTEMPTS_DEBOUNCE_MS = 400;

export function RunDetailPage({ id }: { id: string }) {
  const detail = useApi((client) => client.run(id), [id]);
  const attempts = useApi(
    (client) =>
      client.attempts(id).catch((e: unknown) => {
        // An older server without the route: draw the timeline from the steps alone.
        if (e instanceof ApiError && e.status === 404) return { attempts: [] };
        throw e;
      }),
    [id],
  );
  const data = dataOf(detail.state);
  const run = data?.run;
  const definitionName = run?.definition ?? null;
  const definition = useApi(
    (client) => (definitionName ? loadDefinition(client, definitionName) : Promise.resolve(null)),
    [definitionName],
  );
  const bus = useMemo(() => new LogBus(), []);
  const [refreshKey, setRefreshKey] = useState(0);
  const [selected, setSelected] = useState<string | null>(null);

  const { update, reload } = detail;
  const reloadAttempts = attempts.reload;
  const attemptsTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const reloadAll = useCallback(() => {
    reload();
    reloadAttempts();
    setRefreshKey((k) => k + 1);
  }, [reload, reloadAttempts]);

  const onMessage = useCallback(
    (message: StreamMessage) => {
      switch (message.type) {
        case 'run':
          update((d) => applyRun(d, message.run));
          return;
        case 'step':
          update((d) => upsertStep(d, message.step));
          // Attempts are recorded as steps finish or retry: read them again once things settle.
          clearTimeout(attemptsTimer.current);
          attemptsTimer.current = setTimeout(reloadAttempts, ATTEMPTS_DEBOUNCE_MS);
          return;
        case 'log':
          bus.publish(message.log);
          return;
        case 'reset':
          reloadAll();
          return;
      }
    },
    [update, reloadAttempts, reloadAll, bus],
  );
  useEffect(() => () => clearTimeout(attemptsTimer.current), []);
  const streamStatus = useStream({ run: id }, onMessage);

  const terminal = run ? isTerminal(run.status) : false;
  useEffect(() => {
    if (streamStatus !== 'unsupported' || terminal) return;
    const timer = setInterval(reloadAll, POLL_MS);
    return () => clearInterval(timer);
  }, [streamStatus, terminal, reloadAll]);

  // First look: open the step that failed; otherwise the run's overview (input, result, logs).
  const autoSelected = useRef(false);
  useEffect(() => {
    if (!data || autoSelected.current) return;
    autoSelected.current = true;
    const failed = data.steps.find((s) => s.status === 'failed' && s.parentKey === null);
    setSelected(failed?.key ?? null);
  }, [data]);

  if (detail.state.status === 'loading') {
    return (
      <div className="page">
        <Loading />
      </div>
    );
  }
  if (detail.state.status === 'error') {
    if (detail.state.error.kind === 'not-found') return <NotFoundPage what={`No run ${id}.`} />;
    return (
      <div className="page">
        <ErrorState error={detail.state.error} onRetry={reloadAll} />
      </div>
    );
  }
  const { run: current, steps } = detail.state.data;
  const children = detail.state.data.children ?? [];
  const step = selected ? steps.find((s) => s.key === selected) : undefined;
  const items = step ? steps.filter((s) => s.parentKey === step.key) : [];
  const stepAttempts = dataOf(attempts.state)?.attempts.filter((a) => a.stepKey === selected) ?? [];
  const isPipeline = current.kind === 'pipeline';
  const selectedNode = isPipeline && step && step.parentKey === null ? step.node : null;
  const own = steps.find((s) => s.key === WORKFLOW_STEP);
  const def = dataOf(definition.state) ?? null;

  // A click always selects (clicking the selected node again keeps it): the step panel is
  // closed with its own button, so a second click never hides an error being read.
  const selectNode = (key: string | null) => setSelected(key);

  return (
    <div className="page run-page">
      <RunHeader
        run={current}
        actions={
          <div className="run-header-actions">
            <StreamIndicator status={streamStatus} />
            <RunActions
              run={current}
              selectedNode={selectedNode}
              onRun={(r) => update((d) => applyRun(d, r))}
              onChanged={reloadAll}
            />
          </div>
        }
      />
      {current.error && (
        <Panel title="Run error" className="error-panel">
          <ErrorBlock error={current.error} testId="run-error" />
        </Panel>
      )}
      <WaitingFor run={current} onSent={reloadAll} />
      <div className="split">
        <Panel
          title={isPipeline ? 'Graph' : 'Journal'}
          flush={isPipeline}
          className="split-main"
          actions={
            !isPipeline ? undefined : definition.state.status === 'error' ? (
              <span className="muted small" title={definition.state.error.message}>
                definition not available: nodes without edges
              </span>
            ) : (
              <StatusLegend shown={steps.map((s) => uiStatus(s.status))} />
            )
          }
        >
          {isPipeline ? (
            definition.state.status === 'loading' ? (
              <Loading />
            ) : (
              <RunGraph
                definition={def}
                steps={steps}
                selected={
                  selectedNode ??
                  (step?.parentKey
                    ? (steps.find((s) => s.key === step.parentKey)?.node ?? null)
                    : null)
                }
                onSelect={(node) =>
                  selectNode(
                    steps.find((s) => s.node === node && s.parentKey === null)?.key ?? node,
                  )
                }
              />
            )
          ) : (
            <Journal entries={journal(steps)} selected={selected} onSelect={selectNode} />
          )}
        </Panel>
        <Panel
          title={step ? 'Step' : 'Run'}
          className="split-side"
          actions={
            step ? (
              <button type="button" className="link-button" onClick={() => setSelected(null)}>
                show run
              </button>
            ) : undefined
          }
        >
          {step ? (
            <StepPanel
              key={step.key}
              run={current}
              step={step}
              items={items}
              attempts={stepAttempts}
              bus={bus}
              refreshKey={refreshKey}
              onSelect={setSelected}
            />
          ) : selected ? (
            <EmptyState inline title={`${selected} has not started`}>
              It has no step yet: it runs once what it reads is ready.
            </EmptyState>
          ) : (
            <div className="run-overview">
              <div className="section-label">Input</div>
              <JsonView value={current.input} testId="run-input" />
              {own && own.status === 'succeeded' && (
                <>
                  <div className="section-label">Result</div>
                  <JsonView value={own.output} testId="run-output" />
                </>
              )}
              <div className="section-label">Logs</div>
              <LogLines
                runId={current.id}
                stepKey={null}
                bus={bus}
                testId="run-logs"
                refreshKey={refreshKey}
              />
            </div>
          )}
        </Panel>
      </div>
      <Panel title="Timeline">
        {attempts.state.status === 'error' ? (
          <ErrorState error={attempts.state.error} onRetry={attempts.reload} inline />
        ) : (
          <Timeline
            run={current}
            steps={steps}
            attempts={dataOf(attempts.state)?.attempts ?? []}
            selected={selected}
            onSelect={selectNode}
          />
        )}
      </Panel>
      {!isPipeline && (
        <Panel title="Child runs" flush data-testid="child-runs">
          <RunsTable
            state={{ status: 'ready', rows: children }}
            empty={<EmptyState inline title="No child runs" />}
          />
        </Panel>
      )}
      {step && (
        <Panel title="Input">
          <JsonView value={current.input} openDepth={1} testId="run-input" />
        </Panel>
      )}
    </div>
  );
}
