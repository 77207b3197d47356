/**
 * Loads a user's file of pipelines and workflows — TypeScript, imported directly through tsx,
 * no build step — and picks the definition a command is about.
 */
import { existsSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import {
  Registry,
  failureHooksOf,
  schedulesOf,
  triggersOf,
  type Definition,
} from '../engine/registry.js';
import type { EventTrigger } from '../sdk/event-trigger.js';
import type { FailureHook } from '../sdk/failure-hook.js';
import type { Schedule } from '../sdk/schedule.js';
import { sensorsOf, type Sensor } from '../sdk/sensor.js';
import { suggestName } from '../sdk/pipeline.js';
import { UsageError, isUsageError } from './usage-error.js';

export interface LoadedFile {
  /** The file as the user named it, for messages. */
  file: string;
  registry: Registry;
  /** The schedules it exports (their targets are in `registry`). */
  schedules: Schedule[];
  /** The event triggers it exports (their targets are in `registry`). */
  triggers: EventTrigger[];
  /** The failure webhooks it exports (their targets are in `registry`). */
  failureHooks: FailureHook[];
  /** The sensors it exports (their targets are in `registry`). */
  sensors: Sensor[];
}

export interface LoadOptions {
  /** Called with the URL of every module the import loads (the file and what it imports). */
  onImport?: (url: string) => void;
}

/**
 * Imports `file` and collects the pipelines and workflows among its exports. Each call imports
 * the file and its own imports afresh (tsx gives every call its own module namespace), so a
 * changed file loads as it is now.
 */
export async function loadFile(file: string, options: LoadOptions = {}): Promise<LoadedFile> {
  const path = resolve(file);
  if (!existsSync(path)) {
    throw new UsageError(
      `file ${file} not found (looked for ${path}); pass the path of a pipeline or workflow file`,
    );
  }
  if (!statSync(path).isFile()) {
    throw new UsageError(
      `${file} is not a file; pass the path of a pipeline or workflow file such as pipeline.ts`,
    );
  }
  let module: Record<string, unknown>;
  try {
    module = (await tsImport(pathToFileURL(path).href, {
      parentURL: import.meta.url,
      ...(options.onImport ? { onImport: options.onImport } : {}),
    })) as Record<string, unknown>;
  } catch (error) {
    // A bad definition (DefinitionError…) names its node: show it as is. Anything else thrown
    // while importing is a bug in the user's module: keep its stack.
    if (isUsageError(error)) throw new UsageError(`${file}: ${error.message}`);
    throw new LoadError(file, error);
  }
  let registry: Registry;
  let schedules: Schedule[];
  let triggers: EventTrigger[];
  let failureHooks: FailureHook[];
  let sensors: Sensor[];
  try {
    registry = Registry.fromModule(module);
    schedules = schedulesOf(module);
    triggers = triggersOf(module);
    failureHooks = failureHooksOf(module);
    sensors = sensorsOf(Object.values(module));
    for (const s of [...schedules, ...triggers, ...failureHooks, ...sensors]) {
      if (!registry.has(s.target.name)) registry.add(s.target);
    }
  } catch (error) {
    if (isUsageError(error)) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
  if (registry.size === 0) {
    throw new UsageError(
      `${file} exports no pipeline or workflow; export one, e.g. export const daily = pipeline('daily', { … })`,
    );
  }
  return { file: displayPath(path), registry, schedules, triggers, failureHooks, sensors };
}

/**
 * The definition named `name`, or the only one in the file. With `kind`, only definitions of
 * that kind are candidates when no name is given (`weft graph` of a file that also holds
 * workflows picks its one pipeline).
 */
export function pickDefinition(
  loaded: LoadedFile,
  name: string | undefined,
  kind?: Definition['kind'],
): Definition {
  const { registry, file } = loaded;
  const all = registry.all();
  const names = all.map((d) => d.name);
  if (name === undefined) {
    const candidates = kind ? all.filter((d) => d.kind === kind) : all;
    if (candidates.length === 1) return candidates[0]!;
    if (candidates.length === 0) {
      throw new UsageError(
        `${file} has no ${kind ?? 'definition'} (it has ${describeAll(all)}); name the one to use`,
      );
    }
    throw new UsageError(
      `${file} has ${describeAll(candidates)}; name the one to use, e.g. weft … ${file} ${candidates[0]!.name}`,
    );
  }
  if (!registry.has(name)) {
    throw new UsageError(
      `${file} has no ${nounOf(all)} "${name}"${suggestName(name, names) || ';'} available: ${names.join(', ')}`,
    );
  }
  return registry.get(name);
}

/** `pipeline`, `workflow`, or `pipeline or workflow` for a mixed file. */
function nounOf(list: readonly Definition[]): string {
  const kinds = new Set(list.map((d) => d.kind));
  return kinds.size === 1 ? [...kinds][0]! : 'pipeline or workflow';
}

/** `2 pipelines (alpha, beta)`, `1 pipeline and 1 workflow (daily, approval)`. */
function describeAll(list: readonly Definition[]): string {
  const count = (kind: Definition['kind']) => {
    const n = list.filter((d) => d.kind === kind).length;
    return n === 0 ? null : `${n} ${kind}${n === 1 ? '' : 's'}`;
  };
  const counts = [count('pipeline'), count('workflow')].filter((c) => c !== null);
  return `${counts.join(' and ')} (${list.map((d) => d.name).join(', ')})`;
}

/** An exception thrown while importing a user's file: shown with its stack, exit code 1. */
export class LoadError extends Error {
  constructor(file: string, cause: unknown) {
    super(`failed to load ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'LoadError';
  }
}

function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}
