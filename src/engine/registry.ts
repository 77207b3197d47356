/**
 * The definitions an engine can run, by name. Built from a user module's exports or a list.
 */
import { ConfigError, NotFoundError } from '../core/errors.js';
import { isPipeline, suggestName, type AnyPipeline } from '../sdk/pipeline.js';

export type Definition = AnyPipeline;

export class Registry {
  readonly #byName = new Map<string, Definition>();

  constructor(definitions: Iterable<Definition> = []) {
    for (const d of definitions) this.add(d);
  }

  /** Every pipeline among a module's exports (`import * as mod`), in export order. */
  static fromModule(module: Record<string, unknown>): Registry {
    const registry = new Registry();
    for (const value of Object.values(module)) {
      if (isPipeline(value) && !registry.has(value.name)) registry.add(value);
    }
    return registry;
  }

  add(definition: Definition): void {
    const existing = this.#byName.get(definition.name);
    if (existing && existing !== definition) {
      throw new ConfigError(
        'duplicate_definition',
        `two definitions are named "${definition.name}"; give each pipeline a unique name`,
      );
    }
    this.#byName.set(definition.name, definition);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  get(name: string): Definition {
    const d = this.#byName.get(name);
    if (!d) {
      const known = [...this.#byName.keys()];
      throw new NotFoundError(
        'pipeline',
        name,
        known.length
          ? `known: ${known.join(', ')}${suggestName(name, known)}`
          : 'this worker has no definitions',
      );
    }
    return d;
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }

  all(): Definition[] {
    return [...this.#byName.values()];
  }

  get size(): number {
    return this.#byName.size;
  }
}
