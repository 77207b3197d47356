/** The concurrency slot a unit of work takes, shared by every runner. */
import type { NodeSpec } from './pipeline.js';

/**
 * The limiter key for running `node` on `unitInput` (its item for a map, else its dependency
 * object), or null when the node has no concurrency limit. Nodes running the same task share
 * the task's slots.
 */
export function concurrencySlot(
  pipeline: string,
  node: NodeSpec,
  unitInput: unknown,
): string | null {
  const p = node.policy;
  if (p.concurrency === null) return null;
  const base = node.task !== null ? `task:${node.task}` : `node:${pipeline}.${node.name}`;
  return p.concurrencyKey ? `${base}:${p.concurrencyKey(unitInput)}` : base;
}
