/**
 * What a worker registers about each definition it runs (`Store.registerDefinitions`): its
 * graph, the JSON Schema of its input, its labels and a hash of its code. Servers and the UI
 * read these rows, so they can draw a pipeline and validate a trigger form without loading
 * user code; two workers whose hashes differ run different code under one name.
 */
import { createHash } from 'node:crypto';
import { toJSONSchema, type z } from 'zod';
import { upstreamOf, type PipelineSpec } from '../sdk/pipeline-spec.js';
import { layoutSource } from '../sdk/source-format.js';
import type { DefinitionRecord, PipelineGraph, WorkflowGraph } from '../store/contract/types.js';
import type { Definition, Registry } from './registry.js';

export type {
  NodeDescription,
  PipelineGraph,
  RegisteredEventTrigger,
  WorkflowGraph,
} from '../store/contract/types.js';

export function describeDefinitions(registry: Registry, now: number): DefinitionRecord[] {
  return registry.names().map((name) => describeDefinition(registry.get(name), now));
}

export function describeDefinition(definition: Definition, now: number): DefinitionRecord {
  if (definition.kind === 'pipeline') {
    const graph = pipelineGraph(definition.spec);
    const labels = [...new Set(graph.nodes.flatMap((n) => n.labels))].sort();
    return {
      name: definition.name,
      kind: 'pipeline',
      graph,
      inputSchema: jsonSchema(definition.spec.params),
      codeHash: hash(graph),
      labels,
      registeredAt: now,
    };
  }
  const graph: WorkflowGraph = {
    kind: 'workflow',
    description: definition.description ?? null,
    labels: [...definition.policy.labels],
    retries: definition.policy.maxAttempts - 1,
    timeoutMs: definition.policy.timeoutMs,
    source: layoutSource(definition.fn.toString()),
    inputNeedsCode: needsCode(definition.input),
    ...(definition.maxActiveRuns === undefined ? {} : { maxActiveRuns: definition.maxActiveRuns }),
  };
  return {
    name: definition.name,
    kind: 'workflow',
    graph,
    inputSchema: jsonSchema(definition.input),
    codeHash: hash(graph),
    labels: graph.labels,
    registeredAt: now,
  };
}

function pipelineGraph(spec: PipelineSpec): PipelineGraph {
  return {
    kind: 'pipeline',
    description: spec.description ?? null,
    params: spec.paramNames,
    nodes: spec.order.map((name) => {
      const node = spec.nodes.get(name)!;
      return {
        name,
        kind: node.kind,
        deps: upstreamOf(node),
        over: node.over,
        task: node.task,
        description: node.description ?? null,
        labels: [...node.policy.labels],
        retries: node.policy.maxAttempts - 1,
        timeoutMs: node.policy.timeoutMs,
        concurrency: node.policy.concurrency,
        priority: node.policy.priority,
        source: layoutSource(node.source),
      };
    }),
    defaultOutputs: spec.defaultOutputs,
    failFast: spec.failFast,
    inputNeedsCode: needsCode(spec.params),
    // Set only when declared, so the graph (and its hash) of other pipelines stays as it was.
    ...(spec.partitions === undefined ? {} : { partitions: spec.partitions }),
    ...(spec.maxActiveRuns === undefined ? {} : { maxActiveRuns: spec.maxActiveRuns }),
  };
}

/** The input's JSON Schema, or null when there is no schema or it has no JSON form. */
function jsonSchema(schema: z.ZodType | null): unknown {
  if (schema === null) return null;
  try {
    // `io: 'input'`: what a caller sends, before defaults and transforms apply.
    return toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  } catch {
    return null;
  }
}

/**
 * Whether checking an input against the schema's JSON form could accept what the schema
 * itself would turn into something else: a transform (or a default applied after one), a
 * `Date`, anything JSON Schema can't say of the parsed value. Such an input is checked only
 * where the code runs; a server without it refuses to trigger the definition.
 */
function needsCode(schema: z.ZodType | null): boolean {
  if (schema === null) return false;
  try {
    toJSONSchema(schema, { io: 'output', unrepresentable: 'throw' });
    return false;
  } catch {
    return true;
  }
}

function hash(graph: PipelineGraph | WorkflowGraph): string {
  return createHash('sha256').update(JSON.stringify(graph)).digest('hex').slice(0, 16);
}
