/**
 * What a new run carries besides its steps: the partition it computes (its partitioned
 * pipeline's partition param, checked against the partitions that exist) and its definition's
 * max active runs, read from the code or from the definition as registered.
 */
import { checkPartitionKey, type PartitionsSpec } from '../core/partitions.js';
import type { DefinitionRecord, PipelineGraph, WorkflowGraph } from '../store/contract/types.js';
import type { Definition } from './registry.js';

export interface RunGates {
  partition: string | null;
  maxActive: number | null;
}

interface GateSource {
  partitions: PartitionsSpec | undefined;
  maxActiveRuns: number | undefined;
}

function sourceOfDefinition(definition: Definition): GateSource {
  return definition.kind === 'pipeline'
    ? { partitions: definition.spec.partitions, maxActiveRuns: definition.spec.maxActiveRuns }
    : { partitions: undefined, maxActiveRuns: definition.maxActiveRuns };
}

function sourceOfRecord(record: DefinitionRecord): GateSource {
  const graph = record.graph as Partial<PipelineGraph> | Partial<WorkflowGraph>;
  return {
    partitions:
      record.kind === 'pipeline' ? (graph as Partial<PipelineGraph>).partitions : undefined,
    maxActiveRuns: graph.maxActiveRuns,
  };
}

/**
 * The gates of a run of `definition` (its code, or as registered) with the checked `input`: an
 * InputError when the input names a partition that does not exist at `now`.
 */
export function gatesOf(
  definition: Definition | DefinitionRecord,
  input: unknown,
  now: number,
): RunGates {
  const source =
    'graph' in definition ? sourceOfRecord(definition) : sourceOfDefinition(definition);
  let partition: string | null = null;
  if (source.partitions && input !== null && typeof input === 'object') {
    const key = (input as Record<string, unknown>)[source.partitions.param];
    if (key !== undefined && key !== null) {
      checkPartitionKey(source.partitions, key, now);
      partition = key as string; // checked: a key is a string
    }
  }
  return { partition, maxActive: source.maxActiveRuns ?? null };
}
