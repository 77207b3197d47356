/** `weft resume <runId> <file.ts>`: continues an interrupted run with the file's definitions. */
import { isTerminalRun } from '../../core/states.js';
import { Engine } from '../../engine/engine.js';
import { colorsFor, dateTime, paintStatus } from '../format.js';
import { dbDisplay, followRun, watchRun } from '../follow-run.js';
import { loadFile } from '../load.js';
import { dbPath, openStore } from '../open-store.js';
import { UsageError } from '../usage-error.js';
import { parseConcurrency } from './run.js';

export interface ResumeFlags {
  db?: string;
  concurrency?: string;
  json?: boolean;
}

export async function resumeCommand(
  runId: string,
  file: string,
  flags: ResumeFlags,
): Promise<number> {
  const path = dbPath(flags.db);
  const concurrency = parseConcurrency(flags.concurrency);
  const store = await openStore(path, { mustExist: true });
  let engine: Engine | null = null;
  try {
    const run = await store.getRun(runId);
    if (!run) {
      throw new UsageError(
        `run ${runId} not found in ${dbDisplay(path)}; list runs with weft runs`,
      );
    }
    const out = flags.json ? process.stderr : process.stdout;
    const c = colorsFor(out);
    if (isTerminalRun(run.status)) {
      const when = run.finishedAt !== null ? ` at ${dateTime(run.finishedAt)}` : '';
      out.write(
        `run ${run.id} already finished: ${paintStatus(c, run.status, run.status)}${when}; nothing to resume (see weft show ${run.id})\n`,
      );
      return run.status === 'succeeded' ? 0 : 1;
    }
    const loaded = await loadFile(file);
    if (!loaded.registry.has(run.definition)) {
      throw new UsageError(
        `${loaded.file} has no pipeline "${run.definition}" (the pipeline of run ${run.id}); ` +
          `available: ${loaded.registry.names().join(', ')}; pass the file that defines it`,
      );
    }
    const definition = loaded.registry.get(run.definition);
    engine = new Engine({ store, definitions: loaded.registry, concurrency, scope: 'own' });
    out.write(
      `${c.bold(`resuming run ${run.id}`)} ${c.dim(`pipeline ${run.definition} · ${dbDisplay(path)}`)}\n`,
    );
    const top = (await store.listSteps(runId)).filter((s) => s.parentKey === null);
    const done = top.filter((s) => s.status === 'succeeded' || s.status === 'cached');
    if (done.length) {
      out.write(
        c.dim(
          `${done.length} of ${top.length} nodes already done: ${done.map((s) => s.key).join(', ')}\n`,
        ),
      );
    }
    const options = {
      engine,
      spec: definition.spec,
      runId,
      out,
      json: flags.json ?? false,
      db: dbDisplay(path),
    };
    const view = await watchRun(options);
    // Starting recovers the steps that workers which died were holding.
    await engine.start();
    await engine.resume(runId);
    return await followRun(options, view);
  } finally {
    await engine?.stop({ graceMs: 2000 });
    await store.close();
  }
}
