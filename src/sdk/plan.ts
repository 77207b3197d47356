/** Which nodes a run needs: the requested outputs and their upstream, cut at overridden nodes. */
import { ConfigError } from '../core/errors.js';
import { suggestName, upstreamOf, type PipelineSpec } from './pipeline.js';

export interface RunPlan {
  /** Nodes to compute, in topological order. */
  nodes: string[];
  /** Overridden nodes that something in the plan reads. */
  overridden: string[];
  /** The outputs asked for. */
  outputs: string[];
}

export function planRun(
  spec: PipelineSpec,
  outputs: readonly string[] | undefined,
  overrides: readonly string[],
): RunPlan {
  for (const o of overrides) {
    if (!spec.nodes.has(o)) {
      throw new ConfigError(
        'unknown_node',
        `pipeline ${spec.name}: cannot override "${o}": no such node${suggestName(o, spec.nodes.keys())}`,
      );
    }
  }
  const wanted = outputs ?? spec.defaultOutputs;
  if (outputs) {
    for (const o of outputs) {
      if (!spec.nodes.has(o)) {
        throw new ConfigError(
          'unknown_node',
          `pipeline ${spec.name}: unknown output "${o}"${suggestName(o, spec.nodes.keys())}; outputs are node names`,
        );
      }
    }
  }
  const overridden = new Set(overrides);
  const needed = new Set<string>();
  const usedOverrides = new Set<string>();
  const stack = [...wanted];
  while (stack.length) {
    const n = stack.pop()!;
    if (overridden.has(n)) {
      usedOverrides.add(n);
      continue;
    }
    if (needed.has(n)) continue;
    needed.add(n);
    for (const up of upstreamOf(spec.nodes.get(n)!)) if (spec.nodes.has(up)) stack.push(up);
  }
  return {
    nodes: spec.order.filter((n) => needed.has(n)),
    overridden: spec.order.filter((n) => usedOverrides.has(n)),
    outputs: [...wanted],
  };
}
