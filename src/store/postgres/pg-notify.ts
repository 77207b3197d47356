/**
 * Telling other processes, after a commit, that there is work to do or a run finished.
 *
 * A transaction that calls `pg_notify` takes a database-wide lock when it commits and keeps it
 * until its commit record is on disk: every notifying transaction waits for the previous one's
 * fsync, and Postgres can no longer flush many commits at once. So the store's transactions and
 * statements do not notify. They mark their connection ({@link notifyAfterCommit}); once the
 * write committed, the store asks its {@link Notifier}, which sends the notification in a
 * transaction of its own that does not wait for the disk (a notification is not durable
 * anyway). Whoever is woken finds the committed rows.
 *
 * Best effort, like the notifications themselves: a notification that fails to send is dropped
 * (workers still poll), and one lost with its connection is not sent again.
 */
import type { Db } from './pg-statements.js';
import { WORK_CHANNEL } from './pg-statements.js';

const marked = new WeakSet<Db>();

/** Asks for the work channel to be notified once what `db` is writing has committed. */
export function notifyAfterCommit(db: Db): void {
  marked.add(db);
}

/** Whether a notification was asked for on `db` since the last call (and forgets it). */
export function takeNotify(db: Db): boolean {
  return marked.delete(db);
}

/** The notification, in a transaction that commits without waiting for the disk. */
const NOTIFY = {
  name: 'weft_notify_work',
  text: `SELECT set_config('synchronous_commit', 'off', true), pg_notify('${WORK_CHANNEL}', current_schema())`,
};

/**
 * Sends notifications one at a time: asked while one is in flight, it sends one more after it
 * (which follows every commit that asked), however many asked meanwhile.
 */
export class Notifier {
  readonly #db: Db;
  #sending: Promise<void> | null = null;
  #again = false;

  constructor(db: Db) {
    this.#db = db;
  }

  notify(): void {
    if (this.#sending) {
      this.#again = true;
      return;
    }
    this.#sending = this.#send().finally(() => (this.#sending = null));
  }

  /** Resolves when no notification is being sent. */
  async settled(): Promise<void> {
    while (this.#sending) await this.#sending;
  }

  async #send(): Promise<void> {
    do {
      this.#again = false;
      await this.#db.query(NOTIFY).catch(() => undefined);
    } while (this.#again);
  }
}
