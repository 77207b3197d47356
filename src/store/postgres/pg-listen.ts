/**
 * Work notifications: a connection of its own that LISTENs on the work channel and calls back
 * when another process queued work or finished a run in this store's schema. The store
 * notifies once the write committed (`pg-notify.ts`), so a woken worker always finds the
 * committed rows.
 *
 * Best effort by design: a worker still polls. When the connection breaks (a Postgres restart)
 * the subscription reconnects with backoff and, once back, calls back once, since whatever was
 * notified meanwhile is lost.
 */
import pg from 'pg';
import { WORK_CHANNEL } from './pg-statements.js';

const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 2000;

export class WorkSubscription {
  readonly #config: pg.ClientConfig;
  /** Called with the process id of the server connection that sent the notification. */
  readonly #listener: (pid: number) => void;
  #client: pg.Client | null = null;
  #schema: string | null = null;
  #stopped = false;
  #retry: NodeJS.Timeout | null = null;
  #backoff = MIN_BACKOFF_MS;

  constructor(config: pg.ClientConfig, listener: (pid: number) => void) {
    this.#config = config;
    this.#listener = listener;
  }

  /** Connects and listens; rejects if the first connection fails. */
  async start(): Promise<void> {
    await this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retry) clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ ...this.#config, application_name: 'weft listener' });
    let dropped = false;
    const drop = (): void => {
      if (dropped) return;
      dropped = true;
      if (this.#client === client) this.#client = null;
      void client.end().catch(() => undefined);
      this.#scheduleReconnect();
    };
    client.on('error', drop);
    client.on('end', drop);
    client.on('notification', (message) => {
      // Other schemas of the same database (other Weft deployments) share the channel.
      if (message.channel === WORK_CHANNEL && (message.payload ?? '') === this.#schema) {
        this.#listener(message.processId);
      }
    });
    try {
      await client.connect();
      const { rows } = await client.query<{ s: string | null }>('SELECT current_schema() AS s');
      this.#schema = rows[0]?.s ?? '';
      await client.query(`LISTEN ${WORK_CHANNEL}`);
    } catch (error) {
      dropped = true;
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.#stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#backoff = MIN_BACKOFF_MS;
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#retry) return;
    const delay = this.#backoff;
    this.#backoff = Math.min(MAX_BACKOFF_MS, this.#backoff * 2);
    this.#retry = setTimeout(() => {
      this.#retry = null;
      if (this.#stopped) return;
      this.#connect().then(
        // Notifications sent while we were away are gone: look once (as if from another).
        () => this.#listener(-1),
        () => this.#scheduleReconnect(),
      );
    }, delay);
    this.#retry.unref();
  }
}
