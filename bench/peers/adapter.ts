/**
 * The one interface every system under comparison implements (Weft itself included), so that
 * adding a peer is one file in `adapters/` and one line in `adapters/index.ts`.
 *
 * An adapter runs inside a child process of the harness (`child.ts`), never in the harness
 * itself: libraries with process-wide state (DBOS) start clean each time, and a worker is a
 * process of its own, as it would be in production.
 *
 * - `enqueue`: queue `n` no-op tasks on a fresh database while no worker runs; only the
 *   enqueueing is timed (setup and migrations are not).
 * - `worker`: a drain worker, prepared (connected) but not consuming until `start`; it calls
 *   `done()` once per finished task. The harness starts 1, 2 or 4 of them at once.
 * - `local`: workloads 2–5, caller and worker in one process (as in Weft's own benchmarks).
 */

/** Where an adapter's instance lives. Each is fresh: a new database, folder or server. */
export interface PeerConfig {
  /** A fresh Postgres database of its own (for Postgres-backed peers). */
  pgUrl?: string;
  /** The Redis server, flushed before the instance (BullMQ on Redis). */
  redisUrl?: string;
  /** Restate's ingress and admin URLs: a fresh server (Restate). */
  restate?: { ingress: string; admin: string };
  /** A fresh folder of the instance's own (Weft embedded keeps its SQLite file there). */
  dir: string;
  quick: boolean;
  /** Which drain worker this is (0, 1, …), for peers that name their processes. */
  workerIndex?: number;
  /** Drain workers started together. */
  workers?: number;
}

export interface EnqueueResult {
  ms: number;
  /** How the tasks were enqueued (bulk API or single calls), printed with the figure. */
  method: string;
  /** Peers that enqueue with a delay (Restate): when the tasks become due, wall-clock ms. */
  dueAt?: number;
}

export interface DrainWorker {
  start(done: () => void): Promise<void>;
  stop(): Promise<void>;
}

export interface RoundTrip {
  /** ms from the call that enqueues until the task's function starts (same process clock). */
  start: number;
  /** ms from the call that enqueues until the caller has seen the task finish. */
  result: number;
}

export interface Local {
  roundTrip(): Promise<RoundTrip>;
  /** One 10-step durable workflow (or the peer's nearest construct), to its end. */
  workflow10(): Promise<void>;
  /** 1 → 100 → 1: a root task, 100 parallel tasks, one join that sees all 100 results. */
  fan(): Promise<void>;
  /** 40 sequential tasks of ~10 ms each, in one run. */
  seq40(): Promise<void>;
  close(): Promise<void>;
}

export type Backend = 'sqlite' | 'postgres' | 'redis' | 'restate';

export interface Peer {
  /** Used by `--peers=`. */
  id: string;
  label: string;
  backend: Backend;
  /** The package and version, or "repository source". */
  version: string;
  /** Throughput settings and why, printed with the results. */
  settings: string[];
  /** Only these workloads (a variant of another row that differs in them alone). */
  workloads?: readonly number[];
  /** Workloads (and drain worker counts, as `6:2`) this peer cannot run, with the reason. */
  notApplicable?: Record<string, string>;
  /** How each local workload is built on this peer, when it has no native notion of it. */
  shapes?: Partial<Record<'2' | '3' | '4' | '5', string>>;
  /** The harness starts drain workers before enqueueing (Restate: delayed sends). */
  workersFirst?: boolean;
  enqueue(config: PeerConfig, n: number): Promise<EnqueueResult>;
  worker(config: PeerConfig): Promise<DrainWorker>;
  local(config: PeerConfig): Promise<Local>;
}

/** Wall-clock ms with sub-millisecond precision, comparable across processes. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `count` calls of `fn` with at most `width` in flight. */
export async function inFlight(
  count: number,
  width: number,
  fn: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

/** Settles promises by key, for peers whose completion is seen as an event in the process. */
export class Waiters<T = unknown> {
  readonly #waiting = new Map<string, { resolve: (value: T) => void; early?: T }>();

  wait(key: string): Promise<T> {
    const entry = this.#waiting.get(key);
    if (entry && 'early' in entry) {
      this.#waiting.delete(key);
      return Promise.resolve(entry.early as T);
    }
    return new Promise<T>((resolve) => this.#waiting.set(key, { resolve }));
  }

  settle(key: string, value: T): void {
    const entry = this.#waiting.get(key);
    if (entry && !('early' in entry)) {
      this.#waiting.delete(key);
      entry.resolve(value);
    } else {
      this.#waiting.set(key, { resolve: () => undefined, early: value });
    }
  }
}

/** Unique enough ids for runs within one process. */
let counter = 0;
export const uid = (prefix: string): string =>
  `${prefix}-${process.pid}-${Date.now().toString(36)}-${++counter}`;
