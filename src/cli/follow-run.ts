/**
 * Follows one run of an engine this process hosts until it finishes: live progress, Ctrl-C to
 * cancel, then a summary. Shared by `weft run` and `weft resume`, for pipelines and workflows
 * (a workflow that parks keeps this process waiting: the engine resumes it here when due).
 */
import { relative } from 'node:path';
import type { Engine } from '../engine/engine.js';
import type { Definition } from '../engine/registry.js';
import type { PipelineSpec } from '../sdk/pipeline.js';
import type { RunRecord, StepRecord } from '../store/contract/types.js';
import {
  colorsFor,
  countsLine,
  duration,
  paintStatus,
  preview,
  statusSymbol,
  toJson,
} from './format.js';
import { createJournalProgress } from './journal-progress.js';
import { isEntryKind, kindCounts } from './journal-format.js';
import { DEFAULT_DB, describeDb, isPostgresUrl } from './open-store.js';
import { createProgress, type ProgressView } from './progress.js';

export interface FollowOptions {
  engine: Engine;
  definition: Definition;
  runId: string;
  /** Where progress and the summary go (stderr with `--json`, so stdout holds only JSON). */
  out: NodeJS.WriteStream;
  /** Print the outputs as JSON on stdout. */
  json: boolean;
  /** The database path as shown to the user. */
  db: string;
}

/** Starts showing progress; call before the engine starts so no event is missed. */
export async function watchRun(options: FollowOptions): Promise<ProgressView> {
  const { engine, definition, runId, out } = options;
  const steps = await engine.store.listSteps(runId);
  let view: ProgressView;
  if (definition.kind === 'pipeline') {
    view = createProgress({ runId, spec: definition.spec, steps, out });
  } else {
    const run = await engine.store.getRun(runId);
    if (!run) throw new Error(`run ${runId} vanished from the store`);
    view = createJournalProgress({ run, store: engine.store, steps, out });
  }
  options.engine.on((event) => view.onEvent(event));
  return view;
}

/** Waits for the run with Ctrl-C cancelling it; prints the summary; returns the exit code. */
export async function followRun(options: FollowOptions, view: ProgressView): Promise<number> {
  const { engine, runId, out } = options;
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts++;
    if (interrupts > 1) {
      view.abort();
      out.write(`\nweft: quit before run ${runId} finished cancelling\n`);
      process.exit(130);
    }
    view.note(`cancelling run ${runId}… (press Ctrl-C again to quit at once)`);
    engine.cancel(runId, 'cancelled from the command line (Ctrl-C)').catch((error: unknown) => {
      view.note(`weft: could not cancel: ${(error as Error).message}`);
    });
  };
  process.on('SIGINT', onInterrupt);
  let run: RunRecord;
  try {
    run = await engine.wait(runId);
  } finally {
    process.off('SIGINT', onInterrupt);
  }
  const steps = await engine.store.listSteps(runId);
  await view.finish(steps);
  await printSummary(options, run, steps);
  return run.status === 'succeeded' ? 0 : 1;
}

async function printSummary(
  options: FollowOptions,
  run: RunRecord,
  steps: StepRecord[],
): Promise<void> {
  const { out, definition, engine } = options;
  const c = colorsFor(out);
  const label = (name: string, i = 0) => (i === 0 ? `  ${name.padEnd(9)}` : ' '.repeat(11));
  const lines: string[] = [''];

  const symbol = statusSymbol(run.status === 'waiting' ? 'running' : run.status);
  const start = run.startedAt ?? run.createdAt;
  const took = run.finishedAt !== null ? ` in ${duration(run.finishedAt - start)}` : '';
  const head = paintStatus(c, run.status, `${symbol} run ${run.id} ${run.status}`);
  lines.push(`${head}${took} ${c.dim(`(${run.kind} ${run.definition})`)}`);

  const failedLines = (list: StepRecord[]) =>
    list
      .filter((s) => s.status === 'failed' && s.error)
      .forEach((s, i) => {
        const message = s.error!.message.split('\n')[0] ?? '';
        lines.push(`${label('failed', i)}${c.bold(s.key)}: ${c.red(message)}`);
      });

  if (definition.kind === 'workflow') {
    const journal = steps
      .filter((s) => isEntryKind(s.kind))
      .sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    const counts = journal.length ? `: ${countsLine(statusesOf(journal), c)}` : '';
    lines.push(`${label('journal')}${kindCounts(journal)}${counts}`);
    failedLines(journal);
    // The run's own error, unless it is a failed entry's, already listed.
    const runError = run.status === 'succeeded' ? null : run.error;
    if (runError && !journal.some((s) => s.error?.message === runError.message)) {
      const message = runError.message.split('\n')[0] ?? '';
      lines.push(label(run.status === 'cancelled' ? 'reason' : 'error') + c.red(message));
    }
  } else {
    const top = steps.filter((s) => s.parentKey === null);
    const items = steps.filter((s) => s.parentKey !== null);
    const nodeCounts = countsLine(statusesOf(top), c);
    const itemCounts = countsLine(statusesOf(items), c);
    lines.push(
      label('nodes') + nodeCounts + (items.length ? `${c.dim('  ·  ')}items ${itemCounts}` : ''),
    );
    failedLines(steps);
    if (run.status === 'cancelled' && run.error) lines.push(label('reason') + run.error.message);
  }

  if (run.status === 'succeeded' && definition.kind === 'workflow') {
    const result = await engine.result(run.id);
    if (options.json) process.stdout.write(`${toJson(result, 2)}\n`);
    lines.push(`${label('result')}${preview(result, 200)}`);
  } else if (run.status === 'succeeded' && definition.kind === 'pipeline') {
    const values = await engine.outputs(run.id);
    if (options.json) process.stdout.write(`${toJson(values, 2)}\n`);
    const top = steps.filter((s) => s.parentKey === null);
    const names = run.outputs.length ? run.outputs : finalNodes(definition.spec, top);
    names.forEach((name, i) => {
      lines.push(`${label('outputs', i)}${c.bold(name)} = ${preview(values[name])}`);
    });
  } else {
    const db = options.db === DEFAULT_DB ? '' : ` --db ${shellQuote(options.db)}`;
    lines.push(c.dim(`${label('details')}weft show ${run.id}${db}`));
  }
  out.write(`${lines.join('\n')}\n`);
}

function statusesOf(list: StepRecord[]): string[] {
  return list.map((s) => s.status);
}

export function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The nodes of the run nothing else in it reads: what a run without `--output` produced. */
function finalNodes(spec: PipelineSpec, top: StepRecord[]): string[] {
  const inRun = new Set(top.map((s) => s.node));
  return spec.order.filter(
    (n) => inRun.has(n) && !(spec.dependents.get(n) ?? []).some((d) => inRun.has(d)),
  );
}

/** A path as the user would type it from here. */
export function dbDisplay(path: string): string {
  if (isPostgresUrl(path)) return describeDb(path);
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}
