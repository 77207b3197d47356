/**
 * `weft worker <file.ts>`: a long-lived worker. It loads the file's pipelines and workflows,
 * registers itself in the database and runs their steps — of every run, whoever submitted it —
 * until it is told to stop. Any number of workers, on any hosts, share one Postgres database.
 *
 * ```sh
 * weft worker pipelines.ts --db postgres://weft@db/weft --concurrency 32 --labels gpu
 * ```
 *
 * Shutdown is graceful, then forced. The first SIGTERM (or SIGINT) stops claiming and lets the
 * running steps finish for up to `--grace`; what is still running then is aborted and handed
 * back to the queue, and the process exits 0. A second signal aborts at once: the running steps
 * are handed back and the process exits 128 + the signal's number (143 for SIGTERM, 130 for
 * SIGINT), as a shell reports a process the signal ended.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants } from 'node:os';
import { parseDuration } from '../../core/duration.js';
import { checkLabels } from '../../core/policy.js';
import { newId } from '../../core/ids.js';
import { Engine } from '../../engine/engine.js';
import type { Maintenance } from '../../engine/maintenance.js';
import { sensorMaintenance } from '../../engine/sensors.js';
import type { Store } from '../../store/contract/store.js';
import { loadFile } from '../load.js';
import { dbPath, describeDb, openStore } from '../open-store.js';
import { UsageError } from '../usage-error.js';
import { parseConcurrency } from './run.js';
import { listenError, parsePort } from './server.js';
import { serveHealth, WorkerCounters } from '../worker-health.js';

export interface WorkerFlags {
  db?: string;
  concurrency?: string;
  labels?: string[];
  lease?: string;
  grace?: string;
  poll?: string;
  name?: string;
  healthPort?: string;
  healthHost?: string;
}

export const WORKER_DEFAULTS = { concurrency: 16, lease: '30s', grace: '30s', poll: '1s' };
/** Where `--health-port` listens unless `--health-host` says otherwise: every address. */
export const HEALTH_HOST = '0.0.0.0';

/**
 * After a second signal, how long the engine may take to abort its steps and hand them back
 * before the process exits regardless (their leases then lapse and other workers take them).
 */
const ABORT_WAIT_MS = 3000;

export async function workerCommand(file: string, flags: WorkerFlags): Promise<number> {
  // Every flag is checked before anything is loaded or connected to.
  const concurrency = parseConcurrency(flags.concurrency) ?? WORKER_DEFAULTS.concurrency;
  const leaseMs = durationFlag('--lease', flags.lease ?? WORKER_DEFAULTS.lease, 1);
  const graceMs = durationFlag('--grace', flags.grace ?? WORKER_DEFAULTS.grace, 0);
  const pollMs = durationFlag('--poll', flags.poll ?? WORKER_DEFAULTS.poll, 1);
  const labels = parseLabels(flags.labels ?? []);
  const workerId = newId(parseName(flags.name));
  const health =
    flags.healthPort === undefined
      ? null
      : {
          port: parsePort(flags.healthPort, '--health-port'),
          host: flags.healthHost ?? HEALTH_HOST,
        };
  if (flags.healthHost !== undefined && health === null) {
    throw new UsageError('--health-host needs --health-port; e.g. --health-port 9464');
  }

  const loaded = await loadFile(file);
  const target = dbPath(flags.db);
  const store = await openStore(target);
  const engine = new Engine({
    store,
    definitions: loaded.registry,
    schedules: loaded.schedules,
    triggers: loaded.triggers,
    failureHooks: loaded.failureHooks,
    sensors: loaded.sensors,
    concurrency,
    leaseMs,
    pollMs,
    labels,
    workerId,
    scope: 'all',
  });
  // A worker whose file has sensors evaluates them when it holds the `weft:sensors` leadership:
  // one worker of the cluster at a time, another taking over when it stops or dies.
  const sensors = loaded.sensors.length
    ? sensorMaintenance({ store, engine, holderId: engine.workerId })
    : null;
  const counters = new WorkerCounters();
  counters.follow(engine);
  // The health port first: a port that is taken stops the worker before it registers. Until
  // the engine runs, /health answers 503.
  let healthServer: Server | null = null;
  const closeHealth = () => {
    healthServer?.close();
    healthServer?.closeAllConnections();
  };
  try {
    if (health) {
      healthServer = await serveHealth(engine, counters, health.host, health.port).catch(
        (error: unknown) => {
          throw listenError(error, health.host, health.port, '--health-port');
        },
      );
    }
    await engine.start();
    await sensors?.start();
  } catch (error) {
    closeHealth();
    await sensors?.stop().catch(() => undefined);
    await engine.stop({ graceMs: 0 }).catch(() => undefined);
    await store.close();
    throw error;
  }
  const shutdown = untilSignalled(engine, sensors, store, graceMs).finally(closeHealth);
  const names = loaded.registry.names();
  const sensorNames = loaded.sensors.map((s) => s.name);
  process.stdout.write(
    `weft worker ${engine.workerId} ready: ${plural(names.length, 'definition')} (${names.join(', ')}), ` +
      (sensorNames.length
        ? `${plural(sensorNames.length, 'sensor')} (${sensorNames.join(', ')}), `
        : '') +
      `concurrency ${concurrency}, ${labels.length ? `labels ${labels.join(', ')}` : 'no labels'}, ` +
      `db ${describeDb(target)}` +
      (healthServer ? `, health on ${healthUrl(healthServer)}` : '') +
      '\n',
  );
  return shutdown;
}

/**
 * Resolves with the exit code once a signal has stopped the worker (see the module comment).
 * The store is closed by then.
 */
function untilSignalled(
  engine: Engine,
  sensors: Maintenance | null,
  store: Store,
  graceMs: number,
): Promise<number> {
  return new Promise((resolve) => {
    let stopping: Promise<void> | null = null;
    // Set by a second signal: the exit code then, however the first stop ends.
    let aborted: number | null = null;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping === null) {
        const again = signal === 'SIGINT' ? 'press Ctrl-C again' : `send ${signal} again`;
        process.stderr.write(
          `stopping: finishing ${plural(engine.activeCount, 'running step')} (grace ${compact(graceMs)}); ${again} to abort\n`,
        );
        // Sensors stop being evaluated at once (another worker takes over); the steps finish.
        stopping = Promise.all([
          sensors?.stop().catch(() => undefined),
          engine.stop({ graceMs }),
        ]).then(() => undefined);
        void stopping.then(
          () => finish(aborted ?? 0),
          (error: unknown) => {
            if (aborted !== null) return;
            process.stderr.write(`weft: stopping the worker failed: ${errorText(error)}\n`);
            finish(1);
          },
        );
        return;
      }
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.stderr.write(
        `aborting: handing back ${plural(engine.activeCount, 'running step')}\n`,
      );
      const code = 128 + (constants.signals[signal] ?? 15);
      aborted = code;
      void abortNow(engine, store, stopping).then(() => finish(code));
    };
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      void store.close().then(
        () => resolve(code),
        () => resolve(code),
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/**
 * Stops without grace: a stop with `graceMs: 0` aborts the steps still running, which go back
 * to the queue. Whatever this worker still holds after that (a step that ignores its abort
 * signal) is handed back directly: it is requeued now, and a late result of it is refused.
 */
async function abortNow(engine: Engine, store: Store, stopping: Promise<void>): Promise<void> {
  const stopped = engine.stop({ graceMs: 0 }).then(() => stopping);
  await within(ABORT_WAIT_MS, stopped);
  await within(
    ABORT_WAIT_MS,
    store.requeueExpired(Date.now(), [engine.workerId]).then(
      () => store.removeWorker(engine.workerId),
      () => undefined,
    ),
  );
}

/** Waits for `promise`, at most `ms`. */
async function within(ms: number, promise: Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}

/** A duration flag in milliseconds (a bare number is milliseconds), at least `min`. */
export function durationFlag(flag: string, text: string, min: number): number {
  const trimmed = text.trim();
  let ms: number;
  try {
    ms = parseDuration(/^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed, flag);
  } catch {
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} is not a duration; use e.g. ${flag} 30s (or 500ms, 2m)`,
    );
  }
  if (ms < min) {
    throw new UsageError(`${flag} must be more than 0; e.g. ${flag} 30s`);
  }
  return ms;
}

/** `--labels gpu,region-eu` (repeatable): the labels this worker has, checked as tasks' are. */
function parseLabels(labels: readonly string[]): string[] {
  try {
    return checkLabels('--labels', labels);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}, e.g. --labels gpu,region-eu`);
  }
}

/** `--name`: the prefix of this worker's id (default `wkr`), which names it in `weft show`. */
function parseName(name: string | undefined): string {
  if (name === undefined) return 'wkr';
  if (!/^[A-Za-z0-9][\w.-]{0,62}$/.test(name)) {
    throw new UsageError(
      `--name ${JSON.stringify(name)} is not usable in a worker id; use letters, digits and - _ ., e.g. --name gpu-box-1`,
    );
  }
  return name;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** `30s`, `2m`, `500ms`: a duration as a flag would give it. */
function compact(ms: number): string {
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The health endpoint's address as a URL (the port it got, when asked for 0). */
function healthUrl(server: Server): string {
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return `http://${host}:${port}/health`;
}
