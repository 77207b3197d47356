/**
 * The node components of `DagGraph`. They are kept light (no hooks but React Flow's handles,
 * memoised on their data) because a graph may have hundreds of them.
 */
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { UiStatus } from '../components/Badge.js';
import type { Direction } from './layout.js';
import type { MapProgress } from './model.js';

export interface StepNodeData extends Record<string, unknown> {
  name: string;
  detail: string | null;
  status: UiStatus | null;
  progress: MapProgress | null;
  selected: boolean;
  direction: Direction;
}

export type StepNode = Node<StepNodeData, 'step' | 'map'>;
export type ParamNode = Node<StepNodeData, 'param'>;

function Handles({ direction }: { direction: Direction }) {
  const [target, source] =
    direction === 'TB' ? [Position.Top, Position.Bottom] : [Position.Left, Position.Right];
  return (
    <>
      <Handle type="target" position={target} isConnectable={false} className="graph-handle" />
      <Handle type="source" position={source} isConnectable={false} className="graph-handle" />
    </>
  );
}

function classes(base: string, data: StepNodeData): string {
  return [base, data.status ? `st-${data.status}` : '', data.selected ? 'selected' : '']
    .filter(Boolean)
    .join(' ');
}

export const TaskNodeView = memo(function TaskNodeView({ data }: NodeProps<StepNode>) {
  return (
    <div
      className={classes('graph-node', data)}
      data-testid={`graph-node-${data.name}`}
      data-status={data.status ?? undefined}
      title={data.name}
    >
      <Handles direction={data.direction} />
      <span className="graph-node-dot" aria-hidden />
      <div className="graph-node-text">
        <div className="graph-node-name">{data.name}</div>
        {data.detail && <div className="graph-node-detail">{data.detail}</div>}
      </div>
    </div>
  );
});

export const MapNodeView = memo(function MapNodeView({ data }: NodeProps<StepNode>) {
  const { progress } = data;
  const pct = progress && progress.total > 0 ? (progress.done / progress.total) * 100 : 0;
  return (
    <div
      className={classes('graph-node graph-map', data)}
      data-testid={`graph-node-${data.name}`}
      data-status={data.status ?? undefined}
      data-kind="map"
      title={`${data.name} (fan-out)`}
    >
      <Handles direction={data.direction} />
      <span className="graph-map-stack" aria-hidden />
      <span className="graph-node-dot" aria-hidden />
      <div className="graph-node-text">
        <div className="graph-node-name">
          <span className="graph-map-glyph" aria-hidden>
            ⋔
          </span>
          {data.name}
        </div>
        <div className="graph-node-detail">
          {progress ? (
            <span data-testid={`map-progress-${data.name}`}>
              {progress.done}/{progress.total} items
              {progress.failed > 0 ? ` · ${progress.failed} failed` : ''}
            </span>
          ) : (
            data.detail
          )}
        </div>
      </div>
      {progress && (
        <div className="graph-map-bar" aria-hidden>
          <div style={{ width: `${pct}%` }} />
        </div>
      )}
    </div>
  );
});

export const ParamNodeView = memo(function ParamNodeView({ data }: NodeProps<ParamNode>) {
  return (
    <div className="graph-param" data-testid={`graph-param-${data.name}`} title="param">
      <Handles direction={data.direction} />
      <span className="graph-param-label">param</span>
      {data.name}
    </div>
  );
});

export const nodeTypes = { step: TaskNodeView, map: MapNodeView, param: ParamNodeView };
