/**
 * `weft server`: the HTTP API over a database, and the cluster's maintenance (expired leases
 * back to the queue, dead workers removed) while this server is the elected leader. Servers
 * never load user code: run it with any number of `weft worker` processes on the same
 * database. Stops cleanly on SIGTERM or SIGINT.
 *
 * ```sh
 * weft server --db postgres://weft@db/weft --port 8080 --token "$WEFT_TOKEN"
 * ```
 */
import { Engine } from '../../engine/engine.js';
import type { Store } from '../../store/contract/store.js';
import { advanceBackfills } from '../../engine/backfills.js';
import { Maintenance } from '../../engine/maintenance.js';
import { eventTriggers } from '../../engine/event-triggers.js';
import { failureNotifications } from '../../engine/failure-notifications.js';
import { checkWebhook } from '../../sdk/failure-hook.js';
import { scheduleTicks } from '../../engine/scheduler.js';
import { createServer, isLoopback } from '../../server/index.js';
import { dbPath, describeDb, openStore } from '../open-store.js';
import { UsageError } from '../usage-error.js';

export interface ServerFlags {
  onFailure?: string[];
  db?: string;
  port?: string;
  host?: string;
  token?: string;
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';

export function parsePort(value: string | undefined, flag = '--port'): number {
  if (value === undefined) return DEFAULT_PORT;
  const port = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(port) || port > 65_535) {
    throw new UsageError(
      `${flag} must be a whole number from 0 to 65535 (0 picks a free port), got ${JSON.stringify(value)}`,
    );
  }
  return port;
}

/**
 * A failed listen as a usage error when the flags can fix it: `flag` names the port's flag
 * (the host's is the same with `-host` for `-port`).
 */
export function listenError(error: unknown, host: string, port: number, flag = '--port'): unknown {
  const code = (error as { code?: unknown }).code;
  const hostFlag = flag.replace(/port$/, 'host');
  switch (code) {
    case 'EADDRINUSE':
      return new UsageError(
        `port ${port} on ${host} is in use; pick another with ${flag} (${flag} 0 picks a free one)`,
      );
    case 'EACCES':
      return new UsageError(
        `not allowed to listen on port ${port}; ports below 1024 need privileges, pick another with ${flag}`,
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UsageError(
        `cannot listen on host ${host}: no such address here; pass ${hostFlag} 127.0.0.1, or 0.0.0.0 for every interface`,
      );
    default:
      return error;
  }
}

/** Resolves with the first of the signals that arrives. */
export function nextSignal(signals: readonly NodeJS.Signals[]): {
  received: Promise<NodeJS.Signals>;
  dispose: () => void;
} {
  let dispose = () => {};
  const received = new Promise<NodeJS.Signals>((resolve) => {
    const handlers = signals.map((s) => [s, () => resolve(s)] as const);
    for (const [s, h] of handlers) process.once(s, h);
    dispose = () => {
      for (const [s, h] of handlers) process.off(s, h);
    };
  });
  return { received, dispose };
}

/**
 * `--port`, `--host` and `--token` (or `WEFT_TOKEN`), checked: anything but a loopback host
 * needs a token.
 */
export function listenFlags(flags: { port?: string; host?: string; token?: string }): {
  port: number;
  host: string;
  token: string | undefined;
} {
  const port = parsePort(flags.port);
  const host = flags.host ?? DEFAULT_HOST;
  if (host === '') throw new UsageError('--host is empty; e.g. --host 127.0.0.1');
  if (flags.token === '') {
    throw new UsageError('--token is empty; give a secret, or leave --token out for no auth');
  }
  const token = flags.token ?? (process.env.WEFT_TOKEN || undefined);
  if (!token && !isLoopback(host)) {
    throw new UsageError(
      `--host ${host} is reachable from other machines: give a token with --token (or WEFT_TOKEN), or listen on 127.0.0.1`,
    );
  }
  return { port, host, token };
}

/** `--on-failure <url>` (repeatable, or `WEFT_ON_FAILURE`, comma-separated), checked. */
export function failureWebhooks(flags: readonly string[] | undefined): string[] {
  const given = flags?.length
    ? flags
    : (process.env.WEFT_ON_FAILURE ?? '').split(',').filter((u) => u.trim() !== '');
  return given.map((url) => {
    try {
      return checkWebhook(url.trim(), '--on-failure');
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  });
}

/**
 * The cluster's maintenance with what a server adds to it: the scheduler, event triggers,
 * backfills and failure notifications, submitting runs through `engine`.
 */
export function clusterMaintenance(
  store: Store,
  engine: Engine,
  failureWebhooks: readonly string[],
): Maintenance {
  return new Maintenance({
    store,
    duties: [
      scheduleTicks({ engine }),
      eventTriggers({ engine }),
      advanceBackfills({ engine }),
      failureNotifications({ webhooks: failureWebhooks }),
    ],
  });
}

export async function serverCommand(flags: ServerFlags): Promise<number> {
  // Flags are checked before the database is opened.
  const { port, host, token } = listenFlags(flags);
  const onFailure = failureWebhooks(flags.onFailure);
  const target = dbPath(flags.db);

  // Listening for signals from the start: a SIGTERM while the database opens still stops us
  // cleanly once it has.
  const stop = nextSignal(['SIGTERM', 'SIGINT']);
  const store = await openStore(target);
  // A client engine (it runs nothing): the API's triggers and the scheduler's ticks submit
  // runs through it, from the definitions workers registered.
  const engine = new Engine({ store, definitions: [], worker: false, captureConsole: false });
  const maintenance = clusterMaintenance(store, engine, onFailure);
  const api = createServer({ store, engine, token, leader: () => maintenance.isLeader });
  try {
    await engine.start();
    let address: { url: string };
    try {
      address = await api.listen(port, host);
    } catch (error) {
      throw listenError(error, host, port);
    }
    await maintenance.start();
    process.stdout.write(`weft server listening on ${address.url} (db ${describeDb(target)})\n`);
    await stop.received;
    return 0;
  } finally {
    stop.dispose();
    // A second signal while shutting down ends the process at once.
    const force = nextSignal(['SIGTERM', 'SIGINT']);
    void force.received.then((signal) => process.exit(signal === 'SIGINT' ? 130 : 143));
    await api.close();
    await maintenance.stop();
    await engine.stop();
    await store.close();
    force.dispose();
  }
}
