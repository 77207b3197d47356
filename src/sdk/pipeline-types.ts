/**
 * The type-level half of pipelines: what each node outputs, what it asks for, and the check
 * that makes a mis-wired pipeline a compile error.
 */
import type { MapNode, ConfiguredNode } from './pipeline.js';
import type { Task } from './task.js';
import type { TaskContext } from './context.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- type-level matching needs `any` */
export type AnyNodeFn = (deps: any, ctx: TaskContext) => unknown;

/** Anything that can stand as a node in a Hamilton-style module of nodes. */
export type NodeValue =
  AnyNodeFn | Task<any, any> | MapNode<string, any, any, any> | ConfiguredNode<any, any>;

/** The value a node produces (promises unwrapped). */
export type OutputOf<V> =
  V extends MapNode<string, any, any, infer R>
    ? R
    : V extends ConfiguredNode<any, infer R>
      ? R
      : V extends (...args: any[]) => infer R
        ? Awaited<R>
        : never;

/** The dependency object a node asks for. */
export type DepsOf<V> =
  V extends MapNode<infer Over, infer Item, infer D, any>
    ? D & { [K in Over]: readonly Item[] }
    : V extends ConfiguredNode<infer D, any>
      ? D
      : V extends (deps: infer D, ...rest: any[]) => unknown
        ? D
        : never;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Keys of a module that are nodes: node values whose name doesn't start with `_`. */
export type NodeKeys<N> = {
  [K in keyof N]: K extends `_${string}` ? never : N[K] extends NodeValue ? K : never;
}[keyof N] &
  string;

/** The outputs of every node of a Hamilton-style module, by node name. */
export type OutputsOf<N> = { [K in NodeKeys<N>]: OutputOf<N[K]> };

type RequiredKeys<D> = {
  [K in keyof D]-?: object extends Pick<D, K> ? never : K;
}[keyof D];

type Missing<D, A> = Exclude<RequiredKeys<D>, keyof A> & string;

type Mismatched<D, A> = {
  [K in keyof D & keyof A]-?: A[K] extends D[K] ? never : K;
}[keyof D & keyof A] &
  string;

declare const wiringError: unique symbol;

/** What a wrongly wired node must also be, so the compiler prints the reason. */
export interface WiringError<Message extends string> {
  readonly [wiringError]: Message;
}

type CheckNode<K extends string, V, A> =
  unknown extends DepsOf<V>
    ? unknown
    : [Missing<DepsOf<V>, A>] extends [never]
      ? [Mismatched<DepsOf<V>, A>] extends [never]
        ? unknown
        : WiringError<`node "${K}": the type of dependency "${Mismatched<DepsOf<V>, A>}" does not match what that node or param provides`>
      : WiringError<`node "${K}" depends on "${Missing<DepsOf<V>, A>}", which is no node or param of this pipeline`>;

/**
 * Maps each node to `unknown` when its wiring is right, or to a {@link WiringError} naming
 * the problem. Intersected with the module, a wrong node fails to type-check.
 */
export type WiringCheck<N, P> = {
  [K in NodeKeys<N>]: CheckNode<K, N[K], Omit<OutputsOf<N> & P, K>>;
};
