/**
 * The one place the CLI picks a concrete store: SQLite at `.weft/weft.db` under the current
 * directory, or the file named by `--db` or `WEFT_DB`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Store } from '../store/contract/store.js';
import { SqliteStore } from '../store/sqlite/index.js';
import { UsageError } from './usage-error.js';

export const DEFAULT_DB = '.weft/weft.db';

/** The database path a command uses. */
export function dbPath(option: string | undefined): string {
  return resolve(option ?? (process.env.WEFT_DB || DEFAULT_DB));
}

/**
 * Opens and migrates the store. With `mustExist`, a missing database file is a usage error
 * (reading commands should not create an empty database as a side effect).
 */
export async function openStore(
  path: string,
  options: { mustExist?: boolean } = {},
): Promise<Store> {
  if (options.mustExist && !existsSync(path)) {
    throw new UsageError(
      `no Weft database at ${path}; start a run with weft run, or point to the database with --db or WEFT_DB`,
    );
  }
  const store = SqliteStore.open(path);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
