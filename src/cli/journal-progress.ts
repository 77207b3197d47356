/**
 * Live progress of one workflow run: its journal entries as they happen (steps with their
 * attempts, sleeps, event waits, child runs), what the run waits for while it is parked, and
 * when it resumes. On a terminal, the latest entries redrawn in place under scrolling log
 * lines; elsewhere plain timestamped lines:
 *
 * ```text
 * 12:00:00.004 validate running (attempt 1)
 * 12:00:00.006 validate succeeded in 2 ms
 * 12:00:00.007 pause sleeping until 12:00:05.007
 * 12:00:00.008 parked: sleeping until 12:00:05.007 (entry "pause")
 * 12:00:05.012 resumed after 5.00 s
 * 12:00:05.013 pause woke up after 5.01 s
 * ```
 */
import type { EngineEvent } from '../engine/events.js';
import type { Store } from '../store/contract/store.js';
import type { RunRecord, StepRecord } from '../store/contract/types.js';
import {
  clockTime,
  colorsFor,
  duration,
  paintStatus,
  statusSymbol,
  truncate,
  type Colors,
} from './format.js';
import { eventFilterText, receivedText, waitText, when } from './journal-format.js';
import { JournalModel, type EntryView, type JournalChange } from './journal-model.js';
import { FRAME_MS, LiveScreen, logLine, SPINNER, type ProgressView } from './progress.js';

export interface JournalProgressOptions {
  run: RunRecord;
  store: Store;
  /** The run's steps as recorded when the view starts. */
  steps: readonly StepRecord[];
  out: NodeJS.WriteStream;
  /** Redraw in place; default: whether `out` is a terminal. */
  live?: boolean;
}

export function createJournalProgress(options: JournalProgressOptions): ProgressView {
  const model = new JournalModel(options.run.id, options.store, options.steps);
  const live = options.live ?? options.out.isTTY === true;
  const renderer = live ? new LiveRenderer(model, options.out) : new PlainRenderer(options.out);
  const view = new JournalProgress(model, renderer);
  // A run resumed while it waits (`weft resume`) starts out parked.
  const { run } = options;
  if (run.status === 'waiting' && run.waitingFor) view.parked(run.waitingFor, run.updatedAt);
  return view;
}

interface Renderer {
  show(change: JournalChange): void;
  note(text: string): void;
  finish(): void;
  abort(): void;
}

/** Feeds events through the model one at a time, so lines keep the order events came in. */
class JournalProgress implements ProgressView {
  readonly #model: JournalModel;
  readonly #renderer: Renderer;
  #queue: Promise<void> = Promise.resolve();
  #closing = false;
  #stopped = false;

  constructor(model: JournalModel, renderer: Renderer) {
    this.#model = model;
    this.#renderer = renderer;
  }

  parked(wait: NonNullable<RunRecord['waitingFor']>, since: number): void {
    this.#enqueue(async () => [await this.#model.park(wait, since)]);
  }

  onEvent(event: EngineEvent): void {
    if (this.#closing || event.runId !== this.#model.runId) return;
    this.#enqueue(() => this.#model.apply(event));
  }

  note(text: string): void {
    this.#queue = this.#queue.then(() => {
      if (!this.#stopped) this.#renderer.note(text);
    });
  }

  async finish(steps: readonly StepRecord[]): Promise<void> {
    this.#closing = true;
    await this.#queue;
    if (this.#stopped) return;
    this.#model.refresh(steps);
    this.#stopped = true;
    this.#renderer.finish();
  }

  abort(): void {
    this.#closing = true;
    this.#stopped = true;
    this.#renderer.abort();
  }

  #enqueue(work: () => Promise<JournalChange[]>): void {
    this.#queue = this.#queue.then(work).then(
      (changes) => {
        if (!this.#stopped) for (const change of changes) this.#renderer.show(change);
      },
      (error: unknown) => {
        // Progress is a view: a failed read must not end the run it shows.
        if (!this.#stopped) this.#renderer.note(`weft: progress: ${(error as Error).message}`);
      },
    );
  }
}

/** One line for a change, as the plain view prints it (and the live view scrolls it). */
function describe(change: JournalChange, c: Colors): string {
  if (change.kind === 'log') return logLine(c, change.event);
  const time = c.dim(clockTime(change.at));
  switch (change.kind) {
    case 'parked':
      return `${time} ${c.yellow('parked:')} ${waitText(change.wait, change.at, change.child ?? undefined)}`;
    case 'resumed':
      return `${time} ${c.cyan('resumed')} after ${duration(change.after)}`;
    case 'retry':
      return `${time} ${c.bold(change.entry.key)} ${paintStatus(c, 'retrying', 'failed')} (attempt ${change.attempt}): ${change.error}; retrying`;
    case 'begun':
      return `${time} ${c.bold(change.entry.key)} ${begunText(change.entry, change.at, c)}`;
    case 'finished':
      return `${time} ${c.bold(change.entry.key)} ${finishedText(change.entry, change.at, c)}`;
  }
}

function begunText(e: EntryView, at: number, c: Colors): string {
  switch (e.kind) {
    case 'step':
      return `${paintStatus(c, 'running', 'running')} (attempt ${e.attempt})`;
    case 'sleep':
      return e.until === null
        ? c.yellow('sleeping')
        : `${c.yellow('sleeping')} until ${when(e.until, at)} (${duration(e.until - (e.startedAt ?? at))})`;
    case 'event':
      return e.event
        ? `${c.yellow('waiting')} for event ${eventFilterText(e.event.type, e.event.key, e.event.match)}`
        : c.yellow('waiting for an event');
    case 'child':
      return e.child
        ? `started child run ${e.child.runId}${e.child.definition ? ` (${e.child.definition})` : ''}`
        : 'started a child run';
  }
}

function finishedText(e: EntryView, at: number, c: Colors): string {
  const status = paintStatus(c, e.status, e.status);
  const since = e.kind === 'step' ? e.attemptStartedAt : e.startedAt;
  const took = since !== null ? ` in ${duration(at - since)}` : '';
  if (e.status !== 'succeeded') {
    const attempts = e.kind === 'step' && e.attempt > 1 ? ` (attempt ${e.attempt})` : '';
    const what = e.kind === 'child' && e.child ? `child run ${e.child.runId} ` : '';
    return `${what}${status}${took}${attempts}${e.error ? `: ${e.error}` : ''}`;
  }
  switch (e.kind) {
    case 'step':
      return `${status}${took}`;
    case 'sleep':
      return `woke up${e.startedAt !== null ? ` after ${duration(at - e.startedAt)}` : ''}`;
    case 'event':
      if (e.received) return `${status}: received event ${receivedText(e.received)}`;
      return `${c.yellow('timed out')}${took}: no event ${e.event ? JSON.stringify(e.event.type) : ''} came`;
    case 'child':
      return `${e.child ? `child run ${e.child.runId} ` : ''}${status}${took}`;
  }
}

// ---------------------------------------------------------------------------------------------

class PlainRenderer implements Renderer {
  readonly #out: NodeJS.WriteStream;
  readonly #c: Colors;

  constructor(out: NodeJS.WriteStream) {
    this.#out = out;
    this.#c = colorsFor(out);
  }

  show(change: JournalChange): void {
    this.note(describe(change, this.#c));
  }

  note(text: string): void {
    this.#out.write(`${text}\n`);
  }

  finish(): void {}

  abort(): void {}
}

class LiveRenderer implements Renderer {
  readonly #model: JournalModel;
  readonly #out: NodeJS.WriteStream;
  readonly #c: Colors;
  readonly #screen: LiveScreen;

  constructor(model: JournalModel, out: NodeJS.WriteStream) {
    this.#model = model;
    this.#out = out;
    this.#c = colorsFor(out);
    this.#screen = new LiveScreen(out, (now) => this.#block(now));
    this.#screen.frame();
  }

  show(change: JournalChange): void {
    // The block shows each entry's state; what scrolls above it is what the block cannot:
    // logs, parks and resumes, retries, and how entries ended.
    if (change.kind === 'begun') return;
    this.#screen.print(describe(change, this.#c));
  }

  note(text: string): void {
    this.#screen.print(text);
    this.#screen.frame();
  }

  finish(): void {
    this.#screen.stop();
  }

  abort(): void {
    this.#screen.abort();
  }

  #block(now: number): string[] {
    const c = this.#c;
    const entries = [...this.#model.entries.values()];
    const rows = Math.max(3, (this.#out.rows || 24) - 3);
    const shown = entries.slice(-rows);
    const hidden = entries.length - shown.length;
    const columns = this.#out.columns || 80;
    const nameWidth = Math.max(
      8,
      Math.min(32, columns - 48, Math.max(0, ...shown.map((e) => e.key.length))),
    );
    const lines: string[] = [];
    if (hidden > 0) lines.push(c.dim(`  … ${hidden} earlier entr${hidden === 1 ? 'y' : 'ies'}`));
    for (const e of shown) lines.push(this.#row(e, nameWidth, now));
    const parked = this.#model.parked;
    if (parked) {
      lines.push(
        `${c.yellow('⏸ parked:')} ${waitText(parked.wait, now, parked.child ?? undefined)} ${c.dim(`· ${duration(now - parked.since)}`)}`,
      );
    } else if (entries.length === 0) {
      lines.push(c.dim('  starting…'));
    }
    return lines;
  }

  #row(e: EntryView, nameWidth: number, now: number): string {
    const c = this.#c;
    const waiting = e.status === 'running' && e.kind !== 'step';
    const symbol =
      e.status === 'running' && !waiting
        ? SPINNER[Math.floor(now / FRAME_MS) % SPINNER.length]!
        : waiting
          ? '◷'
          : statusSymbol(e.status);
    const label = waiting ? (e.kind === 'sleep' ? 'sleeping' : 'waiting') : e.status;
    const paint = waiting ? 'retrying' : e.status;
    const parts = [
      paintStatus(c, paint, symbol),
      truncate(e.key, nameWidth).padEnd(nameWidth),
      c.dim(e.kind.padEnd(5)),
      paintStatus(c, paint, label.padEnd(9)),
      c.dim(
        (e.startedAt !== null ? duration((e.finishedAt ?? now) - e.startedAt) : '').padStart(8),
      ),
    ];
    if (e.kind === 'step' && e.attempt > 1) parts.push(c.dim(`attempt ${e.attempt}`));
    if (e.status === 'failed' || e.status === 'retrying') {
      if (e.error) parts.push(c.red(e.error));
    } else if (waiting && e.kind === 'sleep' && e.until !== null) {
      parts.push(c.dim(`until ${when(e.until, now)}`));
    } else if (waiting && e.kind === 'event' && e.event) {
      parts.push(c.dim(eventFilterText(e.event.type, e.event.key, e.event.match)));
    } else if (e.kind === 'child' && e.child) {
      parts.push(c.dim(`${e.child.runId}${e.child.definition ? ` (${e.child.definition})` : ''}`));
    } else if (e.kind === 'event' && e.status === 'succeeded') {
      parts.push(c.dim(e.received ? `got ${e.received.id}` : 'timed out'));
    }
    return parts.join('  ');
  }
}
