/**
 * `/__bench/graph?n=500`: a synthetic layered DAG of n nodes drawn with `DagGraph`, for the
 * benchmark that measures layout and render time (`data-layout-ms`, `data-render-ms` on the
 * `dag-graph` container once `data-ready`). Not linked from the navigation.
 */
import { useMemo } from 'react';
import type { UiStatus } from '../components/Badge.js';
import { DagGraph, type GraphEdge, type GraphNode } from '../graph/index.js';
import { useLocation } from '../router.js';

const STATUSES: readonly UiStatus[] = [
  'succeeded',
  'running',
  'queued',
  'waiting',
  'failed',
  'cached',
  'skipped',
];

/** A deterministic pseudo-random sequence, so every run of the benchmark draws the same graph. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * About √n layers of √n nodes, shaped like a real pipeline: each node reads one or two nodes,
 * mostly of the layer before it, sometimes of the one before that.
 */
export function syntheticGraph(n: number): {
  nodes: GraphNode[];
  edges: GraphEdge[];
  statuses: Record<string, UiStatus>;
} {
  const next = random(n);
  const width = Math.max(1, Math.round(Math.sqrt(n)));
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const statuses: Record<string, UiStatus> = {};
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / width);
    const id = `n${i}`;
    nodes.push({ id, label: id, kind: i % 17 === 5 ? 'map' : 'node', detail: `task-${i % 7}` });
    statuses[id] = STATUSES[i % STATUSES.length]!;
    if (layer === 0) continue;
    const deps = 1 + Math.floor(next() * 2);
    const seen = new Set<number>();
    for (let d = 0; d < deps; d++) {
      const fromLayer = Math.max(0, layer - 1 - (next() < 0.25 ? 1 : 0));
      const from = Math.min(i - 1, fromLayer * width + Math.floor(next() * width));
      if (seen.has(from)) continue;
      seen.add(from);
      edges.push({ source: `n${from}`, target: id });
    }
  }
  return { nodes, edges, statuses };
}

export function GraphBenchPage() {
  const { search } = useLocation();
  const n = Math.max(1, Math.min(5000, Number(search.get('n')) || 500));
  const graph = useMemo(() => syntheticGraph(n), [n]);
  return (
    <div className="page">
      <h1 className="bench-title">Graph benchmark: {n} nodes</h1>
      <DagGraph
        nodes={graph.nodes}
        edges={graph.edges}
        statuses={graph.statuses}
        height="calc(100vh - 120px)"
      />
    </div>
  );
}
