/**
 * Runs planned from what workers registered (`DefinitionRecord`) rather than from code: a
 * server that never loads user code triggers pipelines and workflows with these, and retries
 * or re-runs part of a finished pipeline run as a new run that reads the rest of its values
 * from the original.
 */
import { fromJSONSchema, type z } from 'zod';
import { decode, encode, type Encoded } from '../core/codec.js';
import { ConfigError } from '../core/errors.js';
import { validateInput } from '../sdk/params.js';
import { suggestName } from '../sdk/pipeline.js';
import type { Store } from '../store/contract/store.js';
import type { DefinitionRecord, NewStep, RunRecord, StepRecord } from '../store/contract/types.js';
import { WORKFLOW_STEP_KEY } from '../store/contract/types.js';
import type { NodeDescription, PipelineGraph, WorkflowGraph } from './describe.js';
import type { PlannedRun } from './run-plan.js';

/** The input schemas of registered definitions, rebuilt from their JSON Schema once per code. */
const schemas = new Map<string, z.ZodType | null>();

/**
 * The zod schema of a registered definition's input, rebuilt from its JSON Schema, or null
 * when it registered none. Throws a ConfigError when the JSON Schema can't be rebuilt.
 */
export function registeredSchema(
  record: Pick<DefinitionRecord, 'name' | 'kind' | 'codeHash' | 'inputSchema'>,
): z.ZodType | null {
  const key = `${record.name}\0${record.codeHash}`;
  if (schemas.has(key)) return schemas.get(key)!;
  let schema: z.ZodType | null = null;
  if (record.inputSchema !== null && record.inputSchema !== undefined) {
    try {
      schema = fromJSONSchema(record.inputSchema as Parameters<typeof fromJSONSchema>[0]);
    } catch (error) {
      throw new ConfigError(
        'schema_unsupported',
        `${record.kind} ${record.name}: its input schema has no JSON Schema form this server can check (${(error as Error).message}); trigger it where its code runs (weft run, or a worker's process)`,
      );
    }
  }
  if (schemas.size > 1000) schemas.clear();
  schemas.set(key, schema);
  return schema;
}

/** Whether the registered graph says the input's schema needs the code to check it. */
function inputNeedsCode(record: Pick<DefinitionRecord, 'graph'>): boolean {
  return (record.graph as { inputNeedsCode?: boolean } | null)?.inputNeedsCode === true;
}

/** Whether {@link registeredSchema} can check this definition's input. */
export function canCheckInput(
  record: Pick<DefinitionRecord, 'name' | 'kind' | 'codeHash' | 'inputSchema' | 'graph'>,
): boolean {
  if (inputNeedsCode(record)) return false;
  try {
    registeredSchema(record);
    return true;
  } catch {
    return false;
  }
}

export interface RegisteredPlanOptions {
  params?: unknown;
  outputs?: readonly string[];
  priority: number;
}

/**
 * Validates the input against the registered schema and plans the steps, as `planPipelineRun`
 * and `planWorkflowRun` do from code.
 */
export function planRegistered(
  record: DefinitionRecord,
  options: RegisteredPlanOptions,
): PlannedRun {
  if (inputNeedsCode(record)) {
    throw new ConfigError(
      'needs_code',
      `${record.kind} ${record.name}: its input schema transforms the input (or holds dates), which only its code can do; trigger it where the code runs (weft dev, weft run, or an engine's submit)`,
    );
  }
  const schema = registeredSchema(record);
  if (record.kind === 'workflow') {
    if (options.outputs) {
      throw new ConfigError(
        'invalid_option',
        `workflow ${record.name}: outputs apply to pipelines only`,
      );
    }
    const input = validateInput(`workflow ${record.name}: invalid input`, schema, options.params);
    return { input, steps: workflowSteps(record, options.priority) };
  }
  const graph = record.graph as PipelineGraph;
  const input = validateInput(`pipeline ${record.name}: invalid params`, schema, options.params);
  return {
    input,
    steps: planGraph(record.name, graph, options.outputs, new Map(), options.priority),
  };
}

/** The one step of a workflow run: its `$run` step, with the workflow's labels. */
export function workflowSteps(record: DefinitionRecord, priority: number): NewStep[] {
  const graph = record.graph as WorkflowGraph;
  return [
    {
      key: WORKFLOW_STEP_KEY,
      node: record.name,
      dependsOn: [],
      kind: 'run',
      priority,
      ...(graph.labels.length ? { labels: [...graph.labels] } : {}),
    },
  ];
}

/**
 * The steps of a pipeline run from its registered graph: one per node the outputs need (the
 * default outputs when none are asked for), cut at the overridden nodes, which are inserted
 * with their values.
 */
export function planGraph(
  name: string,
  graph: PipelineGraph,
  outputs: readonly string[] | undefined,
  overrides: ReadonlyMap<string, Encoded>,
  priority: number,
): NewStep[] {
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  for (const o of outputs ?? []) {
    if (!nodes.has(o)) {
      throw new ConfigError(
        'unknown_node',
        `pipeline ${name}: unknown output "${o}"${suggestName(o, nodes.keys())}; outputs are node names`,
      );
    }
  }
  const wanted = outputs?.length ? outputs : graph.defaultOutputs;
  const needed = new Set<string>();
  const usedOverrides = new Set<string>();
  const stack = [...wanted];
  while (stack.length) {
    const n = stack.pop()!;
    if (overrides.has(n)) {
      usedOverrides.add(n);
      continue;
    }
    if (needed.has(n)) continue;
    needed.add(n);
    for (const up of nodes.get(n)!.deps) if (nodes.has(up)) stack.push(up);
  }
  const known = new Set([...needed, ...usedOverrides]);
  const steps: NewStep[] = [];
  for (const node of graph.nodes) {
    if (!usedOverrides.has(node.name)) continue;
    steps.push({
      key: node.name,
      node: node.name,
      dependsOn: [],
      override: overrides.get(node.name)!,
    });
  }
  for (const node of graph.nodes) {
    if (!needed.has(node.name)) continue;
    steps.push({
      key: node.name,
      node: node.name,
      dependsOn: node.deps.filter((d) => known.has(d)),
      priority: priority + nodePriority(node),
      ...(node.labels.length ? { labels: [...node.labels] } : {}),
    });
  }
  return steps;
}

/** A node's own priority, registered by workers since priorities were added to the graph. */
function nodePriority(node: NodeDescription): number {
  return (node as NodeDescription & { priority?: number }).priority ?? 0;
}

export interface RerunPlan {
  /** Encoded input of the new run (the original's). */
  input: Encoded;
  steps: NewStep[];
  /** The nodes the new run computes. */
  nodes: string[];
}

/**
 * A new run of a finished pipeline run's definition that computes `nodes`, everything
 * downstream of them, and whatever did not succeed in the original; every other node it needs
 * is read from the original run (an override with the original's value). With no `nodes`
 * (a retry) that is the failed, skipped and cancelled nodes and what follows them.
 */
export async function planRerun(
  store: Store,
  record: DefinitionRecord,
  run: RunRecord,
  nodes: readonly string[],
): Promise<RerunPlan> {
  if (record.kind !== 'pipeline') {
    throw new ConfigError(
      'invalid_rerun',
      `run ${run.id} is a workflow run: nodes can be re-run in pipeline runs only; retry it to run the workflow again`,
    );
  }
  const graph = record.graph as PipelineGraph;
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const steps = await store.listSteps(run.id);
  const top = new Map<string, StepRecord>();
  for (const s of steps) if (s.parentKey === null) top.set(s.key, s);
  for (const n of nodes) {
    if (!byName.has(n)) {
      throw new ConfigError(
        'unknown_node',
        `pipeline ${record.name} has no node "${n}"${suggestName(n, byName.keys()) || `; its nodes: ${[...byName.keys()].join(', ')}`}`,
      );
    }
  }
  const outputs = run.outputs.length ? run.outputs : graph.defaultOutputs;
  // The nodes the original run's plan holds, as planned again from the graph (overrides of the
  // original stay overrides: their steps are `succeeded` with origin `override`).
  const plan = new Set<string>();
  const stack = [...outputs];
  while (stack.length) {
    const n = stack.pop()!;
    if (plan.has(n) || !byName.has(n)) continue;
    plan.add(n);
    if (top.get(n)?.origin === 'override') continue;
    for (const d of byName.get(n)!.deps) if (byName.has(d)) stack.push(d);
  }
  const done = (n: string) => {
    const s = top.get(n);
    return s !== undefined && (s.status === 'succeeded' || s.status === 'cached');
  };
  const compute = new Set<string>(nodes);
  for (const n of plan) if (!done(n)) compute.add(n);
  if (compute.size === 0) {
    throw new ConfigError(
      'nothing_to_retry',
      `run ${run.id} has no failed nodes; to compute nodes again, re-run them (POST /api/runs/${run.id}/rerun with { "nodes": [...] })`,
    );
  }
  // Everything downstream of a node computed again is computed again.
  let grew = true;
  while (grew) {
    grew = false;
    for (const node of graph.nodes) {
      if (compute.has(node.name) || !plan.has(node.name)) continue;
      if (node.deps.some((d) => compute.has(d))) {
        compute.add(node.name);
        grew = true;
      }
    }
  }
  // Read from the original: the outputs not computed again, and what computed nodes read.
  const reuse = new Set<string>();
  for (const o of outputs) if (plan.has(o) && !compute.has(o)) reuse.add(o);
  for (const n of compute) {
    for (const d of byName.get(n)?.deps ?? []) if (plan.has(d) && !compute.has(d)) reuse.add(d);
  }
  const overrides = new Map<string, Encoded>();
  for (const n of reuse)
    overrides.set(n, await originalValue(store, run.id, top.get(n)!, byName.get(n)!));
  const planned = planGraph(
    record.name,
    graph,
    run.outputs.length ? run.outputs : undefined,
    overrides,
    run.priority,
  );
  return {
    input: run.input,
    steps: planned,
    nodes: planned.filter((s) => s.override === undefined).map((s) => s.key),
  };
}

/** A succeeded node's value in a run, encoded: a map's is the array of its items' outputs. */
async function originalValue(
  store: Store,
  runId: string,
  step: StepRecord,
  node: NodeDescription,
): Promise<Encoded> {
  if (node.kind !== 'map' || step.output !== null)
    return step.output ?? encode(undefined, step.key);
  const items = await store.getItemOutputs(runId, step.key);
  return encode(
    items.map((text) => (text === null ? undefined : decode(text))),
    `output of ${step.key}`,
  );
}

/**
 * Checks params against a registered definition's schema (a schedule made through the API) and
 * gives back what the check made of them; an InputError names each field. A schema that needs
 * the code to check is left to the run (the params come back as they are).
 */
export function checkRegisteredInput(record: DefinitionRecord, params: unknown): unknown {
  if (inputNeedsCode(record)) return params;
  const what = record.kind === 'workflow' ? 'input' : 'params';
  return validateInput(
    `${record.kind} ${record.name}: invalid ${what}`,
    registeredSchema(record),
    params,
  );
}
