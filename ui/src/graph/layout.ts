/**
 * Layered layout with dagre: nodes get positions from their edges alone, so the result depends
 * only on the graph's structure (callers memoise it on that, not on statuses).
 */
import dagre from '@dagrejs/dagre';
import type { GraphEdge, GraphNode, GraphNodeKind } from './model.js';

export type Direction = 'TB' | 'LR';

export const NODE_SIZE: Record<GraphNodeKind, { width: number; height: number }> = {
  node: { width: 184, height: 52 },
  map: { width: 184, height: 60 },
  param: { width: 140, height: 32 },
};

export interface Positioned {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Above this many nodes, ranks come from dagre's `tight-tree` ranker instead of its default
 * network simplex: a little less compact, but network simplex alone takes over a second on a
 * 500-node graph.
 */
const FAST_RANKING_ABOVE = 120;
/** Above this many, the crossing reduction stops after its first ordering heuristic. */
const FAST_ORDERING_ABOVE = 300;

export function layoutGraph(
  nodes: readonly GraphNode[],
  edges: readonly GraphEdge[],
  direction: Direction,
): Map<string, Positioned> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({
    rankdir: direction,
    nodesep: 28,
    ranksep: direction === 'TB' ? 44 : 64,
    ...(nodes.length > FAST_RANKING_ABOVE ? { ranker: 'tight-tree' as const } : {}),
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) g.setNode(node.id, { ...NODE_SIZE[node.kind] });
  for (const edge of edges) {
    if (g.hasNode(edge.source) && g.hasNode(edge.target)) g.setEdge(edge.source, edge.target);
  }
  dagre.layout(g, { disableOptimalOrderHeuristic: nodes.length > FAST_ORDERING_ABOVE });
  const out = new Map<string, Positioned>();
  for (const node of nodes) {
    const laid = g.node(node.id) as { x: number; y: number; width: number; height: number };
    // dagre gives centres; React Flow wants top-left corners.
    out.set(node.id, {
      id: node.id,
      x: laid.x - laid.width / 2,
      y: laid.y - laid.height / 2,
      width: laid.width,
      height: laid.height,
    });
  }
  return out;
}
