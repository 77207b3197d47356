/**
 * One definition: a pipeline's graph (click a node for its source and policy) or a workflow's
 * source, the schedules that start it, its recent runs, and the trigger form.
 */
import { useMemo, useState } from 'react';
import type { DefinitionView, NodeView, PipelineGraphView } from '../../../src/client/index.js';
import { loadDefinition } from '../api/definitions.js';
import { useApi } from '../api/use-api.js';
import { Badge, Tags } from '../components/Badge.js';
import { Button } from '../components/Button.js';
import { CodeBlock } from '../components/CodeBlock.js';
import { Dialog } from '../components/Dialog.js';
import { formatDuration } from '../components/format.js';
import { PageHeader } from '../components/PageHeader.js';
import { Fact, Facts, Panel } from '../components/Panel.js';
import { ErrorState, Loading } from '../components/States.js';
import { RelativeTime } from '../components/Time.js';
import { TriggerForm } from '../forms/TriggerForm.js';
import { DagGraph, pipelineModel } from '../graph/index.js';
import { Link } from '../router.js';
import { NotFoundPage } from './NotFoundPage.js';
import { PartitionsPanel } from './PartitionsPanel.js';
import { RecentRuns } from './RecentRuns.js';
import { DefinitionSchedules } from './schedule-parts.js';

function NodeDetail({ node }: { node: NodeView }) {
  return (
    <div className="node-detail">
      <div className="node-detail-title">
        <h3>{node.name}</h3>
        <Badge tone={node.kind === 'map' ? 'accent' : 'neutral'}>
          {node.kind === 'map' ? 'map (fan-out)' : 'node'}
        </Badge>
      </div>
      {node.description && <p>{node.description}</p>}
      <Facts>
        <Fact label="Task">{node.task ?? <span className="muted">inline function</span>}</Fact>
        {node.kind === 'map' && <Fact label="Maps over">{node.over ?? '–'}</Fact>}
        <Fact label="Reads">
          {node.deps.length ? node.deps.join(', ') : <span className="muted">nothing</span>}
        </Fact>
        <Fact label="Retries">{node.retries}</Fact>
        <Fact label="Timeout">
          {node.timeoutMs === null ? (
            <span className="muted">none</span>
          ) : (
            formatDuration(node.timeoutMs)
          )}
        </Fact>
        <Fact label="Concurrency">
          {node.concurrency ?? <span className="muted">unlimited</span>}
        </Fact>
        <Fact label="Priority">{node.priority ?? 0}</Fact>
        <Fact label="Labels">
          <Tags values={node.labels} />
        </Fact>
      </Facts>
      <div className="section-label">Source</div>
      <CodeBlock code={node.source} testId="node-source" maxHeight={340} />
    </div>
  );
}

function PipelineView({ graph }: { graph: PipelineGraphView }) {
  const model = useMemo(() => pipelineModel(graph), [graph]);
  const [selected, setSelected] = useState<string | null>(null);
  const node = graph.nodes.find((n) => n.name === selected) ?? null;
  return (
    <div className="split">
      <Panel title="Graph" flush className="split-main">
        <DagGraph
          nodes={model.nodes}
          edges={model.edges}
          selected={selected}
          onSelect={setSelected}
          height={520}
        />
      </Panel>
      <Panel title={node ? 'Node' : 'Nodes'} className="split-side">
        {node ? (
          <NodeDetail node={node} />
        ) : (
          <div className="node-list">
            <p className="muted">Click a node to see its source and policy.</p>
            <ul>
              {graph.nodes.map((n) => (
                <li key={n.name}>
                  <button type="button" className="link-button" onClick={() => setSelected(n.name)}>
                    {n.name}
                  </button>
                  {n.kind === 'map' && <span className="muted small"> · map over {n.over}</span>}
                  {n.task && <span className="muted small"> · {n.task}</span>}
                </li>
              ))}
            </ul>
            {graph.defaultOutputs.length > 0 && (
              <p className="muted small">Default outputs: {graph.defaultOutputs.join(', ')}</p>
            )}
          </div>
        )}
      </Panel>
    </div>
  );
}

function DefinitionBody({ definition }: { definition: DefinitionView }) {
  const { graph } = definition;
  if (graph.kind === 'pipeline') return <PipelineView graph={graph} />;
  return (
    <Panel title="Source">
      <Facts>
        <Fact label="Retries">{graph.retries}</Fact>
        <Fact label="Timeout">
          {graph.timeoutMs === null ? (
            <span className="muted">none</span>
          ) : (
            formatDuration(graph.timeoutMs)
          )}
        </Fact>
        <Fact label="Labels">
          <Tags values={graph.labels} />
        </Fact>
      </Facts>
      <CodeBlock code={graph.source} testId="workflow-source" maxHeight={520} />
    </Panel>
  );
}

export function DefinitionPage({ name }: { name: string }) {
  const { state, reload } = useApi((client) => loadDefinition(client, name), [name]);
  const [triggering, setTriggering] = useState(false);

  if (state.status === 'loading')
    return (
      <div className="page">
        <Loading />
      </div>
    );
  if (state.status === 'error') {
    if (state.error.kind === 'not-found') return <NotFoundPage what={state.error.message} />;
    return (
      <div className="page">
        <ErrorState error={state.error} onRetry={reload} />
      </div>
    );
  }
  const definition = state.data;
  const { graph } = definition;
  const partitions = graph.kind === 'pipeline' ? graph.partitions : undefined;
  return (
    <div className="page">
      <PageHeader
        kicker={
          <>
            <Link to="/catalog">Catalog</Link> / {definition.kind}
          </>
        }
        title={definition.name}
        subtitle={definition.graph.description ?? undefined}
        actions={
          <Button
            variant="primary"
            data-testid="trigger-button"
            onClick={() => setTriggering(true)}
          >
            ▶ Trigger
          </Button>
        }
      >
        <Facts>
          <Fact label="Kind">
            <Badge tone={definition.kind === 'pipeline' ? 'accent' : 'neutral'}>
              {definition.kind}
            </Badge>
          </Fact>
          <Fact label="Registered">
            <RelativeTime at={definition.registeredAt} />
          </Fact>
          <Fact label="Code">
            <span className="mono small" title="hash of the registered graph and code">
              {definition.codeHash}
            </span>
          </Fact>
          <Fact label="Labels">
            <Tags values={definition.labels} />
          </Fact>
          {partitions && (
            <Fact label="Partitioned by">
              <code data-testid="definition-partition-param">{partitions.param}</code>{' '}
              <span className="muted small">
                {partitions.kind === 'static'
                  ? `${partitions.keys.length} keys`
                  : `${partitions.granularity}, ${partitions.timezone}`}
              </span>
            </Fact>
          )}
          {graph.maxActiveRuns !== undefined && (
            <Fact label="Max active runs">
              <span data-testid="definition-max-active" title="more runs wait held">
                {graph.maxActiveRuns}
              </span>
            </Fact>
          )}
        </Facts>
      </PageHeader>
      {partitions && <PartitionsPanel definition={definition} spec={partitions} />}
      <DefinitionBody definition={definition} />
      <DefinitionSchedules definition={definition.name} />
      <RecentRuns definition={definition.name} />
      <Dialog
        open={triggering}
        title={`Trigger ${definition.name}`}
        onClose={() => setTriggering(false)}
        wide
      >
        <TriggerForm definition={definition} onCancel={() => setTriggering(false)} />
      </Dialog>
    </div>
  );
}
