/**
 * Log lines from the run's stream, handed to whichever log views are open. The page follows
 * one stream; views subscribe to it instead of opening their own.
 */
import type { LogView } from '../../../../src/client/index.js';

export type LogListener = (log: LogView) => void;

export class LogBus {
  readonly #listeners = new Set<LogListener>();

  subscribe(listener: LogListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(log: LogView): void {
    for (const listener of this.#listeners) listener(log);
  }
}
