/**
 * `weft resume <runId> <file.ts>`: continues an interrupted run with the file's definitions. A
 * parked workflow run is followed until it finishes: this process resumes it when it is due.
 */
import { isTerminalRun } from '../../core/states.js';
import { Engine } from '../../engine/engine.js';
import type { Store } from '../../store/contract/store.js';
import type { RunRecord } from '../../store/contract/types.js';
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
    const definition = loaded.registry.has(run.definition)
      ? loaded.registry.get(run.definition)
      : null;
    if (definition?.kind !== run.kind) {
      throw new UsageError(
        `${loaded.file} has no ${run.kind} "${run.definition}" (the ${run.kind} of run ${run.id}); ` +
          `available: ${loaded.registry.names().join(', ')}; pass the file that defines it`,
      );
    }
    // A parked parent waits for its children: they are resumed here too.
    const descendants = await unfinishedDescendants(store, run.id);
    const missing = descendants.filter((d) => !loaded.registry.has(d.definition));
    if (missing.length) {
      const names = [...new Set(missing.map((d) => `${d.kind} ${d.definition}`))].join(', ');
      throw new UsageError(
        `${loaded.file} has no ${names}, which child runs of run ${run.id} need; pass a file that exports them too`,
      );
    }
    engine = new Engine({ store, definitions: loaded.registry, concurrency, scope: 'own' });
    out.write(
      `${c.bold(`resuming run ${run.id}`)} ${c.dim(`${run.kind} ${run.definition} · ${dbDisplay(path)}`)}\n`,
    );
    const steps = await store.listSteps(runId);
    if (definition.kind === 'pipeline') {
      const top = steps.filter((s) => s.parentKey === null);
      const done = top.filter((s) => s.status === 'succeeded' || s.status === 'cached');
      if (done.length) {
        out.write(
          c.dim(
            `${done.length} of ${top.length} nodes already done: ${done.map((s) => s.key).join(', ')}\n`,
          ),
        );
      }
    } else {
      const journal = steps.filter((s) => s.kind !== 'run');
      const done = journal.filter((s) => s.status === 'succeeded').length;
      if (journal.length) {
        out.write(
          c.dim(
            `${journal.length} journal entr${journal.length === 1 ? 'y' : 'ies'} recorded (${done} done): completed steps are replayed, not run again\n`,
          ),
        );
      }
    }
    const options = {
      engine,
      definition,
      runId,
      out,
      json: flags.json ?? false,
      db: dbDisplay(path),
    };
    const view = await watchRun(options);
    // Starting recovers the steps that workers which died were holding.
    await engine.start();
    await engine.resume(runId);
    for (const d of descendants) await engine.resume(d.id);
    return await followRun(options, view);
  } finally {
    await engine?.stop({ graceMs: 2000 });
    await store.close();
  }
}

/** The unfinished child runs of a run, their children, and so on. */
async function unfinishedDescendants(store: Store, runId: string): Promise<RunRecord[]> {
  const found: RunRecord[] = [];
  const queue = [runId];
  while (queue.length) {
    for (const child of await store.listChildRuns(queue.shift()!)) {
      if (isTerminalRun(child.status)) continue;
      found.push(child);
      queue.push(child.id);
    }
  }
  return found;
}
