/** `weft run <file.ts> [pipeline]`: runs a pipeline durably in this process and follows it. */
import { Engine } from '../../engine/engine.js';
import { validateInput } from '../../sdk/params.js';
import { planRun } from '../../sdk/plan.js';
import { colorsFor } from '../format.js';
import { dbDisplay, followRun, watchRun } from '../follow-run.js';
import { loadFile, pickPipeline } from '../load.js';
import { dbPath, openStore } from '../open-store.js';
import { parseParams } from '../params.js';
import { UsageError } from '../usage-error.js';

export interface RunFlags {
  param?: string[];
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
  const definition = pickPipeline(loaded, name);
  const spec = definition.spec;
  const params = parseParams(spec, flags.param ?? []);
  const outputs = flags.output?.length ? flags.output : undefined;
  // The engine checks these again on submit; checking first keeps a rejected run from creating
  // a database.
  validateInput(`pipeline ${spec.name}: invalid params`, spec.params, params);
  planRun(spec, outputs, []);
  const concurrency = parseConcurrency(flags.concurrency);
  const path = dbPath(flags.db);
  const store = await openStore(path);
  const engine = new Engine({ store, definitions: loaded.registry, concurrency, scope: 'own' });
  try {
    // Submitted before the worker starts, so progress can follow from the very first event.
    const run = await engine.submit(definition, { params, outputs, trigger: 'cli' });
    const out = flags.json ? process.stderr : process.stdout;
    const c = colorsFor(out);
    out.write(
      `${c.bold(`run ${run.id}`)} ${c.dim(`pipeline ${definition.name} · ${dbDisplay(path)}`)}\n`,
    );
    const options = {
      engine,
      spec,
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
