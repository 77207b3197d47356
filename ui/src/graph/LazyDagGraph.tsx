/**
 * `DagGraph`, loaded on first use: React Flow and dagre are most of the UI's code, and the
 * runs and workers pages never draw a graph.
 */
import { lazy, Suspense } from 'react';
import { Loading } from '../components/States.js';
import type { DagGraphProps } from './DagGraph.js';

export type { DagGraphProps };

const Graph = lazy(() => import('./DagGraph.js').then((m) => ({ default: m.DagGraph })));

export function DagGraph(props: DagGraphProps) {
  return (
    <Suspense
      fallback={
        <div className="dag-graph" style={{ height: props.height ?? 460 }}>
          <Loading label="Loading the graph…" />
        </div>
      }
    >
      <Graph {...props} />
    </Suspense>
  );
}
