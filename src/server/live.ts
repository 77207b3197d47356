/**
 * What `GET /api/stream` follows: changes of runs, steps and log lines, read from the store.
 * The work happens in other processes (workers on Postgres, another process on the same SQLite
 * file), so the store is the one place that sees it all: the hub polls it, and only while
 * someone listens. Listeners of one topic — one run, or every run — share one poller, which
 * keeps what it last read and passes on what changed.
 *
 * An engine in this process can say when something changed ({@link LiveHub.poke}): the topic is
 * read at once instead of at its next tick.
 */
import { isTerminalRun } from '../core/states.js';
import type { Store } from '../store/contract/store.js';
import type { LogRecord, RunRecord, StepRecord } from '../store/contract/types.js';

/** A change the hub passes on: the record as it is now. */
export type LiveChange =
  | { type: 'run'; run: RunRecord }
  | { type: 'step'; step: StepRecord }
  | { type: 'log'; log: LogRecord }
  /** What was passed on may be incomplete: reload what is shown. */
  | { type: 'reset' };

export interface LiveListener {
  send(change: LiveChange): void;
  /** The hub is closing: end the stream. */
  end(): void;
}

export interface LiveOptions {
  /** How often one run's poller reads the run, its steps and its logs. Default 250 ms. */
  runMs?: number;
  /** How often the poller of every run reads the runs. Default 500 ms. */
  runsMs?: number;
  /** How often a stream with nothing to say sends a comment, to keep proxies from closing it. Default 15 s. */
  pingMs?: number;
  /** Where a failed poll is reported (the poller tries again at its next tick). */
  onError?: (error: unknown) => void;
}

/** The topic of every run. */
const ALL = '*';
/**
 * Postgres numbers a log line when it is inserted, not when it commits: a line with a lower
 * `seq` can become visible after a higher one was read. Each poll reads again this far behind
 * its cursor (in `seq`s, which are global: a transaction commits long before thousands of lines
 * are numbered after its own), and drops the lines it sent already.
 */
const LOG_WINDOW = 2000;
/**
 * Log lines read per page, and pages per poll at most (the rest waits for the next poll). The
 * window behind the cursor holds at most `LOG_WINDOW` lines: the pages left after reading it
 * again are for new lines, so a run that logs a lot still moves on.
 */
const LOG_PAGE = 1000;
const LOG_PAGES = LOG_WINDOW / LOG_PAGE + 10;
/** The newest runs the poller of every run reads, and the unfinished runs of each status. */
const NEWEST = 50;
const UNFINISHED = 500;
/** Polls a poke brings forward are at least this far apart. */
const MIN_GAP_MS = 50;

const runSignature = (r: RunRecord): string =>
  `${r.status}|${r.updatedAt}|${r.startedAt}|${r.finishedAt}`;

// Lease renewals (`leaseExpiresAt`) are left out: they change while nothing happens.
const stepSignature = (s: StepRecord): string =>
  [
    s.status,
    s.attempt,
    s.queuedAt,
    s.startedAt,
    s.finishedAt,
    s.availableAt,
    s.waitingOn,
    s.leaseOwner,
    s.output?.length,
    s.error?.message,
  ].join('|');

abstract class Poller {
  readonly listeners = new Set<LiveListener>();
  #timer: NodeJS.Timeout | undefined;
  /** When the scheduled poll is due. */
  #dueAt = 0;
  /** When the last poll began. */
  #lastAt = 0;
  #polling: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  #failing = false;

  constructor(
    readonly store: Store,
    readonly intervalMs: number,
    readonly onError: (error: unknown) => void,
  ) {}

  protected abstract poll(): Promise<void>;

  /** Passes a change on to every listener. */
  protected broadcast(change: LiveChange): void {
    for (const l of this.listeners) l.send(change);
  }

  start(): void {
    this.#schedule(0);
  }

  /**
   * Polls now, or as soon as the last poll is {@link MIN_GAP_MS} old: an engine busy with many
   * steps pokes far more often than polls are worth.
   */
  poke(): void {
    if (this.#stopped) return;
    if (this.#polling) {
      this.#again = true;
      return;
    }
    const wait = Math.max(0, this.#lastAt + this.#minGap - Date.now());
    if (Date.now() + wait < this.#dueAt) this.#schedule(wait);
  }

  get #minGap(): number {
    return Math.min(MIN_GAP_MS, this.intervalMs);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#dueAt = Date.now() + ms;
    this.#timer = setTimeout(() => void this.#tick(), ms);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#stopped || this.#polling) return;
    this.#lastAt = Date.now();
    // A store that is down fails every poll: it is reported once, until a poll succeeds.
    this.#polling = this.poll().then(
      () => void (this.#failing = false),
      (error: unknown) => {
        if (!this.#failing) this.onError(error);
        this.#failing = true;
      },
    );
    await this.#polling;
    this.#polling = null;
    if (this.#stopped) return;
    const again = this.#again;
    this.#again = false;
    this.#schedule(again ? Math.max(0, this.#lastAt + this.#minGap - Date.now()) : this.intervalMs);
  }
}

/** One run: the run, its steps and its log lines. */
class RunPoller extends Poller {
  #run: RunRecord | null = null;
  #runSig = '';
  readonly #steps = new Map<string, { step: StepRecord; sig: string }>();
  /** Highest `seq` read, or null before the first poll (which skips the lines there are). */
  #cursor: number | null = null;
  /** Lines sent within {@link LOG_WINDOW} behind the cursor. */
  readonly #sent = new Set<number>();
  /** Whether the last poll changed nothing: a finished run is then only looked at. */
  #quiet = false;
  readonly #ready: Promise<void>;
  #markReady!: () => void;

  constructor(
    store: Store,
    readonly runId: string,
    intervalMs: number,
    onError: (error: unknown) => void,
  ) {
    super(store, intervalMs, onError);
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
  }

  /** Sends the run and its steps as they are to a new listener, once they have been read. */
  greet(listener: LiveListener): void {
    void this.#ready.then(() => {
      if (!this.listeners.has(listener)) return;
      if (this.#run) listener.send({ type: 'run', run: this.#run });
      for (const { step } of this.#steps.values()) listener.send({ type: 'step', step });
    });
  }

  protected async poll(): Promise<void> {
    const run = await this.store.getRun(this.runId);
    if (!run) return;
    const first = this.#cursor === null;
    const runSig = runSignature(run);
    const runChanged = runSig !== this.#runSig;
    this.#run = run;
    this.#runSig = runSig;
    // A finished run whose last poll found nothing new: its steps move no more (a late line
    // of a worker that had not heard of the end may still come).
    if (!runChanged && this.#quiet && isTerminalRun(run.status)) {
      await this.#readLogs(false);
      return;
    }

    let changed = runChanged;
    const steps = await this.store.listSteps(this.runId);
    for (const step of steps) {
      const sig = stepSignature(step);
      const known = this.#steps.get(step.key);
      if (known?.sig === sig) continue;
      this.#steps.set(step.key, { step, sig });
      changed = true;
      if (!first) this.broadcast({ type: 'step', step });
    }
    if (await this.#readLogs(first)) changed = true;
    // The run last: a client that stops when the run finishes has had its last steps and lines.
    if (runChanged && !first) this.broadcast({ type: 'run', run });
    this.#quiet = !changed;
    if (first) this.#markReady();
  }

  /** Passes on the lines after the cursor (skipping those there were on the first poll). */
  async #readLogs(first: boolean): Promise<boolean> {
    let cursor = this.#cursor ?? 0;
    let from = Math.max(0, cursor - LOG_WINDOW);
    let any = false;
    for (let page = 0; page < LOG_PAGES || first; page++) {
      const lines = await this.store.listLogs(this.runId, { afterSeq: from, limit: LOG_PAGE });
      for (const log of lines) {
        if (this.#sent.has(log.seq)) continue;
        this.#sent.add(log.seq);
        if (log.seq > cursor) cursor = log.seq;
        if (!first) {
          any = true;
          this.broadcast({ type: 'log', log });
        }
      }
      if (lines.length < LOG_PAGE) break;
      from = lines[lines.length - 1]!.seq;
    }
    this.#cursor = cursor;
    for (const seq of this.#sent) if (seq <= cursor - LOG_WINDOW) this.#sent.delete(seq);
    return any;
  }
}

/** Every run: the newest ones and the unfinished ones, passed on when their status or time moves. */
class RunsPoller extends Poller {
  /** The runs read by the last poll: their signatures. */
  #known = new Map<string, string>();
  /** Unfinished runs of the last poll: one that drops out of the lists is read on its own. */
  #unfinished = new Set<string>();
  #first = true;

  protected async poll(): Promise<void> {
    const lists = await Promise.all([
      this.store.listRuns({ limit: NEWEST }),
      this.store.listRuns({ status: 'queued', limit: UNFINISHED }),
      this.store.listRuns({ status: 'running', limit: UNFINISHED }),
      this.store.listRuns({ status: 'waiting', limit: UNFINISHED }),
    ]);
    const seen = new Map<string, RunRecord>();
    for (const list of lists) for (const run of list) seen.set(run.id, run);
    // Runs that were unfinished and are in no list now finished (or fell off the newest page):
    // read them, so that their last transition is passed on.
    const gone = [...this.#unfinished].filter((id) => !seen.has(id));
    for (const run of await Promise.all(gone.map((id) => this.store.getRun(id)))) {
      if (run) seen.set(run.id, run);
    }

    const newest = lists[0];
    const known = this.#known;
    const next = new Map<string, string>();
    const unfinished = new Set<string>();
    const changes: RunRecord[] = [];
    for (const run of seen.values()) {
      const sig = runSignature(run);
      next.set(run.id, sig);
      if (!isTerminalRun(run.status)) unfinished.add(run.id);
      if (known.get(run.id) !== sig) changes.push(run);
    }
    this.#known = next;
    this.#unfinished = unfinished;
    if (this.#first) {
      this.#first = false;
      return;
    }
    // A full page of runs none of which was known: more runs came than one poll reads, and
    // some may have come and gone unseen.
    const overflow = newest.length === NEWEST && newest.every((r) => !known.has(r.id));
    if (overflow) this.broadcast({ type: 'reset' });
    changes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const run of changes) this.broadcast({ type: 'run', run });
  }
}

/** The pollers of a server, one per topic with listeners. */
export class LiveHub {
  readonly #store: Store;
  readonly #runMs: number;
  readonly #runsMs: number;
  /** See {@link LiveOptions.pingMs}. */
  readonly pingMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #pollers = new Map<string, Poller>();
  #closed = false;

  constructor(store: Store, options: LiveOptions = {}) {
    this.#store = store;
    this.#runMs = options.runMs ?? 250;
    this.#runsMs = options.runsMs ?? 500;
    this.pingMs = options.pingMs ?? 15_000;
    this.#onError = options.onError ?? (() => {});
  }

  /** Topics being polled right now (a run id, or `*` for every run). */
  get topics(): string[] {
    return [...this.#pollers.keys()];
  }

  /**
   * Listens to one run (its run, steps and log lines: the run and its steps as they are come
   * first), or with `runId` null to every run's transitions. Returns the function that stops
   * listening; the last listener to leave a topic stops its poller.
   */
  subscribe(runId: string | null, listener: LiveListener): () => void {
    if (this.#closed) {
      listener.end();
      return () => {};
    }
    const topic = runId ?? ALL;
    let poller = this.#pollers.get(topic);
    if (!poller) {
      poller =
        runId === null
          ? new RunsPoller(this.#store, this.#runsMs, this.#onError)
          : new RunPoller(this.#store, runId, this.#runMs, this.#onError);
      this.#pollers.set(topic, poller);
      poller.start();
    }
    poller.listeners.add(listener);
    if (poller instanceof RunPoller) poller.greet(listener);
    const subscribed = poller;
    return () => {
      subscribed.listeners.delete(listener);
      if (subscribed.listeners.size === 0 && this.#pollers.get(topic) === subscribed) {
        subscribed.stop();
        this.#pollers.delete(topic);
      }
    };
  }

  /** Something changed in this run (or somewhere): read its topics now rather than later. */
  poke(runId?: string): void {
    if (runId !== undefined) this.#pollers.get(runId)?.poke();
    this.#pollers.get(ALL)?.poke();
  }

  /** Stops every poller and ends every listener's stream. */
  close(): void {
    this.#closed = true;
    for (const poller of this.#pollers.values()) {
      poller.stop();
      for (const l of poller.listeners) l.end();
      poller.listeners.clear();
    }
    this.#pollers.clear();
  }
}
