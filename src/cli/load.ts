/**
 * Loads a user's pipeline file — TypeScript, imported directly through tsx, no build step —
 * and picks the pipeline a command is about.
 */
import { existsSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { Registry, type Definition } from '../engine/registry.js';
import { suggestName } from '../sdk/pipeline.js';
import { UsageError, isUsageError } from './usage-error.js';

export interface LoadedFile {
  /** The file as the user named it, for messages. */
  file: string;
  registry: Registry;
}

/** Imports `file` and collects the pipelines among its exports. */
export async function loadFile(file: string): Promise<LoadedFile> {
  const path = resolve(file);
  if (!existsSync(path)) {
    throw new UsageError(
      `file ${file} not found (looked for ${path}); pass the path of a pipeline file`,
    );
  }
  if (!statSync(path).isFile()) {
    throw new UsageError(
      `${file} is not a file; pass the path of a pipeline file such as pipeline.ts`,
    );
  }
  let module: Record<string, unknown>;
  try {
    module = (await tsImport(pathToFileURL(path).href, import.meta.url)) as Record<string, unknown>;
  } catch (error) {
    // A bad definition (DefinitionError…) names its node: show it as is. Anything else thrown
    // while importing is a bug in the user's module: keep its stack.
    if (isUsageError(error)) throw new UsageError(`${file}: ${error.message}`);
    throw new LoadError(file, error);
  }
  let registry: Registry;
  try {
    registry = Registry.fromModule(module);
  } catch (error) {
    if (isUsageError(error)) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
  if (registry.size === 0) {
    throw new UsageError(
      `${file} exports no pipeline; export one, e.g. export const daily = pipeline('daily', { … })`,
    );
  }
  return { file: displayPath(path), registry };
}

/** The pipeline named `name`, or the only one in the file. */
export function pickPipeline(loaded: LoadedFile, name: string | undefined): Definition {
  const { registry, file } = loaded;
  const names = registry.names();
  if (name === undefined) {
    if (names.length === 1) return registry.get(names[0]!);
    throw new UsageError(
      `${file} has ${names.length} pipelines (${names.join(', ')}); name the one to use, e.g. weft … ${file} ${names[0]}`,
    );
  }
  if (!registry.has(name)) {
    throw new UsageError(
      `${file} has no pipeline "${name}"${suggestName(name, names) || ';'} available: ${names.join(', ')}`,
    );
  }
  return registry.get(name);
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
