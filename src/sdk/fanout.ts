/**
 * Fan-out bookkeeping shared by the in-process runner and the durable engine: a map node's list
 * becomes items, each with a path (`[3]`, or `[3, 1]` when nested) and a step key
 * (`perRegion[3]`, `perStore[3][1]`); results are collected back in order.
 */
import { ConfigError } from '../core/errors.js';
import type { NodeSpec } from './pipeline.js';

export interface FanOut {
  items: unknown[];
  paths: number[][];
  /** Nested maps: the inner length of each outer item. */
  shape: number[] | null;
}

function asList(node: NodeSpec, value: unknown, what: string): readonly unknown[] {
  if (Array.isArray(value)) return value;
  if (value && typeof value === 'object' && Symbol.iterator in value) {
    return [...(value as Iterable<unknown>)];
  }
  throw new ConfigError(
    'not_a_list',
    `map "${node.name}": ${what} is ${value === null ? 'null' : typeof value}, not a list; a map node needs a list (array or iterable) to map over`,
  );
}

/** The items a map node runs over, given the value of its `over` dependency. */
export function expandFanOut(node: NodeSpec, overValue: unknown): FanOut {
  const outer = asList(node, overValue, `"${node.over}"`);
  if (!node.each) {
    return { items: [...outer], paths: outer.map((_, i) => [i]), shape: null };
  }
  const items: unknown[] = [];
  const paths: number[][] = [];
  const shape: number[] = [];
  outer.forEach((o, i) => {
    const inner = asList(node, node.each!(o), `each(item ${i})`);
    shape.push(inner.length);
    inner.forEach((x, j) => {
      items.push(x);
      paths.push([i, j]);
    });
  });
  return { items, paths, shape };
}

export function itemKey(node: string, path: readonly number[]): string {
  let key = node;
  for (const i of path) key += `[${i}]`;
  return key;
}

/** Rebuilds a map node's output from its item results (flat, in item order). */
export function collectFanOut(
  shape: readonly number[] | null,
  results: readonly unknown[],
): unknown[] {
  if (!shape) return [...results];
  const out: unknown[][] = [];
  let k = 0;
  for (const n of shape) {
    out.push(results.slice(k, k + n));
    k += n;
  }
  return out;
}

/** The dependency object of a node, read through `value(name)`. */
export function inputOf(node: NodeSpec, value: (name: string) => unknown): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const i of node.inputs) input[i.as] = value(i.from);
  return input;
}
