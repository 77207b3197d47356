/**
 * What a new run consists of: its validated input and the steps to insert with it. A pipeline
 * run has one step per node its outputs need (overridden nodes pre-set); a workflow run has the
 * one `$run` step that runs its function.
 */
import { encode } from '../core/codec.js';
import { ConfigError } from '../core/errors.js';
import { validateInput } from '../sdk/params.js';
import { upstreamOf, type AnyPipeline } from '../sdk/pipeline.js';
import { planRun } from '../sdk/plan.js';
import type { AnyWorkflow } from '../sdk/workflow.js';
import { WORKFLOW_STEP_KEY, type NewStep } from '../store/contract/types.js';
import type { SubmitOptions } from './engine.js';

export interface PlannedRun {
  input: unknown;
  steps: NewStep[];
}

export function planPipelineRun(
  definition: AnyPipeline,
  options: SubmitOptions,
  priority: number,
): PlannedRun {
  const spec = definition.spec;
  const input = validateInput(`pipeline ${spec.name}: invalid params`, spec.params, options.params);
  const overrides = options.overrides ?? {};
  const plan = planRun(spec, options.outputs, Object.keys(overrides));
  const steps: NewStep[] = [];
  for (const name of plan.overridden) {
    steps.push({
      key: name,
      node: name,
      dependsOn: [],
      override: encode(overrides[name], `override of ${name}`),
    });
  }
  const known = new Set([...plan.nodes, ...plan.overridden]);
  for (const name of plan.nodes) {
    const node = spec.nodes.get(name)!;
    steps.push({
      key: name,
      node: name,
      dependsOn: upstreamOf(node).filter((u) => known.has(u)),
      priority: priority + node.policy.priority,
      ...(node.policy.labels.length ? { labels: [...node.policy.labels] } : {}),
    });
  }
  return { input, steps };
}

export function planWorkflowRun(
  definition: AnyWorkflow,
  options: SubmitOptions,
  priority: number,
): PlannedRun {
  if (options.outputs || options.overrides) {
    throw new ConfigError(
      'invalid_option',
      `workflow ${definition.name}: outputs and overrides apply to pipelines only`,
    );
  }
  const input = validateInput(
    `workflow ${definition.name}: invalid input`,
    definition.input,
    options.params,
  );
  const steps: NewStep[] = [
    {
      key: WORKFLOW_STEP_KEY,
      node: definition.name,
      dependsOn: [],
      kind: 'run',
      priority,
      ...(definition.policy.labels.length ? { labels: [...definition.policy.labels] } : {}),
    },
  ];
  return { input, steps };
}
