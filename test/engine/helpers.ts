import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type EngineEvent, type EngineOptions } from '../../src/engine/index.js';
import type { Store } from '../../src/store/contract/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';

/** A migrated store on a fresh temporary SQLite file, and how to remove it. */
export async function tempStore(): Promise<{
  store: Store;
  path: string;
  cleanup: () => Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-engine-'));
  const path = join(dir, 'weft.db');
  const store = SqliteStore.open(path);
  await store.migrate();
  return {
    store,
    path,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A started engine on a temporary store that records its events; `close` stops and cleans up. */
export async function startEngine(options: Omit<EngineOptions, 'store'> & { store?: Store }) {
  const temp = options.store ? null : await tempStore();
  const store = options.store ?? temp!.store;
  const engine = new Engine({ ...options, store });
  const events: EngineEvent[] = [];
  engine.on((e) => events.push(e));
  await engine.start();
  return {
    engine,
    store,
    events,
    close: async () => {
      await engine.stop({ graceMs: 1000 });
      await temp?.cleanup();
    },
  };
}
