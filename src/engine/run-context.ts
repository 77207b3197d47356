/**
 * What a worker knows about a run it is executing: its definition, params, and the decoded
 * outputs of finished nodes. A warm run reads each output from memory; a run picked up after
 * a crash (or from another worker) reads them from the store once.
 */
import type { LazyAbortController } from '../core/attempt.js';
import { decode } from '../core/codec.js';
import { WeftError } from '../core/errors.js';
import { partitionOf, type Partition } from '../core/partitions.js';
import { collectFanOut, expandFanOut, type FanOut } from '../sdk/fanout.js';
import { upstreamOf, type NodeSpec, type PipelineSpec } from '../sdk/pipeline.js';
import type { Store } from '../store/contract/store.js';
import type { NewLog, RunRecord } from '../store/contract/types.js';

/** An attempt that began before its step was claimed (run ahead of its predecessor's commit). */
export interface HandedOver {
  outcome: Promise<unknown>;
  /** Aborts the work (the step that takes it over aborts it when it is aborted itself). */
  controller: LazyAbortController;
  logs: NewLog[];
  startedAt: number;
}

export class RunContext {
  readonly runId: string;
  readonly spec: PipelineSpec;
  readonly params: Record<string, unknown>;
  /** The partition the run computes (a partitioned pipeline's), for its task contexts. */
  readonly partition: Partition | null;
  readonly #store: Store;
  readonly #values = new Map<string, unknown>();
  readonly #fanouts = new Map<string, FanOut>();

  constructor(store: Store, run: Pick<RunRecord, 'id' | 'input'>, spec: PipelineSpec) {
    this.#store = store;
    this.runId = run.id;
    this.spec = spec;
    this.params = decode<Record<string, unknown>>(run.input) ?? {};
    this.partition = partitionOf(spec.partitions, this.params);
  }

  /** Steps of the run as first seen by this process (plan membership, earlier attempts). */
  #steps: Map<string, { attempt: number }> | null = null;
  /** Nodes this process ran ahead, never to run ahead twice. */
  readonly #ranAhead = new Set<string>();
  /** Work run ahead that was still in flight (or failed) when its batch committed. */
  readonly #handedOver = new Map<string, HandedOver>();

  /**
   * The one node that can run right after `node` in this process, before anything is
   * committed: `node`'s only dependent in this run, a plain node (no fan-out, no concurrency
   * limit) never attempted before, all of whose inputs are known here, that a worker with
   * `labels` may run. Null otherwise.
   */
  async soleSuccessor(node: NodeSpec, labels: readonly string[]): Promise<NodeSpec | null> {
    // A last node has no successor, and one whose dependents are all fan-outs or limited
    // none that runs ahead: spare reading the run's steps.
    const dependents = this.spec.dependents.get(node.name) ?? [];
    const plain = (name: string): boolean => {
      const dependent = this.spec.nodes.get(name);
      return dependent?.kind === 'node' && dependent.policy.concurrency === null;
    };
    if (!dependents.some(plain)) return null;
    this.#steps ??= new Map(
      (await this.#store.listSteps(this.runId))
        .filter((s) => s.parentKey === null)
        .map((s) => [s.key, { attempt: s.attempt + (s.origin === 'override' ? 1 : 0) }]),
    );
    const steps = this.#steps;
    const next = (this.spec.dependents.get(node.name) ?? []).filter((d) => steps.has(d));
    if (next.length !== 1) return null;
    const candidate = this.spec.nodes.get(next[0]!)!;
    if (candidate.kind !== 'node' || candidate.policy.concurrency !== null) return null;
    if (!candidate.policy.labels.every((l) => labels.includes(l))) return null;
    if (steps.get(candidate.name)!.attempt !== 0 || this.#ranAhead.has(candidate.name)) return null;
    for (const up of upstreamOf(candidate)) {
      if (!this.#values.has(up) && !this.spec.paramNames.includes(up)) return null;
    }
    this.#ranAhead.add(candidate.name);
    return candidate;
  }

  /** Leaves work run ahead for whoever runs the step once it is claimed. */
  handOver(node: string, work: HandedOver): void {
    work.outcome.catch(() => undefined); // observed later, by the step's runner
    this.#handedOver.set(node, work);
  }

  /** Takes the work handed over for `node`, if any. */
  takeHandedOver(node: string): HandedOver | undefined {
    const work = this.#handedOver.get(node);
    this.#handedOver.delete(node);
    return work;
  }

  /** Forgets a node's output (its result was not recorded). */
  forget(node: string): void {
    this.#values.delete(node);
  }

  /** Remembers a node's output, so dependents in this process don't read it back. */
  remember(node: string, value: unknown): void {
    this.#values.set(node, value);
  }

  /** The value of a param or node output. */
  async value(name: string): Promise<unknown> {
    if (this.#values.has(name)) return this.#values.get(name);
    if (this.#isParam(name)) return this.params[name];
    const node = this.spec.nodes.get(name);
    if (!node) throw new WeftError('unknown_node', `run ${this.runId}: no node or param "${name}"`);
    let value: unknown;
    if (node.kind === 'map') {
      const encoded = await this.#store.getItemOutputs(this.runId, name);
      const fan = await this.fanOut(node);
      value = collectFanOut(
        fan.shape,
        encoded.map((e) => (e === null ? undefined : decode(e))),
      );
    } else {
      const outputs = await this.#store.getOutputs(this.runId, [name]);
      const encoded = outputs.get(name);
      value = encoded == null ? undefined : decode(encoded);
    }
    this.#values.set(name, value);
    return value;
  }

  /** The dependency object of a node. */
  input(node: NodeSpec): Record<string, unknown> | Promise<Record<string, unknown>> {
    // Most nodes find every input in memory: no promise then (a step's hot path).
    const input: Record<string, unknown> = {};
    for (const i of node.inputs) {
      if (this.#values.has(i.from)) input[i.as] = this.#values.get(i.from);
      else if (this.#isParam(i.from)) input[i.as] = this.params[i.from];
      else return this.#readInput(node);
    }
    return input;
  }

  async #readInput(node: NodeSpec): Promise<Record<string, unknown>> {
    const input: Record<string, unknown> = {};
    for (const i of node.inputs) input[i.as] = await this.value(i.from);
    return input;
  }

  #isParam(name: string): boolean {
    return this.spec.paramNames.includes(name) && !this.spec.nodes.has(name);
  }

  /** The items of a map node (computed once from the recorded list it maps over). */
  async fanOut(node: NodeSpec): Promise<FanOut> {
    let fan = this.#fanouts.get(node.name);
    if (!fan) {
      fan = expandFanOut(node, await this.value(node.over!));
      this.#fanouts.set(node.name, fan);
    }
    return fan;
  }
}
