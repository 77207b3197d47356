/**
 * The SDK: what users write. Imports nothing but `core`, so a pipeline file can be imported
 * anywhere (a test, a script, a worker) without starting anything.
 */
export { task, isTask, type Task, type TaskFn, type TaskOptions } from './task.js';
export {
  pipeline,
  node,
  map,
  isPipeline,
  type Pipeline,
  type PipelineBuilder,
  type PipelineSpec,
  type NodeSpec,
  type NodeOptions,
  type MapOptions,
  type Ref,
  type RunOptions,
  type ParamsOf,
  type PipelineOutputs,
  type AnyPipeline,
} from './pipeline.js';
export type { WiringCheck, WiringError, OutputsOf } from './pipeline-types.js';
export { runLocal, type RunEvent } from './local-run.js';
export type { TaskContext, Logger, LogLevel } from './context.js';
export {
  sensor,
  isSensor,
  type Sensor,
  type SensorOptions,
  type SensorContext,
  type SensorResult,
  type SensorRunRequest,
} from './sensor.js';
export {
  partitions,
  type PartitionsOn,
  type TimePartitionOptions,
  type Partition,
  type PartitionsSpec,
  type Granularity,
} from './partitions.js';
