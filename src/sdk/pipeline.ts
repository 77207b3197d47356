/**
 * Pipelines: DAGs of nodes whose wiring the compiler checks. Two styles, one model.
 *
 * Hamilton style — each function's destructured parameter names what it depends on:
 * ```ts
 * export const orders = ({ day }: { day: string }) => loadOrders(day);
 * export const cleaned = ({ orders }: { orders: Order[] }) => orders.filter(isValid);
 * const daily = pipeline('daily', { orders, cleaned }, { params: z.object({ day: z.string() }) });
 * ```
 * Explicit references — dependencies are typed references, so a rename is a refactor:
 * ```ts
 * const daily = pipeline('daily', { params: z.object({ day: z.string() }) }, (p) => {
 *   const orders = p.node('orders', { day: p.params.day }, ({ day }) => loadOrders(day));
 *   const cleaned = p.node('cleaned', { orders }, ({ orders }) => orders.filter(isValid));
 *   return { cleaned };
 * });
 * ```
 */
import type { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { ConfigError, DefinitionError } from '../core/errors.js';
import { resolvePolicy, type PolicyOptions } from '../core/policy.js';
import type { PartitionsSpec } from '../core/partitions.js';
import type { TaskContext } from './context.js';
import { readDestructuredDeps } from './deps-parser.js';
import {
  finishSpec,
  paramNamesOf,
  type NodeInput,
  type NodeSpec,
  type PipelineSpec,
} from './pipeline-spec.js';
import type { NodeKeys, OutputsOf, WiringCheck } from './pipeline-types.js';
import { checkName, isTask, type AnyTask } from './task.js';
import type { RunEvent } from './local-run.js';

// ---------------------------------------------------------------------------------------------
// The runtime model both styles compile to lives in pipeline-spec.ts.

export {
  suggestName,
  upstreamOf,
  type NodeInput,
  type NodeSpec,
  type PipelineSpec,
} from './pipeline-spec.js';

// ---------------------------------------------------------------------------------------------
// Hamilton-style helpers.

export interface NodeOptions extends PolicyOptions {
  /** Dependency names, for a function whose parameter isn't a destructured object. */
  deps?: readonly string[];
  description?: string;
}

export interface MapOptions extends NodeOptions {
  /** At most this many items of this map run at once. */
  concurrency?: number;
}

const NODE = Symbol.for('weft.node');

/** A function with options, as a node of a Hamilton-style module. */
export interface ConfiguredNode<D, R> {
  readonly [NODE]: 'node';
  readonly fn: (deps: D, ctx: TaskContext) => unknown;
  readonly options: NodeOptions;
  /** Phantom: the output type. */
  readonly __output?: R;
}

/** A fan-out node: `fn` runs once per item of `over`, each item its own step. */
export interface MapNode<Over extends string, Item, D, R> {
  readonly [NODE]: 'map';
  readonly over: Over;
  readonly fn: (item: never, deps: D, ctx: TaskContext) => unknown;
  readonly each: ((item: Item) => readonly unknown[]) | null;
  readonly options: MapOptions;
  /** Phantom: the item and output types. */
  readonly __types?: { item: Item; output: R };
}

/** Gives a Hamilton-style node options (retries, timeout, explicit `deps`). */
export function node<D, R>(
  options: NodeOptions,
  fn: (deps: D, ctx: TaskContext) => R,
): ConfiguredNode<D, Awaited<R>> {
  return { [NODE]: 'node', fn, options };
}

/**
 * A fan-out node over the list named `over`: `fn(item, deps, ctx)` runs per item, each item its
 * own step with its own retries; results come back in order. With `each`, every item of `over`
 * expands to a list of its own, and the result is a list of lists (nested fan-out).
 */
export function map<Over extends string, Item, D = unknown, R = unknown>(
  over: Over,
  fn: (item: Item, deps: D, ctx: TaskContext) => R,
  options?: MapOptions,
): MapNode<Over, Item, D, Awaited<R>[]>;
export function map<Over extends string, Item, Inner, D = unknown, R = unknown>(
  over: Over,
  fn: (item: Inner, deps: D, ctx: TaskContext) => R,
  options: MapOptions & { each: (item: Item) => readonly Inner[] },
): MapNode<Over, Item, D, Awaited<R>[][]>;
export function map(
  over: string,
  fn: (item: never, deps: never, ctx: TaskContext) => unknown,
  options: MapOptions & { each?: (item: never) => readonly unknown[] } = {},
): MapNode<string, unknown, unknown, unknown> {
  const { each, ...rest } = options;
  return {
    [NODE]: 'map',
    over,
    fn: fn as MapNode<string, unknown, unknown, unknown>['fn'],
    each: (each as ((item: unknown) => readonly unknown[]) | undefined) ?? null,
    options: rest,
  };
}

// ---------------------------------------------------------------------------------------------
// Explicit references.

/** A typed reference to a node or param of a pipeline under construction. */
export interface Ref<T, Name extends string = string> {
  readonly kind: 'ref';
  readonly name: Name;
  readonly owner: object;
  /** Phantom: the value type. */
  readonly __type?: T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any Ref, whatever its type
export type AnyRef = Ref<any, string>;
export type Resolve<D> = { [K in keyof D]: D[K] extends Ref<infer T, string> ? T : never };

export interface PipelineBuilder<P> {
  /** References to the params, typed by the params schema. */
  readonly params: { readonly [K in keyof P & string]-?: Ref<P[K], K> };
  /** Adds a node computed from `deps`. */
  node<const Name extends string, D extends Record<string, AnyRef>, R>(
    name: Name,
    deps: D,
    fn: (deps: Resolve<D>, ctx: TaskContext) => R,
    options?: NodeOptions,
  ): Ref<Awaited<R>, Name>;
  /** Adds a fan-out node: `fn` runs per item of `over`, each item its own step. */
  map<const Name extends string, T, D extends Record<string, AnyRef>, R>(
    name: Name,
    over: Ref<readonly T[]>,
    deps: D,
    fn: (item: T, deps: Resolve<D>, ctx: TaskContext) => R,
    options?: MapOptions,
  ): Ref<Awaited<R>[], Name>;
  /** Nested fan-out: every item of `over` expands to `each(item)`, and `fn` runs per inner item. */
  mapEach<const Name extends string, T, U, D extends Record<string, AnyRef>, R>(
    name: Name,
    over: Ref<readonly T[]>,
    each: (item: T) => readonly U[],
    deps: D,
    fn: (item: U, deps: Resolve<D>, ctx: TaskContext) => R,
    options?: MapOptions,
  ): Ref<Awaited<R>[][], Name>;
}

/** The outputs of an explicit pipeline: each returned reference, by its node name. */
export type OutputsOfRefs<R> = {
  [K in keyof R as R[K] extends Ref<unknown, infer Name> ? Name : never]: R[K] extends Ref<
    infer T,
    string
  >
    ? T
    : never;
};

// ---------------------------------------------------------------------------------------------
// The pipeline object.

export interface RunOptions<O, K extends keyof O> {
  /** Compute only these nodes (and what they need). Default: every node. */
  outputs?: readonly K[];
  /** Values to use instead of running these nodes; their upstream is not run. */
  overrides?: Partial<O> & Record<string, unknown>;
  /** Most steps running at once. Default 16. */
  concurrency?: number;
  /** Stop everything at the first failure instead of letting independent branches finish. */
  failFast?: boolean;
  /** Cancels the run. */
  signal?: AbortSignal;
  /** Time source for timeouts and retry backoff (tests pass a `ManualClock`). */
  clock?: Clock;
  /** Called on every node transition and log line. */
  onEvent?: (event: RunEvent) => void;
}

type RunArgs<PIn, O, K extends keyof O> = object extends PIn
  ? [params?: PIn, options?: RunOptions<O, K>]
  : [params: PIn, options?: RunOptions<O, K>];

const PIPELINE = Symbol.for('weft.pipeline');

export interface Pipeline<PIn, O> {
  readonly kind: 'pipeline';
  readonly name: string;
  readonly spec: PipelineSpec;
  /**
   * Runs the pipeline in this process, with no store: the way to unit-test it, and the fastest
   * way to run it. Policies (retries, timeouts, concurrency) apply. Rejects with a
   * `RunFailedError` listing the failed nodes.
   */
  run<K extends keyof O & string = keyof O & string>(
    ...args: RunArgs<PIn, O, K>
  ): Promise<Pick<O, K>>;
  /** Phantom: the params and outputs types. */
  readonly __types?: { params: PIn; outputs: O };
}

/** Any pipeline, whatever its params and outputs: what runners and registries hold. */
export interface AnyPipeline {
  readonly kind: 'pipeline';
  readonly name: string;
  readonly spec: PipelineSpec;
}
export type ParamsOf<T> = T extends Pipeline<infer P, Record<string, unknown>> ? P : never;
export type PipelineOutputs<T> = T extends Pipeline<never, infer O> ? O : never;

export function isPipeline(value: unknown): value is AnyPipeline {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[PIPELINE] === true
  );
}

interface PipelineOptions<S extends z.ZodType> {
  /** A zod schema of the params (an object schema); checked before any node runs. */
  params?: S;
  /** Stop everything at the first failure. Default false: independent branches keep running. */
  failFast?: boolean;
  description?: string;
  /**
   * The partitions its runs compute, one per run, named by a string param:
   * `partitions.daily({ param: 'day', start: '2026-01-01' })`, `partitions.static([…], { param })`.
   */
  partitions?: PartitionsSpec & { readonly param: ParamName<S> };
  /** Most runs active at once; more wait, held, until one finishes. Default: no limit. */
  maxActiveRuns?: number;
}

/** The name of a param of the schema `S` (any string without a schema: checked at load). */
type ParamName<S> = [S] extends [never]
  ? string
  : S extends z.ZodType
    ? keyof z.input<S> & string
    : string;

/** The params of a pipeline without a params schema: nothing to pass. */
export type NoParams = object;
type ParamsIn<S> = [S] extends [never] ? NoParams : S extends z.ZodType ? z.input<S> : NoParams;
type ParamsOut<S> = [S] extends [never] ? NoParams : S extends z.ZodType ? z.output<S> : NoParams;

/** Explicit references: `build` declares nodes through `p` and returns the outputs. */
export function pipeline<R extends Record<string, AnyRef>, S extends z.ZodType = never>(
  name: string,
  options: PipelineOptions<S>,
  build: (p: PipelineBuilder<ParamsOut<S>>) => R,
): Pipeline<ParamsIn<S>, OutputsOfRefs<R>>;
/** Hamilton style: every exported function of `nodes` is a node named by its key. */
export function pipeline<N extends object, S extends z.ZodType = never>(
  name: string,
  nodes: N & WiringCheck<N, ParamsOut<S>>,
  options?: PipelineOptions<S>,
): Pipeline<ParamsIn<S>, OutputsOf<N>>;
export function pipeline(
  name: string,
  a: object,
  b?: PipelineOptions<z.ZodType> | ((p: PipelineBuilder<unknown>) => Record<string, AnyRef>),
): Pipeline<never, Record<string, unknown>> {
  checkName('pipeline', name);
  const spec =
    typeof b === 'function'
      ? buildExplicit(name, a, b)
      : buildHamilton(name, a as Record<string, unknown>, b ?? {});
  return makePipeline(spec);
}

// The in-process runner is attached lazily to keep this module free of runtime cycles.
type LocalRunner = (
  spec: PipelineSpec,
  params: unknown,
  options: RunOptions<Record<string, unknown>, string>,
) => Promise<Record<string, unknown>>;
let localRunner: LocalRunner | null = null;
/** @internal Installed by `local-run.ts`. */
export function setLocalRunner(runner: LocalRunner): void {
  localRunner = runner;
}

function makePipeline(spec: PipelineSpec): Pipeline<never, Record<string, unknown>> {
  const p = {
    kind: 'pipeline' as const,
    name: spec.name,
    spec,
    [PIPELINE]: true,
    run(params?: unknown, options?: RunOptions<Record<string, unknown>, string>) {
      if (!localRunner) throw new ConfigError('no_runner', 'the in-process runner is not loaded');
      return localRunner(spec, params ?? {}, options ?? {});
    },
  };
  return p as unknown as Pipeline<never, Record<string, unknown>>;
}

// ---------------------------------------------------------------------------------------------
// Building and validating the spec.

function isNodeObject(
  value: unknown,
): value is ConfiguredNode<unknown, unknown> | MapNode<string, unknown, unknown, unknown> {
  return typeof value === 'object' && value !== null && NODE in value;
}

function depsFromSource(
  pipelineName: string,
  nodeName: string,
  fn: (...args: never[]) => unknown,
  index: number,
  declared: readonly string[] | undefined,
): NodeInput[] {
  if (declared) {
    if (!Array.isArray(declared) || declared.some((d) => typeof d !== 'string')) {
      throw new DefinitionError(
        'invalid_deps',
        pipelineName,
        [nodeName],
        `pipeline ${pipelineName}: node "${nodeName}": deps must be an array of node or param names`,
      );
    }
    return [...(declared as Iterable<string>)].map((d) => ({ as: d, from: d, optional: false }));
  }
  const read = readDestructuredDeps(fn, index);
  if ('error' in read) {
    const example = index === 0 ? '({ orders, day }) => …' : '(item, { orders, day }) => …';
    const declare =
      index === 0
        ? "node({ deps: ['orders', 'day'] }, fn)"
        : "map('list', fn, { deps: ['orders', 'day'] })";
    throw new DefinitionError(
      'unreadable_deps',
      pipelineName,
      [nodeName],
      `pipeline ${pipelineName}: cannot read the dependencies of node "${nodeName}": ${read.error}. ` +
        `Destructure the parameter, as in ${example}, name it _ if the node has no dependencies, or declare them explicitly: ${declare}`,
    );
  }
  return read.deps.map((d) => ({ as: d.name, from: d.name, optional: d.optional }));
}

function sourceOf(fn: (...args: never[]) => unknown): string {
  try {
    return Function.prototype.toString.call(fn);
  } catch {
    return '';
  }
}

function buildHamilton(
  name: string,
  module: Record<string, unknown>,
  options: PipelineOptions<z.ZodType>,
): PipelineSpec {
  if (typeof module !== 'object' || module === null) {
    throw new DefinitionError(
      'invalid_pipeline',
      name,
      [],
      `pipeline ${name}: expected an object of node functions (such as a module imported with import * as nodes)`,
    );
  }
  const nodes = new Map<string, NodeSpec>();
  for (const key of Object.keys(module)) {
    if (key.startsWith('_') || key === 'default') continue;
    const value = module[key];
    const owner = `pipeline ${name}: node ${key}`;
    if (isTask(value)) {
      const t = value;
      nodes.set(key, {
        name: key,
        kind: 'node',
        inputs: depsFromSource(name, key, t.fn, 0, undefined),
        fn: t.fn as NodeSpec['fn'],
        over: null,
        each: null,
        item: null,
        policy: t.policy,
        task: t.taskName,
        description: t.description,
        source: sourceOf(t.fn),
      });
    } else if (typeof value === 'function') {
      const fn = value as (...a: never[]) => unknown;
      nodes.set(key, {
        name: key,
        kind: 'node',
        inputs: depsFromSource(name, key, fn, 0, undefined),
        fn: fn as NodeSpec['fn'],
        over: null,
        each: null,
        item: null,
        policy: resolvePolicy(owner, undefined),
        task: null,
        description: undefined,
        source: sourceOf(fn),
      });
    } else if (isNodeObject(value)) {
      const fn = value.fn as (...a: never[]) => unknown;
      const { deps, description, ...policyOptions } = value.options;
      if (value[NODE] === 'node') {
        nodes.set(key, {
          name: key,
          kind: 'node',
          inputs: depsFromSource(name, key, fn, 0, deps),
          fn: fn as NodeSpec['fn'],
          over: null,
          each: null,
          item: null,
          policy: resolvePolicy(owner, policyOptions),
          task: null,
          description,
          source: sourceOf(fn),
        });
      } else {
        const m = value;
        // A task as the item function takes only the item: no deps unless declared, and its
        // own policy unless the map sets one.
        const t = isTask(fn) ? fn : null;
        const hasPolicy = Object.keys(policyOptions).length > 0;
        nodes.set(key, {
          name: key,
          kind: 'map',
          inputs: t && !deps ? [] : depsFromSource(name, key, fn, 1, deps),
          fn: () => undefined,
          over: m.over,
          each: m.each,
          item: t ? taskAsItem(t) : (fn as NodeSpec['item']),
          policy: t && !hasPolicy ? t.policy : resolvePolicy(owner, policyOptions),
          task: t?.taskName ?? null,
          description: description ?? t?.description,
          source: sourceOf(t ? t.fn : fn),
        });
      }
    }
    // Other exports (constants, schemas, types) are not nodes.
  }
  return finishSpec(name, nodes, options, null);
}

/**
 * A task used as a map's item function. Item functions are called `(item, deps, ctx)`, a task's
 * function `(input, ctx)`: the item is its input, and it keeps the run's context (signal,
 * attempt, step, logger) rather than the plain one of calling the task directly.
 */
function taskAsItem(t: AnyTask): NonNullable<NodeSpec['item']> {
  const fn = t.fn as (input: unknown, ctx: TaskContext) => unknown;
  return (item, _deps, ctx) => fn(item, ctx);
}

function buildExplicit(
  name: string,
  options: PipelineOptions<z.ZodType>,
  build: (p: PipelineBuilder<unknown>) => Record<string, AnyRef>,
): PipelineSpec {
  if (typeof options !== 'object' || options === null) {
    throw new DefinitionError(
      'invalid_pipeline',
      name,
      [],
      `pipeline ${name}: options must be an object`,
    );
  }
  const owner = {};
  const nodes = new Map<string, NodeSpec>();
  const paramNames = paramNamesOf(name, options.params);
  const ref = (n: string): AnyRef => ({ kind: 'ref', name: n, owner });
  const params = Object.fromEntries(paramNames.map((p) => [p, ref(p)]));

  const inputsOf = (nodeName: string, deps: Record<string, AnyRef>): NodeInput[] => {
    if (typeof deps !== 'object' || deps === null) {
      throw new DefinitionError(
        'invalid_deps',
        name,
        [nodeName],
        `pipeline ${name}: node "${nodeName}": deps must be an object of references, e.g. { orders }`,
      );
    }
    return Object.entries(deps).map(([as, r]) => {
      if (r?.kind !== 'ref' || r.owner !== owner) {
        throw new DefinitionError(
          'invalid_deps',
          name,
          [nodeName],
          `pipeline ${name}: node "${nodeName}": dependency "${as}" is not a reference to a node or param of this pipeline`,
        );
      }
      return { as, from: r.name, optional: false };
    });
  };
  const add = (spec: NodeSpec): AnyRef => {
    checkName('node', spec.name);
    if (nodes.has(spec.name)) {
      throw new DefinitionError(
        'duplicate_node',
        name,
        [spec.name],
        `pipeline ${name}: two nodes are named "${spec.name}"; give each node a unique name`,
      );
    }
    nodes.set(spec.name, spec);
    return ref(spec.name);
  };
  const policyFrom = (nodeName: string, fn: unknown, opts: NodeOptions | undefined) => {
    const { deps: _deps, description, ...rest } = opts ?? {};
    const t = isTask(fn) ? fn : null;
    return {
      // Options given with a task refine the task's own (retries here, its concurrency kept).
      policy:
        t && !opts
          ? t.policy
          : resolvePolicy(`pipeline ${name}: node ${nodeName}`, {
              ...(t ? withoutDescription(t.options) : {}),
              ...rest,
            }),
      task: t?.taskName ?? null,
      description: description ?? t?.description,
      fn: (t ? t.fn : fn) as (...a: never[]) => unknown,
      item: t ? taskAsItem(t) : (fn as NodeSpec['item']),
    };
  };
  const overName = (nodeName: string, over: AnyRef): string => {
    if (over?.kind !== 'ref' || over.owner !== owner) {
      throw new DefinitionError(
        'invalid_deps',
        name,
        [nodeName],
        `pipeline ${name}: map "${nodeName}": its list must be a reference to a node or param of this pipeline`,
      );
    }
    return over.name;
  };
  const addMap = (
    nodeName: string,
    over: AnyRef,
    each: NodeSpec['each'],
    deps: Record<string, AnyRef>,
    fn: unknown,
    opts: MapOptions | undefined,
  ): never => {
    const p = policyFrom(nodeName, fn, opts);
    return add({
      name: nodeName,
      kind: 'map',
      inputs: inputsOf(nodeName, deps),
      fn: () => undefined,
      over: overName(nodeName, over),
      each,
      item: p.item,
      policy: p.policy,
      task: p.task,
      description: p.description,
      source: sourceOf(p.fn),
    }) as never;
  };
  const builder: PipelineBuilder<Record<string, unknown>> = {
    params: params,
    node(nodeName, deps, fn, opts) {
      const p = policyFrom(nodeName, fn, opts);
      return add({
        name: nodeName,
        kind: 'node',
        inputs: inputsOf(nodeName, deps),
        fn: p.fn as NodeSpec['fn'],
        over: null,
        each: null,
        item: null,
        policy: p.policy,
        task: p.task,
        description: p.description,
        source: sourceOf(p.fn),
      }) as never;
    },
    map: (nodeName, over, deps, fn, opts) => addMap(nodeName, over, null, deps, fn, opts),
    mapEach: (nodeName, over, each, deps, fn, opts) => {
      if (typeof each !== 'function') {
        throw new DefinitionError(
          'invalid_map',
          name,
          [nodeName],
          `pipeline ${name}: map "${nodeName}": each must be a function returning the inner list of an item`,
        );
      }
      return addMap(nodeName, over, each as NodeSpec['each'], deps, fn, opts);
    },
  };
  const returned = build(builder);
  if (typeof returned !== 'object' || returned === null) {
    throw new DefinitionError(
      'invalid_pipeline',
      name,
      [],
      `pipeline ${name}: the build function must return an object of node references, e.g. return { report }`,
    );
  }
  const outputs: string[] = [];
  for (const [key, r] of Object.entries(returned)) {
    if (r?.kind !== 'ref' || r.owner !== owner || !nodes.has(r.name)) {
      throw new DefinitionError(
        'invalid_pipeline',
        name,
        [key],
        `pipeline ${name}: the build function returned "${key}", which is not a reference to a node of this pipeline; return the values of p.node(...) or p.map(...)`,
      );
    }
    if (!outputs.includes(r.name)) outputs.push(r.name);
  }
  return finishSpec(name, nodes, options, outputs);
}

function withoutDescription(options: object): PolicyOptions {
  const { description: _d, ...rest } = options as { description?: string };
  return rest;
}

/** Node names of a Hamilton-style module, for callers that need them at runtime. */
export type { NodeKeys };
