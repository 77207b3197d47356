/**
 * A pipeline's graph with React Flow, laid out by dagre. The layout is memoised on the graph's
 * structure; statuses, progress and the selection only change node data, so a live run repaints
 * without laying out again. The container carries `data-ready` once laid out and painted, with
 * the time each took (`data-layout-ms`, `data-render-ms`) for the benchmark.
 */
import {
  Background,
  Controls,
  ReactFlow,
  type Edge,
  type Node,
  type NodeMouseHandler,
  useReactFlow,
  useStore,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useEffect, useMemo, useRef, useState } from 'react';
import { nodeTypes, type StepNodeData } from './GraphNodes.js';
import { layoutGraph, type Direction, type Positioned } from './layout.js';
import type { GraphEdge, GraphNode, MapProgress, NodeStatuses } from './model.js';

/**
 * Above this many nodes, only what is in view is rendered, and the first view is a corner. Up
 * to it the whole graph is drawn and fitted: 500 nodes lay out and render in well under a
 * second (bench/README.md, "Server and UI").
 */
const VIRTUALIZE_ABOVE = 600;

const FIT_OPTIONS = { padding: 0.15, maxZoom: 1.1 };
/**
 * A large graph opens on its first node at a readable zoom, rather than all of it at a zoom
 * where nothing can be read (and every node must be drawn); the controls zoom out.
 */
const LARGE_ZOOM = 0.75;

function firstNodeViewport(positions: Map<string, Positioned>, direction: Direction) {
  // The first node along the layout's direction (then across it): where the graph starts.
  const key = (p: Positioned): [number, number] => (direction === 'TB' ? [p.y, p.x] : [p.x, p.y]);
  let first: Positioned | null = null;
  for (const p of positions.values()) {
    if (!first) {
      first = p;
      continue;
    }
    const [a, b] = key(p);
    const [fa, fb] = key(first);
    if (a < fa || (a === fa && b < fb)) first = p;
  }
  if (!first) return { x: 0, y: 0, zoom: 1 };
  return { x: 40 - first.x * LARGE_ZOOM, y: 60 - first.y * LARGE_ZOOM, zoom: LARGE_ZOOM };
}

/**
 * Fits a small graph again when its box changes size (a side panel appears, the window is
 * resized) or the layout changes: React Flow fits only once, at first render.
 */
function RefitOnResize({ layoutKey }: { layoutKey: unknown }) {
  const { fitView } = useReactFlow();
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  useEffect(() => {
    if (width <= 0 || height <= 0) return;
    // A frame later: the nodes of a new layout are in React Flow's store by then.
    const frame = requestAnimationFrame(() => void fitView(FIT_OPTIONS));
    return () => cancelAnimationFrame(frame);
  }, [fitView, width, height, layoutKey]);
  return null;
}

export interface DagGraphProps {
  nodes: readonly GraphNode[];
  edges: readonly GraphEdge[];
  statuses?: NodeStatuses;
  progress?: Readonly<Record<string, MapProgress>>;
  selected?: string | null;
  onSelect?: (nodeId: string) => void;
  direction?: Direction;
  height?: number | string;
}

export function DagGraph({
  nodes,
  edges,
  statuses,
  progress,
  selected = null,
  onSelect,
  direction: initialDirection = 'TB',
  height = 460,
}: DagGraphProps) {
  const [direction, setDirection] = useState<Direction>(initialDirection);
  const laidOutAt = useRef(0);
  const layout = useMemo(() => {
    const started = performance.now();
    const positions = layoutGraph(nodes, edges, direction);
    laidOutAt.current = performance.now();
    return { positions, ms: laidOutAt.current - started };
  }, [nodes, edges, direction]);

  const flowNodes = useMemo(
    () =>
      nodes.map((node): Node<StepNodeData> => {
        const at = layout.positions.get(node.id)!;
        const name = node.kind === 'param' ? node.label : node.id;
        return {
          id: node.id,
          type: node.kind === 'param' ? 'param' : node.kind === 'map' ? 'map' : 'step',
          position: { x: at.x, y: at.y },
          // Known sizes: React Flow can fit and cull nodes before it has measured them.
          width: at.width,
          height: at.height,
          draggable: false,
          connectable: false,
          selectable: node.kind !== 'param',
          data: {
            name,
            detail: node.detail ?? null,
            status: statuses?.[node.id] ?? null,
            progress: progress?.[node.id] ?? null,
            selected: selected === node.id,
            direction,
          },
        };
      }),
    [nodes, layout, statuses, progress, selected, direction],
  );

  const flowEdges = useMemo(
    () =>
      edges.map((edge): Edge => {
        const status = statuses?.[edge.source];
        const into = statuses?.[edge.target];
        return {
          id: `${edge.source}->${edge.target}`,
          source: edge.source,
          target: edge.target,
          className: status ? `edge-${status}` : undefined,
          animated: into === 'running',
        };
      }),
    [edges, statuses],
  );

  const [timing, setTiming] = useState<{ layoutMs: number; renderMs: number } | null>(null);
  useEffect(() => {
    // Two frames after the commit the graph has been painted: that is when it is "rendered".
    let second = 0;
    const first = requestAnimationFrame(() => {
      second = requestAnimationFrame(() => {
        setTiming(
          (t) => t ?? { layoutMs: layout.ms, renderMs: performance.now() - laidOutAt.current },
        );
      });
    });
    return () => {
      cancelAnimationFrame(first);
      cancelAnimationFrame(second);
    };
  }, [layout]);

  const large = nodes.length > VIRTUALIZE_ABOVE;
  const onNodeClick: NodeMouseHandler = (_event, node) => {
    if (node.type !== 'param') onSelect?.(node.id);
  };

  return (
    <div
      className="dag-graph"
      data-testid="dag-graph"
      data-ready={timing ? 'true' : 'false'}
      data-layout-ms={timing ? timing.layoutMs.toFixed(1) : undefined}
      data-render-ms={timing ? timing.renderMs.toFixed(1) : undefined}
      data-direction={direction}
      style={{ height }}
    >
      <ReactFlow
        nodes={flowNodes}
        edges={flowEdges}
        nodeTypes={nodeTypes}
        onNodeClick={onNodeClick}
        fitView={!large}
        fitViewOptions={FIT_OPTIONS}
        defaultViewport={large ? firstNodeViewport(layout.positions, direction) : undefined}
        minZoom={0.05}
        maxZoom={2}
        nodesDraggable={false}
        nodesConnectable={false}
        edgesFocusable={false}
        elementsSelectable
        onlyRenderVisibleElements={large}
        proOptions={{ hideAttribution: true }}
      >
        {!large && <RefitOnResize layoutKey={layout} />}
        <Background gap={20} size={1} />
        <Controls showInteractive={false} position="bottom-right" />
      </ReactFlow>
      <div className="dag-toolbar">
        <button
          type="button"
          className="chip"
          title="Switch the layout's direction"
          onClick={() => setDirection(direction === 'TB' ? 'LR' : 'TB')}
        >
          {direction === 'TB' ? '↓ top to bottom' : '→ left to right'}
        </button>
      </div>
    </div>
  );
}
