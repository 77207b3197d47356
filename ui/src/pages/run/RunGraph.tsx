/**
 * A pipeline run's graph: the definition's graph coloured by the run's step statuses, with the
 * items done of each map.
 */
import { useMemo } from 'react';
import type { DefinitionView, StepView } from '../../../../src/client/index.js';
import { DagGraph, pipelineModel, type GraphModel } from '../../graph/index.js';
import { mapProgress, nodeStatuses } from './run-model.js';

/** Without the definition (not registered any more), the graph is the steps, unconnected. */
function modelFromSteps(steps: readonly StepView[]): GraphModel {
  return {
    nodes: steps
      .filter((s) => s.parentKey === null && s.kind === 'node')
      .map((s) => ({
        id: s.node,
        label: s.node,
        kind: steps.some((i) => i.parentKey === s.key) ? ('map' as const) : ('node' as const),
      })),
    edges: [],
  };
}

export function RunGraph({
  definition,
  steps,
  selected,
  onSelect,
}: {
  definition: DefinitionView | null;
  steps: readonly StepView[];
  selected: string | null;
  onSelect: (key: string) => void;
}) {
  const graph = definition?.graph.kind === 'pipeline' ? definition.graph : null;
  // The model depends on the definition only: a live run re-colours, it never lays out again.
  const stepShape = graph
    ? ''
    : steps
        .filter((s) => s.parentKey === null)
        .map((s) => s.key)
        .join('|');
  const model = useMemo(
    () => (graph ? pipelineModel(graph) : modelFromSteps(steps)),
    // `stepShape` stands for `steps`: the model reads their keys only.
    // eslint-disable-next-line react-hooks/exhaustive-deps -- laid out again on new keys only
    [graph, stepShape],
  );
  const statuses = useMemo(() => nodeStatuses(steps), [steps]);
  const progress = useMemo(() => mapProgress(steps), [steps]);
  return (
    <DagGraph
      nodes={model.nodes}
      edges={model.edges}
      statuses={statuses}
      progress={progress}
      selected={selected}
      onSelect={onSelect}
      height={500}
    />
  );
}
