export { DagGraph, type DagGraphProps } from './LazyDagGraph.js';
export {
  paramId,
  pipelineModel,
  type GraphEdge,
  type GraphModel,
  type GraphNode,
  type MapProgress,
  type NodeStatuses,
} from './model.js';
