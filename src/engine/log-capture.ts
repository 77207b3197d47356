/**
 * Routes `console` output written while a step runs into that step's logs. The console is
 * patched once per process; outside a step (or in code the step didn't start) it behaves as
 * before. AsyncLocalStorage follows the step through its awaits.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import type { LogLevel } from '../core/log.js';

export type LogSinkFn = (level: LogLevel, message: string) => void;

const current = new AsyncLocalStorage<LogSinkFn>();
let installed = false;

const METHODS: [keyof Console & ('log' | 'info' | 'warn' | 'error' | 'debug'), LogLevel][] = [
  ['log', 'info'],
  ['info', 'info'],
  ['warn', 'warn'],
  ['error', 'error'],
  ['debug', 'debug'],
];

/** Patches `console` so that calls inside {@link withLogSink} go to the sink. Idempotent. */
export function installConsoleCapture(): void {
  if (installed) return;
  installed = true;
  for (const [method, level] of METHODS) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      const sink = current.getStore();
      if (sink) sink(level, format(...args));
      else original(...args);
    };
  }
}

/**
 * Runs `fn` with console output routed to `sink`. Until the console is patched nothing reads
 * the sink: `fn` runs as is, sparing every promise it makes the cost of context tracking.
 */
export function withLogSink<T>(sink: LogSinkFn, fn: () => T): T {
  return installed ? current.run(sink, fn) : fn();
}

/** Runs `fn` with console output going to the real console, even inside a step. */
export function outsideLogSink<T>(fn: () => T): T {
  return current.exit(fn);
}
