/**
 * `weft dev <file.ts>`: everything on one machine in one process — the embedded store (SQLite
 * in `.weft/`), a worker running the file's pipelines and workflows, the HTTP API and the web
 * UI. When the file (or a file it imports) changes, the definitions are loaded again and the
 * worker runs the new code from its next step on; nothing restarts.
 *
 * ```sh
 * weft dev pipelines.ts
 * # weft dev: UI and API on http://127.0.0.1:8080
 * ```
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../engine/engine.js';
import type { Registry } from '../../engine/registry.js';
import { sensorMaintenance } from '../../engine/sensors.js';
import { createServer } from '../../server/index.js';
import { loadFile } from '../load.js';
import { dbPath, describeDb, openStore } from '../open-store.js';
import { parseConcurrency } from './run.js';
import {
  clusterMaintenance,
  failureWebhooks,
  listenError,
  listenFlags,
  nextSignal,
} from './server.js';

export interface DevFlags {
  onFailure?: string[];
  db?: string;
  port?: string;
  host?: string;
  token?: string;
  concurrency?: string;
}

/** How long a burst of file changes (an editor saving several files) settles before a reload. */
const SETTLE_MS = 150;
/** On stop, how long running steps may finish before they are handed back. */
const STOP_GRACE_MS = 5000;

export async function devCommand(file: string, flags: DevFlags): Promise<number> {
  const { port, host, token } = listenFlags(flags);
  const concurrency = parseConcurrency(flags.concurrency);

  const sources = new Set<string>();
  const collect = (url: string) => {
    if (url.startsWith('file:') && !url.includes('/node_modules/')) {
      sources.add(fileURLToPath(url.replace(/\?.*$/, '')));
    }
  };
  const loaded = await loadFile(file, { onImport: collect });
  const target = dbPath(flags.db);
  const stop = nextSignal(['SIGTERM', 'SIGINT']);
  const store = await openStore(target);
  const engine = new Engine({
    store,
    definitions: loaded.registry,
    schedules: loaded.schedules,
    triggers: loaded.triggers,
    failureHooks: loaded.failureHooks,
    sensors: loaded.sensors,
    scope: 'all',
    ...(concurrency !== undefined ? { concurrency } : {}),
  });
  const maintenance = clusterMaintenance(store, engine, failureWebhooks(flags.onFailure));
  // Sensors are evaluated where their code is: here, in a loop of their own (the file may
  // gain sensors at a reload), under the leadership workers with sensors compete for.
  const sensors = sensorMaintenance({ store, engine });
  const api = createServer({ store, engine, token, leader: () => maintenance.isLeader });
  let watcher: DefinitionWatcher | null = null;
  try {
    await engine.start();
    let address: { url: string };
    try {
      address = await api.listen(port, host);
    } catch (error) {
      throw listenError(error, host, port);
    }
    await maintenance.start();
    await sensors.start();
    process.stdout.write(`weft dev: UI and API on ${address.url}\n`);
    process.stdout.write(
      `weft dev: ${describeDefinitions(loaded.registry)} from ${loaded.file}; db ${describeDb(target)}; watching for changes\n`,
    );
    watcher = new DefinitionWatcher(sources, async () => {
      const fresh = new Set<string>();
      try {
        const next = await loadFile(file, { onImport: (url) => fresh.add(url) });
        await engine.reload(
          next.registry.all(),
          next.schedules,
          next.triggers,
          next.failureHooks,
          next.sensors,
        );
        process.stdout.write(`weft dev: reloaded ${describeDefinitions(next.registry)}\n`);
      } catch (error) {
        process.stderr.write(
          `weft dev: reload failed, still running the previous code: ${(error as Error).message}\n`,
        );
      }
      // Files imported by the new code are watched too (a newly added import).
      for (const url of fresh) collect(url);
      return sources;
    });
    await stop.received;
    return 0;
  } finally {
    stop.dispose();
    const force = nextSignal(['SIGTERM', 'SIGINT']);
    void force.received.then((signal) => process.exit(signal === 'SIGINT' ? 130 : 143));
    watcher?.close();
    await api.close();
    await sensors.stop();
    await engine.stop({ graceMs: STOP_GRACE_MS });
    await maintenance.stop();
    await store.close();
    force.dispose();
  }
}

function describeDefinitions(registry: Registry): string {
  const names = registry.names();
  return `${names.length} definition${names.length === 1 ? '' : 's'} (${names.join(', ')})`;
}

/**
 * Watches the folders of the loaded source files (editors often save by replacing a file,
 * which a watch on the file itself would miss) and calls `reload` once changes settle. Reloads
 * never overlap: changes during one lead to one more after it.
 */
class DefinitionWatcher {
  readonly #watchers = new Map<string, FSWatcher>();
  #files = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running = false;
  #again = false;
  #closed = false;

  constructor(
    files: ReadonlySet<string>,
    private readonly reload: () => Promise<ReadonlySet<string>>,
  ) {
    this.#watch(files);
  }

  #watch(files: ReadonlySet<string>): void {
    this.#files = new Set(files);
    for (const f of files) {
      const dir = dirname(f);
      if (this.#watchers.has(dir)) continue;
      try {
        const w = watch(dir, (_event, name) => {
          if (name !== null && this.#files.has(`${dir}/${basename(name)}`)) this.#changed();
        });
        w.on('error', () => this.#watchers.delete(dir));
        this.#watchers.set(dir, w);
      } catch {
        // A folder that can't be watched (gone, no permission): its files just don't reload.
      }
    }
  }

  #changed(): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#run(), SETTLE_MS);
  }

  async #run(): Promise<void> {
    this.#timer = null;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    try {
      const files = await this.reload();
      if (!this.#closed) this.#watch(files);
    } finally {
      this.#running = false;
      if (this.#again && !this.#closed) {
        this.#again = false;
        this.#changed();
      }
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }
}
