/**
 * The API server on a real store, reached through real HTTP. Stores are a temporary SQLite file
 * or a fresh schema in a Postgres database of the test file (as in test/engine/helpers.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, inject } from 'vitest';
import { createServer, type ServerOptions, type WeftServer } from '../../src/server/index.js';
import type { Store } from '../../src/store/contract/index.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { testDatabase } from '../support/postgres.js';

export type Backend = 'sqlite' | 'postgres';

let pgDatabase: Promise<{ url: string; drop: () => Promise<void> }> | null = null;
let schemas = 0;

/** This test file's Postgres database (created on first use, dropped after the file). */
export function postgresDatabase(): Promise<{ url: string }> {
  if (!pgDatabase) {
    pgDatabase = testDatabase(inject('weftPostgresUrl'), 'server');
    const db = pgDatabase;
    afterAll(async () => (await db).drop());
  }
  return pgDatabase;
}

/** A fresh schema name in this file's Postgres database. */
export function freshSchema(): string {
  return `s${++schemas}`;
}

/** A migrated store, fresh for the caller; `reopen` opens another connection to the same data. */
export async function tempStore(backend: Backend): Promise<{
  store: Store;
  reopen: () => Promise<Store>;
  cleanup: () => Promise<void>;
}> {
  if (backend === 'postgres') {
    const { url } = await postgresDatabase();
    const schema = freshSchema();
    const store = await PostgresStore.connect(url, { schema });
    return {
      store,
      reopen: () => PostgresStore.connect(url, { schema }),
      cleanup: () => store.close(),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'weft-server-'));
  const file = join(dir, 'weft.db');
  const store = SqliteStore.open(file);
  await store.migrate();
  return {
    store,
    reopen: async () => {
      const other = SqliteStore.open(file);
      await other.migrate();
      return other;
    },
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestApi {
  server: WeftServer;
  url: string;
  /** `fetch` under the server's URL; JSON bodies are sent as JSON. `T`: the reply's body. */
  request<T = unknown>(
    path: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Headers; body: T }>;
  close(): Promise<void>;
}

/** Starts the API on a free port of 127.0.0.1. */
export async function startApi(options: ServerOptions): Promise<TestApi> {
  const errors: unknown[] = [];
  const server = createServer({
    onError: (error) => errors.push(error),
    ...options,
  });
  const { url } = await server.listen(0, '127.0.0.1');
  return {
    server,
    url,
    async request<T>(
      path: string,
      init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
    ) {
      const headers: Record<string, string> = { ...init.headers };
      let body: string | undefined;
      if (init.body !== undefined) {
        body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${url}${path}`, { method: init.method ?? 'GET', headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // left as text
      }
      return { status: res.status, headers: res.headers, body: parsed as T };
    },
    async close() {
      await server.close({ graceMs: 1000 });
      if (errors.length)
        throw new Error(`unexpected server errors: ${errors.map(String).join('; ')}`);
    },
  };
}
