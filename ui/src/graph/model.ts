/**
 * What a graph shows: nodes (a pipeline's params, nodes and fan-out maps) and the edges between
 * them, independent of React Flow. Pages build these from a definition; `DagGraph` draws them.
 */
import type { PipelineGraphView } from '../../../src/client/index.js';
import type { UiStatus } from '../components/Badge.js';

export type GraphNodeKind = 'param' | 'node' | 'map';

export interface GraphNode {
  /** Unique in the graph: a node's name, or `param:<name>` for a param. */
  id: string;
  label: string;
  kind: GraphNodeKind;
  /** A second line: the task a node runs, or what a map fans out over. */
  detail?: string | null;
}

export interface GraphEdge {
  source: string;
  target: string;
}

export interface GraphModel {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** Items of a map step: how many are done out of how many. */
export interface MapProgress {
  done: number;
  total: number;
  failed: number;
}

export type NodeStatuses = Readonly<Record<string, UiStatus>>;

export const paramId = (name: string) => `param:${name}`;

/** A pipeline's graph: params as their own nodes, deps as edges (`over` included). */
export function pipelineModel(graph: PipelineGraphView): GraphModel {
  const params = new Set(graph.params);
  const nodes: GraphNode[] = [
    ...graph.params.map((name) => ({ id: paramId(name), label: name, kind: 'param' as const })),
    ...graph.nodes.map((node) => ({
      id: node.name,
      label: node.name,
      kind: node.kind,
      detail: node.kind === 'map' ? `map over ${node.over ?? '?'}` : node.task,
    })),
  ];
  const known = new Set(graph.nodes.map((n) => n.name));
  const edges: GraphEdge[] = [];
  for (const node of graph.nodes) {
    const deps = new Set(node.deps);
    if (node.over) deps.add(node.over);
    for (const dep of deps) {
      // A name that is both a param and a node cannot happen; a node wins if it did.
      const source = known.has(dep) ? dep : params.has(dep) ? paramId(dep) : null;
      if (source) edges.push({ source, target: node.name });
    }
  }
  return { nodes, edges };
}
