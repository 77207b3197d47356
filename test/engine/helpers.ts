import { spawnSync } from 'node:child_process';
import { afterAll, inject } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManualClock } from '../../src/core/clock.js';
import { Engine, type EngineEvent, type EngineOptions } from '../../src/engine/index.js';
import type { Store } from '../../src/store/contract/index.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { testDatabase } from '../support/postgres.js';

/** Which store the engine suites run on: `WEFT_TEST_BACKEND=postgres`, else SQLite. */
export const BACKEND: 'sqlite' | 'postgres' =
  process.env.WEFT_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';

let pgDatabase: Promise<{ url: string; drop: () => Promise<void> }> | null = null;
let schemas = 0;

/**
 * A migrated store, fresh for the caller, and how to remove it: a temporary SQLite file, or on
 * Postgres a fresh schema in a database of this test file (dropped when the file is done).
 */
export async function tempStore(): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  if (BACKEND === 'postgres') {
    if (!pgDatabase) {
      pgDatabase = testDatabase(inject('weftPostgresUrl'), 'engine');
      const db = pgDatabase;
      afterAll(async () => (await db).drop());
    }
    const { url } = await pgDatabase;
    const store = await PostgresStore.connect(url, { schema: `e${++schemas}` });
    return { store, cleanup: () => store.close() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'weft-engine-'));
  const store = SqliteStore.open(join(dir, 'weft.db'));
  await store.migrate();
  return {
    store,
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

/**
 * Per-test engines: `engineFor` starts one that `closeAll` (run it in `afterEach`) stops, and
 * `track` registers any other cleanup.
 */
export function engineScope() {
  const closers: (() => Promise<void>)[] = [];
  return {
    track: (close: () => Promise<void>) => {
      closers.push(close);
    },
    engineFor: async (...args: Parameters<typeof startEngine>) => {
      const e = await startEngine(...args);
      closers.push(e.close);
      return e;
    },
    closeAll: async () => {
      while (closers.length) await closers.pop()!();
    },
  };
}

/** Advances the manual clock in steps of `stepMs` until `check` passes. */
export async function advanceUntil(
  clock: ManualClock,
  check: () => Promise<boolean>,
  stepMs = 1000,
  max = 2000,
): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await check()) return;
    await clock.advance(stepMs);
    // Let real I/O land (a Postgres round trip outlasts a microtask flush): manual time must
    // not run ahead of the store, or leases expire that a real clock would have renewed.
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error('condition never held');
}

/** Runs a fixture script under tsx in a child process and waits for it. */
export function runFixture(script: string, args: string[]) {
  const r = spawnSync(
    process.execPath,
    ['--conditions=weft-source', '--import', 'tsx', `test/fixtures/${script}`, ...args],
    { encoding: 'utf8', timeout: 60_000 },
  );
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** How many times each line occurs in a file of side effects. */
export function countLines(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    out[line] = (out[line] ?? 0) + 1;
  }
  return out;
}

/**
 * The real store with some methods wrapped (to watch, hold or fail calls): each wrapper gets
 * the original method, bound to the store, and the call's arguments.
 */
export function interceptStore(
  store: Store,
  wrappers: {
    [K in keyof Store]?: Store[K] extends (...args: infer A) => infer R
      ? (original: (...args: A) => R, ...args: A) => R
      : never;
  },
): Store {
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      const wrap = (wrappers as Record<PropertyKey, unknown>)[prop] as
        ((original: unknown, ...args: unknown[]) => unknown) | undefined;
      return wrap ? (...args: unknown[]) => wrap(bound, ...args) : bound;
    },
  });
}
