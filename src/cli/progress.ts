/**
 * Live progress of one run. On a terminal, a status line per node redrawn in place (at most
 * ten times a second) with log lines scrolling above it; elsewhere (a pipe, a file, CI) plain
 * timestamped lines, one per transition.
 *
 * Writes go straight to the stream, never through `console`: the engine routes `console` calls
 * made inside a step into that step's logs, and a timer started from an event handler would
 * inherit that step's context.
 */
import type { EngineEvent } from '../engine/events.js';
import type { PipelineSpec } from '../sdk/pipeline.js';
import type { StepRecord } from '../store/contract/types.js';
import {
  clockTime,
  colorsFor,
  duration,
  fitWidth,
  paintStatus,
  statusSymbol,
  truncate,
  type Colors,
} from './format.js';
import { ProgressModel, type Change, type NodeView } from './progress-model.js';

export interface ProgressView {
  /** Feeds an engine event (events of other runs are ignored). */
  onEvent(event: EngineEvent): void;
  /** Prints a message line (above the live block on a terminal). */
  note(text: string): void;
  /** Reconciles with the store's final step records, draws the last frame, and stops. */
  finish(steps: readonly StepRecord[]): void | Promise<void>;
  /** Stops drawing at once (second Ctrl-C): restores the cursor. */
  abort(): void;
}

export interface ProgressOptions {
  runId: string;
  spec: PipelineSpec;
  /** The run's steps as recorded when the view starts. */
  steps: readonly StepRecord[];
  out: NodeJS.WriteStream;
  /** Redraw in place; default: whether `out` is a terminal. */
  live?: boolean;
}

export function createProgress(options: ProgressOptions): ProgressView {
  const model = new ProgressModel(options.runId, options.spec, options.steps);
  const live = options.live ?? options.out.isTTY === true;
  return live ? new LiveView(model, options.out) : new PlainView(model, options.out);
}

/** `attempt 2/3` when the node retries; a resumed attempt may be past the retry count. */
function attemptText(n: NodeView, attempt = n.attempt): string {
  return n.maxAttempts > 1 && attempt <= n.maxAttempts
    ? `attempt ${attempt}/${n.maxAttempts}`
    : `attempt ${attempt}`;
}

export function logLine(c: Colors, event: Extract<EngineEvent, { type: 'log' }>): string {
  const level = event.level === 'info' ? '' : `${event.level}: `;
  const paint =
    event.level === 'error' ? c.red : event.level === 'warn' ? c.yellow : (s: string) => s;
  return `${c.dim(clockTime(event.at))} ${c.magenta(`[${event.step ?? 'run'}]`)} ${paint(level + event.message)}`;
}

// ---------------------------------------------------------------------------------------------

class PlainView implements ProgressView {
  readonly #model: ProgressModel;
  readonly #out: NodeJS.WriteStream;
  readonly #c: Colors;
  #stopped = false;

  constructor(model: ProgressModel, out: NodeJS.WriteStream) {
    this.#model = model;
    this.#out = out;
    this.#c = colorsFor(out);
  }

  onEvent(event: EngineEvent): void {
    // Steps of a cancelled run may still log until they notice the abort: not after the summary.
    if (this.#stopped || event.runId !== this.#model.runId) return;
    if (event.type === 'log') return this.#line(logLine(this.#c, event));
    if (event.type !== 'step') return;
    const text = this.#describe(this.#model.apply(event));
    if (text !== null) this.#line(text);
  }

  #describe(change: Change): string | null {
    if (!change) return null;
    const c = this.#c;
    const n = change.node;
    const time = c.dim(clockTime(change.at));
    const name = c.bold(n.name);
    switch (change.kind) {
      case 'running':
        return `${time} ${name} ${paintStatus(c, 'running', 'running')} (${attemptText(n)})`;
      case 'expanded':
        return `${time} ${name} fanned out to ${n.items} item${n.items === 1 ? '' : 's'}`;
      case 'retry':
        return (
          `${time} ${c.bold(change.step)} ${paintStatus(c, 'retrying', 'failed')} (${attemptText(n, change.attempt)}): ` +
          `${change.error?.message ?? 'unknown error'}; retrying at ${clockTime(change.retryAt)} ` +
          `(in ${duration(change.retryAt - change.at)})`
        );
      case 'item-failed':
        return `${time} ${c.bold(change.step)} ${paintStatus(c, 'failed', 'failed')} (${attemptText(n, change.attempt)}): ${change.error?.message ?? 'unknown error'}`;
      case 'finished': {
        const status = paintStatus(c, n.status, n.status);
        const took =
          n.attemptStartedAt !== null && n.kind === 'node' ? n.attemptStartedAt : n.startedAt;
        const time_ = took !== null ? ` in ${duration(change.at - took)}` : '';
        const items = n.items !== null ? ` (${n.itemsDone}/${n.items} items)` : '';
        const failed = n.status === 'failed' && n.kind === 'node';
        const attempts = failed && n.attempt > 1 ? ` (${attemptText(n)})` : '';
        const why = failed && n.error ? `: ${n.error}` : '';
        return `${time} ${name} ${status}${time_}${items}${attempts}${why}`;
      }
    }
  }

  note(text: string): void {
    this.#line(text);
  }

  finish(steps: readonly StepRecord[]): void {
    this.#model.refresh(steps);
    this.#stopped = true;
  }

  abort(): void {
    this.#stopped = true;
  }

  #line(text: string): void {
    this.#out.write(`${text}\n`);
  }
}

// ---------------------------------------------------------------------------------------------

export const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
export const FRAME_MS = 100;
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

/**
 * A block of status lines redrawn in place on a terminal (at most ten times a second), with
 * lines printed above it scrolling away. `block` draws the status lines for a moment.
 */
export class LiveScreen {
  readonly out: NodeJS.WriteStream;
  readonly #block: (now: number) => string[];
  readonly #timer: NodeJS.Timeout;
  /** Lines printed above the block since the last frame. */
  #pending: string[] = [];
  /** Lines of the block on screen now. */
  #drawn = 0;
  #stopped = false;

  constructor(out: NodeJS.WriteStream, block: (now: number) => string[]) {
    this.out = out;
    this.#block = block;
    out.write(HIDE_CURSOR);
    // Whatever ends the process (an error, a second Ctrl-C), the cursor comes back.
    process.once('exit', this.#restoreCursor);
    this.#timer = setInterval(() => this.frame(), FRAME_MS);
    this.#timer.unref();
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Prints a line above the block at the next frame. */
  print(line: string): void {
    this.#pending.push(line);
  }

  /** Draws the final frame and stops. */
  stop(): void {
    if (this.#stopped) return;
    this.frame();
    this.abort();
  }

  /** Stops drawing at once; restores the cursor. */
  abort(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    process.off('exit', this.#restoreCursor);
    this.#restoreCursor();
  }

  readonly #restoreCursor = (): void => {
    this.out.write(SHOW_CURSOR);
  };

  frame(): void {
    if (this.#stopped) return;
    const width = Math.max(20, (this.out.columns || 80) - 1);
    let text = this.#drawn > 0 ? `\x1b[${this.#drawn}A\r\x1b[J` : '';
    for (const line of this.#pending) text += `${line}\n`;
    this.#pending = [];
    const block = this.#block(Date.now());
    for (const line of block) text += `${fitWidth(line, width)}\n`;
    this.#drawn = block.length;
    this.out.write(text);
  }
}

class LiveView implements ProgressView {
  readonly #model: ProgressModel;
  readonly #out: NodeJS.WriteStream;
  readonly #c: Colors;
  readonly #screen: LiveScreen;

  constructor(model: ProgressModel, out: NodeJS.WriteStream) {
    this.#model = model;
    this.#out = out;
    this.#c = colorsFor(out);
    this.#screen = new LiveScreen(out, (now) => this.#block(now));
    this.#screen.frame();
  }

  onEvent(event: EngineEvent): void {
    if (this.#screen.stopped || event.runId !== this.#model.runId) return;
    if (event.type === 'log') this.#screen.print(logLine(this.#c, event));
    else if (event.type === 'step') {
      const change = this.#model.apply(event);
      if (change?.kind === 'retry' && change.step !== change.node.name) {
        this.#screen.print(
          `${this.#c.dim(clockTime(change.at))} ${this.#c.bold(change.step)} ${this.#c.yellow('retrying')}: ${change.error?.message ?? ''}`,
        );
      } else if (change?.kind === 'item-failed') {
        this.#screen.print(
          `${this.#c.dim(clockTime(change.at))} ${this.#c.bold(change.step)} ${this.#c.red('failed')}: ${change.error?.message ?? ''}`,
        );
      }
    }
  }

  note(text: string): void {
    this.#screen.print(text);
    this.#screen.frame();
  }

  finish(steps: readonly StepRecord[]): void {
    if (this.#screen.stopped) return;
    this.#model.refresh(steps);
    this.#screen.stop();
  }

  abort(): void {
    this.#screen.abort();
  }

  #block(now: number): string[] {
    const nodes = [...this.#model.nodes.values()];
    const rows = Math.max(3, (this.#out.rows || 24) - 2);
    const shown = nodes.length <= rows ? nodes : pickShown(nodes, rows - 1);
    const columns = this.#out.columns || 80;
    const nameWidth = Math.max(
      8,
      Math.min(32, columns - 40, Math.max(...shown.map((n) => n.name.length))),
    );
    const lines = shown.map((n) => this.#row(n, nameWidth, now));
    if (shown.length < nodes.length) {
      const hidden = nodes.filter((n) => !shown.includes(n));
      const counts = new Map<string, number>();
      for (const n of hidden) counts.set(n.status, (counts.get(n.status) ?? 0) + 1);
      lines.push(
        this.#c.dim(
          `  … ${hidden.length} more: ${[...counts].map(([s, k]) => `${k} ${s}`).join(', ')}`,
        ),
      );
    }
    return lines;
  }

  #row(n: NodeView, nameWidth: number, now: number): string {
    const c = this.#c;
    const symbol =
      n.status === 'running'
        ? SPINNER[Math.floor(now / FRAME_MS) % SPINNER.length]!
        : statusSymbol(n.status);
    const parts = [
      paintStatus(c, n.status, symbol),
      truncate(n.name, nameWidth).padEnd(nameWidth),
      paintStatus(c, n.status, n.status.padEnd(9)),
    ];
    const timeText = n.startedAt !== null ? duration((n.finishedAt ?? now) - n.startedAt) : '';
    parts.push(c.dim(timeText.padStart(8)));
    if (n.attempt > 0 && (n.attempt > 1 || n.maxAttempts > 1)) parts.push(c.dim(attemptText(n)));
    if (n.items !== null) {
      const failed = n.itemsFailed ? c.red(` (${n.itemsFailed} failed)`) : '';
      parts.push(`${n.itemsDone}/${n.items} items${failed}`);
    }
    if (n.status === 'retrying' && n.retryAt !== null) {
      const wait = Math.max(0, n.retryAt - now);
      parts.push(c.yellow(`retry in ${duration(wait)}`) + (n.error ? c.dim(`: ${n.error}`) : ''));
    } else if (n.status === 'failed' && n.error) {
      parts.push(c.red(n.error));
    }
    return parts.join('  ');
  }
}

/** The rows to show when not all fit: unfinished and failed first, in graph order. */
function pickShown(nodes: NodeView[], room: number): NodeView[] {
  const rank = (n: NodeView) =>
    n.status === 'running' || n.status === 'retrying' || n.status === 'failed'
      ? 0
      : n.status === 'queued'
        ? 1
        : 2;
  const chosen = new Set(
    [...nodes]
      .map((n, i) => ({ n, i }))
      .sort((a, b) => rank(a.n) - rank(b.n) || a.i - b.i)
      .slice(0, room)
      .map((x) => x.n),
  );
  return nodes.filter((n) => chosen.has(n));
}
