/**
 * The maintenance loop: the housekeeping a cluster needs done by exactly one process at a time,
 * run by whichever `weft server` holds the `weft:maintenance` leadership in the store. Every
 * interval the leader runs its duties: expired leases go back to the queue, and workers whose
 * heartbeat went stale are removed after their steps are given back. The other servers retry
 * the lead every interval, so when the leader stops or dies one of them takes over.
 *
 * Lifecycle (`MaintenanceState`): created → following ⇄ leading → stopping → stopped.
 * `following` is "running, not the leader". A store error (Postgres down) never ends the loop:
 * it is reported as a process warning and tried again at the next interval.
 *
 * ```ts
 * const maintenance = new Maintenance({ store });
 * await maintenance.start();
 * maintenance.isLeader; // true on one server of the cluster
 * await maintenance.stop();
 * ```
 */
import { systemClock, type Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Store } from '../store/contract/store.js';
import type { Leadership } from '../store/contract/types.js';
import { isWorkerDead } from './worker-identity.js';

export type MaintenanceState = 'created' | 'following' | 'leading' | 'stopping' | 'stopped';

/** The leadership name every server competes for. */
export const MAINTENANCE_LEADERSHIP = 'weft:maintenance';

/**
 * One piece of work the leader does every interval. Duties run in order, each on its own: one
 * that throws is reported and does not keep the others from running.
 */
export interface MaintenanceDuty {
  /** Names the duty in warnings. */
  name: string;
  run(context: DutyContext): Promise<void>;
}

export interface DutyContext {
  store: Store;
  now: number;
  /** Aborted when leadership is lost or the loop stops: a long duty should give up. */
  signal: AbortSignal;
}

export interface MaintenanceOptions {
  store: Store;
  clock?: Clock;
  /** Who holds the leadership, as the store records it. Default a fresh `srv_…` id. */
  holderId?: string;
  /** How often the leader runs its duties, and a follower tries to lead. Default 1 s. */
  intervalMs?: number;
  /** Age of a worker's last heartbeat after which it counts as dead. Default 60 s. */
  staleAfterMs?: number;
  /** Duties run after the built-in ones (the scheduler's tick). */
  duties?: readonly MaintenanceDuty[];
  /**
   * The leadership competed for. Default `weft:maintenance`; another name makes a loop of its
   * own (the workers' `weft:sensors`), led apart from the servers'.
   */
  leadership?: string;
  /**
   * Run the built-in duties (expired leases, dead workers) before `duties`. Default true;
   * false for a loop of other duties only.
   */
  housekeeping?: boolean;
  /** Where failures are reported. Default `process.emitWarning`. */
  warn?: (message: string, error: unknown) => void;
}

/** Expired leases back to the queue: the steps of workers that stopped renewing them. */
export const requeueExpiredLeases: MaintenanceDuty = {
  name: 'requeue expired leases',
  async run({ store, now }) {
    await store.requeueExpired(now);
  },
};

/**
 * Workers that are gone (heartbeat older than `staleAfterMs`, or their process is gone on this
 * host): their steps go back to the queue at once, whatever their leases, then their rows go.
 */
export function removeDeadWorkers(staleAfterMs: number): MaintenanceDuty {
  return {
    name: 'remove dead workers',
    async run({ store, now, signal }) {
      const dead = (await store.listWorkers()).filter((w) => isWorkerDead(w, now, staleAfterMs));
      if (dead.length === 0 || signal.aborted) return;
      await store.requeueExpired(
        now,
        dead.map((w) => w.id),
      );
      for (const w of dead) await store.removeWorker(w.id);
    },
  };
}

function defaultWarn(message: string, error: unknown): void {
  const detail = error instanceof Error ? error.message : String(error);
  process.emitWarning(`${message}: ${detail}`, { type: 'WeftWarning', code: 'WEFT_MAINTENANCE' });
}

export class Maintenance {
  readonly store: Store;
  readonly clock: Clock;
  readonly holderId: string;
  readonly intervalMs: number;
  readonly staleAfterMs: number;
  readonly duties: readonly MaintenanceDuty[];
  readonly leadershipName: string;
  /** The leadership as warnings name it. */
  readonly #label: string;

  #state: MaintenanceState = 'created';
  #leadership: Leadership | null = null;
  #loop: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  readonly #stop = new AbortController();
  readonly #warn: (message: string, error: unknown) => void;
  /** The last failure reported, per source: a store that stays down is reported once. */
  readonly #reported = new Map<string, string>();

  constructor(options: MaintenanceOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.holderId = options.holderId ?? newId('srv');
    this.intervalMs = options.intervalMs ?? 1000;
    this.staleAfterMs = options.staleAfterMs ?? 60_000;
    for (const [name, value] of [
      ['intervalMs', this.intervalMs],
      ['staleAfterMs', this.staleAfterMs],
    ] as const) {
      if (!Number.isFinite(value) || value <= 0) {
        throw new ConfigError('invalid_option', `${name} must be a number > 0, got ${value}`);
      }
    }
    this.leadershipName = options.leadership ?? MAINTENANCE_LEADERSHIP;
    this.#label =
      this.leadershipName === MAINTENANCE_LEADERSHIP ? 'maintenance' : this.leadershipName;
    this.duties = [
      ...(options.housekeeping === false
        ? []
        : [requeueExpiredLeases, removeDeadWorkers(this.staleAfterMs)]),
      ...(options.duties ?? []),
    ];
    this.#warn = options.warn ?? defaultWarn;
  }

  get state(): MaintenanceState {
    return this.#state;
  }

  /** Whether this process holds the leadership right now. */
  get isLeader(): boolean {
    return this.#state === 'leading' && this.#leadership?.lost.aborted === false;
  }

  /**
   * Tries to lead once (and, leading, runs the duties once), then keeps going in the
   * background every interval until {@link stop}.
   */
  async start(): Promise<void> {
    if (this.#state !== 'created') {
      throw new ConfigError('invalid_state', `maintenance cannot start: it is ${this.#state}`);
    }
    this.#transition('following');
    const first = this.#tick();
    this.#loop = first.then(() => this.#run());
    await first;
  }

  /** Ends the loop (waiting for a duty in progress) and gives up the leadership. */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    if (this.#state === 'created' || this.#state === 'stopped') {
      this.#state = 'stopped';
      return Promise.resolve();
    }
    this.#stopping = this.#shutdown();
    return this.#stopping;
  }

  async #shutdown(): Promise<void> {
    this.#transition('stopping');
    this.#stop.abort();
    await this.#loop;
    const held = this.#leadership;
    this.#leadership = null;
    if (held) {
      await held.release().catch((error: unknown) => {
        this.#report('release', `could not release the ${this.#label} leadership`, error);
      });
    }
    this.#transition('stopped');
  }

  /** The one place the state changes: the moves the lifecycle allows. */
  #transition(to: MaintenanceState): void {
    const allowed: Record<MaintenanceState, readonly MaintenanceState[]> = {
      created: ['following', 'stopped'],
      following: ['leading', 'stopping'],
      leading: ['following', 'stopping'],
      stopping: ['stopped'],
      stopped: [],
    };
    if (!allowed[this.#state].includes(to)) {
      throw new ConfigError('invalid_state', `maintenance cannot go from ${this.#state} to ${to}`);
    }
    this.#state = to;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        await this.clock.sleep(this.intervalMs, signal);
      } catch {
        return; // stopped
      }
      await this.#tick();
    }
  }

  /** One interval: take or check the leadership; leading, run every duty. */
  async #tick(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    if (this.#leadership?.lost.aborted) this.#follow();
    if (!this.#leadership) {
      let won: Leadership | null;
      try {
        won = await this.store.lead(this.leadershipName, this.holderId);
        this.#reported.delete('lead');
      } catch (error) {
        this.#report('lead', `could not take the ${this.#label} leadership (retrying)`, error);
        return;
      }
      if (!won) return;
      if (this.#stop.signal.aborted) {
        // Stopped while asking: not ours to keep.
        await won.release().catch(() => undefined);
        return;
      }
      this.#leadership = won;
      this.#transition('leading');
      won.lost.addEventListener(
        'abort',
        () => {
          if (this.#leadership !== won) return; // given up: stopping
          this.#follow();
          this.#warn(
            `lost the ${this.#label} leadership (its database connection ended); trying to lead again`,
            won.lost.reason,
          );
        },
        { once: true },
      );
    }
    const leadership = this.#leadership;
    const signal = AbortSignal.any([leadership.lost, this.#stop.signal]);
    for (const duty of this.duties) {
      if (signal.aborted) break;
      try {
        await duty.run({ store: this.store, now: this.clock.now(), signal });
        this.#reported.delete(duty.name);
      } catch (error) {
        this.#report(duty.name, `maintenance duty "${duty.name}" failed (retrying)`, error);
      }
    }
    if (leadership.lost.aborted) this.#follow();
  }

  /** Leadership lost (its connection broke): back to trying to lead at the next interval. */
  #follow(): void {
    this.#leadership = null;
    if (this.#state === 'leading') this.#transition('following');
  }

  /** Reports a failure once until it changes or its source succeeds again. */
  #report(source: string, message: string, error: unknown): void {
    const text = `${message}: ${error instanceof Error ? error.message : String(error)}`;
    if (this.#reported.get(source) === text) return;
    this.#reported.set(source, text);
    this.#warn(message, error);
  }
}
