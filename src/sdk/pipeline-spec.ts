/**
 * The runtime model every pipeline compiles to, whichever style it was written in, and the
 * checks a definition passes when it is loaded: names, missing dependencies (with a "did you
 * mean"), a node named like a param, cycles (the error shows the cycle). The result carries a
 * topological order and the reverse edges both runners use.
 */
import type { z } from 'zod';
import { DefinitionError } from '../core/errors.js';
import { checkPartitionsSpec, firstPartitionKey, type PartitionsSpec } from '../core/partitions.js';
import type { Policy } from '../core/policy.js';
import type { TaskContext } from './context.js';
import { checkMaxActiveRuns } from './partitions.js';
import { checkName } from './task.js';

/** One input of a node: the property `as` of its dependency object comes from node/param `from`. */
export interface NodeInput {
  as: string;
  from: string;
  optional: boolean;
}

export interface NodeSpec {
  name: string;
  kind: 'node' | 'map';
  inputs: NodeInput[];
  /** `kind: 'node'`: the function, called with the dependency object. */
  fn: (input: Record<string, unknown>, ctx: TaskContext) => unknown;
  /** `kind: 'map'`: the node or param whose list is mapped over. */
  over: string | null;
  /** `kind: 'map'` nested: the inner list of each outer item. */
  each: ((item: unknown) => readonly unknown[]) | null;
  /** `kind: 'map'`: the function called per item. */
  item: ((item: unknown, input: Record<string, unknown>, ctx: TaskContext) => unknown) | null;
  policy: Policy;
  /** Name of the task this node runs, whose concurrency limit it shares. */
  task: string | null;
  description: string | undefined;
  /** The function's source, shown in the UI. */
  source: string;
}

export interface PipelineSpec {
  name: string;
  params: z.ZodType | null;
  paramNames: string[];
  nodes: Map<string, NodeSpec>;
  /** Node names in a topological order (dependencies first, definition order otherwise). */
  order: string[];
  /** What a run computes when no outputs are asked for: every node (Hamilton style), or the
   *  references the build function returned (explicit style). */
  defaultOutputs: string[];
  /** Per node, the nodes that depend on it. */
  dependents: Map<string, string[]>;
  failFast: boolean;
  description: string | undefined;
  /** The partitions its runs compute (`params[partitions.param]` is a run's key), if any. */
  partitions?: PartitionsSpec;
  /** Most runs active at once, if limited. */
  maxActiveRuns?: number;
}

/** Upstream names of a node: its inputs plus, for a map, the list it maps over. */
export function upstreamOf(node: NodeSpec): string[] {
  const names = node.inputs.map((i) => i.from);
  if (node.over !== null && !names.includes(node.over)) names.push(node.over);
  return names;
}

/** What a spec is built from: the params schema and the pipeline-wide options. */
export interface SpecOptions {
  params?: z.ZodType;
  failFast?: boolean;
  description?: string;
  partitions?: PartitionsSpec;
  maxActiveRuns?: number;
}

export function paramNamesOf(pipelineName: string, schema: z.ZodType | undefined): string[] {
  if (!schema) return [];
  const shape = (schema as unknown as { shape?: unknown }).shape;
  if (typeof shape !== 'object' || shape === null) {
    throw new DefinitionError(
      'invalid_params',
      pipelineName,
      [],
      `pipeline ${pipelineName}: params must be a zod object schema, e.g. z.object({ day: z.string() })`,
    );
  }
  return Object.keys(shape);
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [
    i,
    ...new Array<number>(b.length).fill(0),
  ]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i]![j] = Math.min(
        dp[i - 1]![j]! + 1,
        dp[i]![j - 1]! + 1,
        dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  }
  return dp[a.length]![b.length]!;
}

/** "; did you mean orders?" when a known name is close to `name`. */
export function suggestName(name: string, known: Iterable<string>): string {
  let best: string | null = null;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best ? `; did you mean "${best}"?` : '';
}

export function finishSpec(
  name: string,
  nodes: Map<string, NodeSpec>,
  options: SpecOptions,
  defaultOutputs: string[] | null,
): PipelineSpec {
  const paramNames = paramNamesOf(name, options.params);
  if (nodes.size === 0) {
    throw new DefinitionError('empty_pipeline', name, [], `pipeline ${name} has no nodes`);
  }
  for (const n of nodes.keys()) checkName('node', n);
  const clashes = paramNames.filter((p) => nodes.has(p));
  if (clashes.length) {
    throw new DefinitionError(
      'name_clash',
      name,
      clashes,
      `pipeline ${name}: ${clashes.map((c) => `"${c}"`).join(', ')} is both a node and a param; rename the node or the param`,
    );
  }
  const known = new Set([...nodes.keys(), ...paramNames]);
  const missing: string[] = [];
  for (const spec of nodes.values()) {
    spec.inputs = spec.inputs.filter((i) => known.has(i.from) || !i.optional);
    for (const up of upstreamOf(spec)) {
      if (!known.has(up)) {
        missing.push(
          // A node is never a valid dependency of itself, so it is no suggestion either.
          `node "${spec.name}" depends on "${up}", which is no node or param${suggestName(
            up,
            [...known].filter((k) => k !== spec.name),
          )}`,
        );
      }
      if (up === spec.name) {
        throw new DefinitionError(
          'cycle',
          name,
          [spec.name],
          `pipeline ${name}: node "${spec.name}" depends on itself`,
        );
      }
    }
  }
  if (missing.length) {
    throw new DefinitionError(
      'missing_dependency',
      name,
      missing.map((m) => m.split('"')[1]!),
      `pipeline ${name}: ${missing.join('; ')}`,
    );
  }
  const dependents = new Map<string, string[]>([...nodes.keys()].map((n) => [n, []]));
  for (const spec of nodes.values()) {
    for (const up of upstreamOf(spec)) dependents.get(up)?.push(spec.name);
  }
  const order = topologicalOrder(name, nodes);
  const maxActiveRuns = checkMaxActiveRuns(`pipeline ${name}`, options.maxActiveRuns);
  return {
    name,
    params: options.params ?? null,
    paramNames,
    nodes,
    order,
    dependents,
    defaultOutputs: defaultOutputs ?? order,
    failFast: options.failFast ?? false,
    description: options.description,
    ...(options.partitions === undefined
      ? {}
      : { partitions: checkPartitions(name, options.partitions, options.params, paramNames) }),
    ...(maxActiveRuns === undefined ? {} : { maxActiveRuns }),
  };
}

/**
 * The partitions option, checked: a valid spec (a ConfigError otherwise), whose param is one of
 * the pipeline's and whose schema takes the keys (a DefinitionError otherwise). Only the first
 * key of a time spec is tried against the schema: they all share its format.
 */
function checkPartitions(
  name: string,
  spec: unknown,
  schema: z.ZodType | undefined,
  paramNames: string[],
): PartitionsSpec {
  checkPartitionsSpec(spec, `pipeline ${name}: partitions`);
  const param = spec.param;
  if (!paramNames.includes(param)) {
    throw new DefinitionError(
      'invalid_partitions',
      name,
      [param],
      paramNames.length === 0
        ? `pipeline ${name}: the partition param "${param}" is not declared; add it to the params: params: z.object({ ${param}: z.string() })`
        : `pipeline ${name}: the partition param "${param}" is no param of this pipeline${suggestName(param, paramNames)}; its params: ${paramNames.join(', ')}`,
    );
  }
  const field = (schema as unknown as { shape: Record<string, z.ZodType> }).shape[param]!;
  const samples = spec.kind === 'static' ? spec.keys : [firstPartitionKey(spec)];
  for (const key of samples) {
    let result: ReturnType<z.ZodType['safeParse']>;
    try {
      result = field.safeParse(key);
    } catch {
      return spec; // An async refinement: only a run can check it.
    }
    if (!result.success) {
      throw new DefinitionError(
        'invalid_partitions',
        name,
        [param],
        `pipeline ${name}: the partition param "${param}" does not accept the partition key "${key}" (${result.error.issues[0]?.message ?? 'invalid'}); declare it as a string: ${param}: z.string()`,
      );
    }
  }
  return spec;
}

function topologicalOrder(name: string, nodes: Map<string, NodeSpec>): string[] {
  // Iterative depth-first search: a 10,000-node chain must not overflow the call stack.
  const state = new Map<string, 'visiting' | 'done'>();
  const order: string[] = [];
  for (const root of nodes.keys()) {
    if (state.has(root)) continue;
    const path: { node: string; ups: string[]; next: number }[] = [];
    const enter = (n: string) => {
      state.set(n, 'visiting');
      path.push({ node: n, ups: upstreamOf(nodes.get(n)!).filter((u) => nodes.has(u)), next: 0 });
    };
    enter(root);
    while (path.length) {
      const top = path[path.length - 1]!;
      if (top.next < top.ups.length) {
        const up = top.ups[top.next++]!;
        const s = state.get(up);
        if (s === 'visiting') {
          const names = path.map((f) => f.node);
          const cycle = [...names.slice(names.indexOf(up)), up];
          throw new DefinitionError(
            'cycle',
            name,
            cycle.slice(0, -1),
            `pipeline ${name} has a cycle: ${cycle.join(' → ')}; break it by removing one of these dependencies`,
          );
        }
        if (s === undefined) enter(up);
      } else {
        path.pop();
        state.set(top.node, 'done');
        order.push(top.node);
      }
    }
  }
  return order;
}
