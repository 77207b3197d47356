/**
 * What a worker knows about a run it is executing: its definition, params, and the decoded
 * outputs of finished nodes. A warm run reads each output from memory; a run picked up after
 * a crash (or from another worker) reads them from the store once.
 */
import { decode } from '../core/codec.js';
import { WeftError } from '../core/errors.js';
import { collectFanOut, expandFanOut, type FanOut } from '../sdk/fanout.js';
import type { NodeSpec, PipelineSpec } from '../sdk/pipeline.js';
import type { Store } from '../store/contract/store.js';
import type { RunRecord } from '../store/contract/types.js';

export class RunContext {
  readonly runId: string;
  readonly spec: PipelineSpec;
  readonly params: Record<string, unknown>;
  readonly #store: Store;
  readonly #values = new Map<string, unknown>();
  readonly #fanouts = new Map<string, FanOut>();

  constructor(store: Store, run: RunRecord, spec: PipelineSpec) {
    this.#store = store;
    this.runId = run.id;
    this.spec = spec;
    this.params = decode<Record<string, unknown>>(run.input) ?? {};
  }

  /** Remembers a node's output, so dependents in this process don't read it back. */
  remember(node: string, value: unknown): void {
    this.#values.set(node, value);
  }

  /** The value of a param or node output. */
  async value(name: string): Promise<unknown> {
    if (this.#values.has(name)) return this.#values.get(name);
    if (this.spec.paramNames.includes(name) && !this.spec.nodes.has(name)) return this.params[name];
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
  async input(node: NodeSpec): Promise<Record<string, unknown>> {
    const input: Record<string, unknown> = {};
    for (const i of node.inputs) {
      input[i.as] = this.#values.has(i.from) ? this.#values.get(i.from) : await this.value(i.from);
    }
    return input;
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
