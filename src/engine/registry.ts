/**
 * The definitions an engine can run, by name. Built from a user module's exports or a list.
 */
import { ConfigError, NotFoundError } from '../core/errors.js';
import { isPipeline, suggestName, type AnyPipeline } from '../sdk/pipeline.js';
import { isEventTrigger, type EventTrigger } from '../sdk/event-trigger.js';
import { isFailureHook, type FailureHook } from '../sdk/failure-hook.js';
import { isSchedule, type Schedule } from '../sdk/schedule.js';
import { isWorkflow, type AnyWorkflow } from '../sdk/workflow.js';

/**
 * The schedules among a module's exports, in order; two with one name are an error (a name
 * identifies a schedule in the store).
 */
/** The event triggers among a module's exports; two of one target with one name are an error. */
export function triggersOf(module: Record<string, unknown>): EventTrigger[] {
  const byName = new Map<string, EventTrigger>();
  for (const value of Object.values(module)) {
    if (!isEventTrigger(value)) continue;
    const key = `${value.target.name}\0${value.name}`;
    const existing = byName.get(key);
    if (existing && existing !== value) {
      throw new ConfigError(
        'duplicate_trigger',
        `two event triggers of ${value.target.name} are named "${value.name}"; name them apart (onEvent(target, { event, name: '…' }))`,
      );
    }
    byName.set(key, value);
  }
  return [...byName.values()];
}

/** The failure hooks among a module's exports. */
export function failureHooksOf(module: Record<string, unknown>): FailureHook[] {
  return Object.values(module).filter(isFailureHook);
}

export function schedulesOf(module: Record<string, unknown>): Schedule[] {
  const byName = new Map<string, Schedule>();
  for (const value of Object.values(module)) {
    if (!isSchedule(value)) continue;
    const existing = byName.get(value.name);
    if (existing && existing !== value) {
      throw new ConfigError(
        'duplicate_schedule',
        `two schedules are named "${value.name}"; give each a unique name (schedule(target, { name: '…' }))`,
      );
    }
    byName.set(value.name, value);
  }
  return [...byName.values()];
}

/** Something an engine runs: a pipeline or a workflow. */
export type Definition = AnyPipeline | AnyWorkflow;

export class Registry {
  readonly #byName = new Map<string, Definition>();

  constructor(definitions: Iterable<Definition> = []) {
    for (const d of definitions) this.add(d);
  }

  /** Every pipeline and workflow among a module's exports (`import * as mod`), in order. */
  static fromModule(module: Record<string, unknown>): Registry {
    const registry = new Registry();
    for (const value of Object.values(module)) {
      if ((isPipeline(value) || isWorkflow(value)) && !registry.has(value.name)) {
        registry.add(value);
      }
    }
    return registry;
  }

  add(definition: Definition): void {
    const existing = this.#byName.get(definition.name);
    if (existing && existing !== definition) {
      throw new ConfigError(
        'duplicate_definition',
        `two definitions are named "${definition.name}"; give each pipeline and workflow a unique name`,
      );
    }
    this.#byName.set(definition.name, definition);
  }

  /** Replaces every definition at once (checked first: on a duplicate name nothing changes). */
  replace(definitions: Iterable<Definition>): void {
    const next = new Registry(definitions);
    this.#byName.clear();
    for (const d of next.all()) this.#byName.set(d.name, d);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  get(name: string): Definition {
    const d = this.#byName.get(name);
    if (!d) {
      const known = [...this.#byName.keys()];
      throw new NotFoundError(
        'pipeline or workflow',
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
