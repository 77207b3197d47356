/** What user code receives while it runs: its abort signal, attempt number and a logger. */

import { signalOf, type Abortable } from '../core/attempt.js';
import type { LogLevel } from '../core/log.js';
import type { Partition } from '../core/partitions.js';
export type { LogLevel, Partition };

export interface Logger {
  debug(message: string, data?: unknown): void;
  info(message: string, data?: unknown): void;
  warn(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
}

export interface TaskContext {
  /** Aborts when the attempt times out or the run is cancelled. Pass it to `fetch` and friends. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry… */
  readonly attempt: number;
  /** The run this attempt belongs to, or `null` when the task is called as a plain function. */
  readonly runId: string | null;
  /** The step key (`cleaned`, `perRegion[3]`), or `null` outside a run. */
  readonly step: string | null;
  /** Log lines are stored with the step and shown by `weft show` and the UI. */
  readonly log: Logger;
  /**
   * The partition the run computes, for a partitioned pipeline: its key (the partition param's
   * value) and, for time partitions, its window in ms (`[start, end)`). Null otherwise.
   */
  readonly partition: Partition | null;
}

export type LogSink = (level: LogLevel, message: string, data?: unknown) => void;

/** A logger writing through `sink`. */
export function makeLogger(sink: LogSink): Logger {
  return {
    debug: (m, d) => sink('debug', m, d),
    info: (m, d) => sink('info', m, d),
    warn: (m, d) => sink('warn', m, d),
    error: (m, d) => sink('error', m, d),
  };
}

/** Formats a log line's optional data for display and storage. */
export function formatLogData(message: string, data: unknown): string {
  if (data === undefined) return message;
  let text: string;
  try {
    text = typeof data === 'string' ? data : JSON.stringify(data);
  } catch {
    text = Object.prototype.toString.call(data);
  }
  return `${message} ${text}`;
}

const consoleLogger = makeLogger((level, message, data) => {
  const line = formatLogData(message, data);
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
});

const neverAborted = new AbortController().signal;

/** The context of a task called as a plain function, outside any run. */
export function plainContext(): TaskContext {
  return {
    signal: neverAborted,
    attempt: 1,
    runId: null,
    step: null,
    log: consoleLogger,
    partition: null,
  };
}

/**
 * The context of one attempt inside a run. The logger and the signal are made on first use:
 * most steps never log or look at their signal, and a cheap context keeps the per-node overhead of the runners low.
 */
export class AttemptContext implements TaskContext {
  readonly #signal: Abortable;
  readonly attempt: number;
  readonly runId: string | null;
  readonly step: string | null;
  readonly partition: Partition | null;
  readonly #sink: LogSink;
  #log: Logger | null = null;

  constructor(
    signal: Abortable,
    attempt: number,
    runId: string,
    step: string,
    sink: LogSink,
    partition: Partition | null = null,
  ) {
    this.#signal = signal;
    this.attempt = attempt;
    this.runId = runId;
    this.step = step;
    this.#sink = sink;
    this.partition = partition;
  }

  /** Made on first use, as the logger is. */
  get signal(): AbortSignal {
    return signalOf(this.#signal);
  }

  get log(): Logger {
    return (this.#log ??= makeLogger(this.#sink));
  }
}
