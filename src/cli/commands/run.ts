/**
 * `weft run <file.ts> [name]`: runs a pipeline or a workflow durably in this process and
 * follows it. A workflow that sleeps or waits parks; this process keeps waiting and resumes it
 * when it is due (or woken by `weft event send` from another shell).
 */
import { Engine } from '../../engine/engine.js';
import type { Definition } from '../../engine/registry.js';
import { validateInput } from '../../sdk/params.js';
import { planRun } from '../../sdk/plan.js';
import { colorsFor } from '../format.js';
import { dbDisplay, followRun, watchRun } from '../follow-run.js';
import { loadFile, pickDefinition } from '../load.js';
import { dbPath, openStore } from '../open-store.js';
import { parseInput } from '../params.js';
import { UsageError } from '../usage-error.js';

export interface RunFlags {
  param?: string[];
  input?: string;
  output?: string[];
  db?: string;
  concurrency?: string;
  json?: boolean;
}

export async function runCommand(
  file: string,
  name: string | undefined,
  flags: RunFlags,
): Promise<number> {
  const loaded = await loadFile(file);
  const definition = pickDefinition(loaded, name);
  const input = parseInput(definition, flags);
  const outputs = flags.output?.length ? flags.output : undefined;
  // The engine checks these again on submit; checking first keeps a rejected run from creating
  // a database.
  check(definition, input, outputs);
  const concurrency = parseConcurrency(flags.concurrency);
  const path = dbPath(flags.db);
  const store = await openStore(path);
  const engine = new Engine({ store, definitions: loaded.registry, concurrency, scope: 'own' });
  try {
    // Submitted before the worker starts, so progress can follow from the very first event.
    const run = await engine.submit(definition, {
      params: input,
      ...(outputs ? { outputs } : {}),
      trigger: 'cli',
    });
    const out = flags.json ? process.stderr : process.stdout;
    const c = colorsFor(out);
    out.write(
      `${c.bold(`run ${run.id}`)} ${c.dim(`${definition.kind} ${definition.name} · ${dbDisplay(path)}`)}\n`,
    );
    const options = {
      engine,
      definition,
      runId: run.id,
      out,
      json: flags.json ?? false,
      db: dbDisplay(path),
    };
    const view = await watchRun(options);
    await engine.start();
    return await followRun(options, view);
  } finally {
    await engine.stop({ graceMs: 2000 });
    await store.close();
  }
}

/** Validates the input (and a pipeline's outputs). */
function check(definition: Definition, input: unknown, outputs: string[] | undefined): void {
  if (definition.kind === 'workflow') {
    if (outputs) {
      throw new UsageError(
        `--output applies to pipelines; workflow ${definition.name} returns one result: remove --output`,
      );
    }
    validateInput(`workflow ${definition.name}: invalid input`, definition.input, input);
    return;
  }
  const spec = definition.spec;
  validateInput(`pipeline ${spec.name}: invalid params`, spec.params, input);
  planRun(spec, outputs, []);
}

/** `--concurrency n`: a whole number >= 1. */
export function parseConcurrency(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(
      `--concurrency ${JSON.stringify(text)} is not a whole number >= 1; e.g. --concurrency 8`,
    );
  }
  return n;
}
