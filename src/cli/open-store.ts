/**
 * The one place the CLI picks a concrete store: SQLite at `.weft/weft.db` under the current
 * directory, or the file named by `--db` or `WEFT_DB`; or Postgres when that names a
 * `postgres://` (or `postgresql://`) URL.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Store } from '../store/contract/store.js';
import { PostgresStore } from '../store/postgres/index.js';
import { SqliteStore } from '../store/sqlite/index.js';
import { UsageError } from './usage-error.js';

export const DEFAULT_DB = '.weft/weft.db';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** Whether a database target names Postgres (a connection URL) rather than a SQLite file. */
export function isPostgresUrl(target: string): boolean {
  return POSTGRES_URL.test(target);
}

/** The database a command uses: a Postgres URL as given, or an absolute SQLite file path. */
export function dbPath(option: string | undefined): string {
  const target = option ?? (process.env.WEFT_DB || DEFAULT_DB);
  return isPostgresUrl(target) ? target : resolve(target);
}

/** A database target fit to print: a Postgres URL without its password. */
export function describeDb(target: string): string {
  if (!isPostgresUrl(target)) return target;
  try {
    const url = new URL(target);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://…';
  }
}

/**
 * Opens and migrates the store (a newer database than this Weft is refused with a clear
 * error). With `mustExist`, a missing SQLite file is a usage error (reading commands should not
 * create an empty database as a side effect).
 */
export async function openStore(
  target: string,
  options: { mustExist?: boolean } = {},
): Promise<Store> {
  if (isPostgresUrl(target)) return connectPostgres(target);
  if (options.mustExist && !existsSync(target)) {
    throw new UsageError(
      `no Weft database at ${target}; start a run with weft run, or point to the database with --db or WEFT_DB`,
    );
  }
  const store = SqliteStore.open(target);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

async function connectPostgres(url: string): Promise<Store> {
  try {
    return await PostgresStore.connect(url);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (
      typeof code === 'string' &&
      /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|3D000|28P01|28000)$/.test(code)
    ) {
      throw new UsageError(
        `cannot connect to Postgres at ${describeDb(url)}: ${(error as Error).message}; check the URL given with --db or WEFT_DB`,
      );
    }
    throw error;
  }
}
