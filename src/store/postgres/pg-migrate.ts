/**
 * Applies the numbered SQL files of `migrations/` (`0001_init.sql`, …) to a Postgres database.
 *
 * Safe when processes race: everything happens in one transaction that first takes a
 * transaction-scoped advisory lock (`pg_advisory_xact_lock`), so migrations of one database run
 * one at a time and the lock is released by COMMIT or ROLLBACK whatever happens, even if the
 * process dies. Each version row is inserted in the same transaction as its SQL (before it), so
 * a second process sees either nothing or everything. A database whose version is ahead of the
 * newest file was migrated by a newer Weft and is refused.
 */
import type pg from 'pg';
import { StoreVersionError } from '../../core/errors.js';
import { readMigrations, type Migration } from '../contract/migration-files.js';

export { readMigrations, type Migration };

/** The advisory lock of migrations: one number for every Weft database ("weft" + 1). */
export const MIGRATION_LOCK = 0x77656674_01;
const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
let shipped: Migration[] | undefined;

/** The migration files shipped beside this module, read once per process. */
export function shippedMigrations(): Migration[] {
  return (shipped ??= readMigrations(MIGRATIONS_DIR));
}

/**
 * Applies the migrations the database doesn't have yet, on `client` (which must not be in a
 * transaction); returns how many it applied. `schema`, given, is created if missing: the store's
 * connections put it first on their search_path.
 */
export async function migrate(
  client: pg.ClientBase,
  migrations: readonly Migration[],
  options: { schema?: string; now?: number } = {},
): Promise<number> {
  const newest = migrations.at(-1)?.version ?? 0;
  const now = options.now ?? Date.now();
  await client.query('BEGIN');
  try {
    // Taken first and held to COMMIT: a racing migrator waits here, then finds the versions
    // this one applied. Blocking (not SKIP/NOWAIT): the loser must wait for the schema to exist.
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    if (options.schema !== undefined) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(options.schema)}`);
    }
    await client.query(`CREATE TABLE IF NOT EXISTS weft_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at BIGINT NOT NULL
    )`);
    const { rows } = await client.query<{ v: number | null }>(
      'SELECT MAX(version) AS v FROM weft_migrations',
    );
    const current = rows[0]?.v ?? 0;
    if (current > newest) {
      const db = await client.query<{ db: string; schema: string }>(
        'SELECT current_database() AS db, current_schema() AS schema',
      );
      const where = db.rows[0] ? `${db.rows[0].db} (schema ${db.rows[0].schema})` : 'database';
      throw new StoreVersionError(
        'store_ahead',
        `the Postgres database ${where} is at schema version ${current}, but this Weft only knows up to ${newest}: ` +
          'it was migrated by a newer Weft. Upgrade Weft (npm install weft@latest) to use it.',
      );
    }
    let applied = 0;
    for (const m of migrations) {
      if (m.version <= current) continue;
      // The row first: a process that got here too without the lock would fail on the primary
      // key instead of applying the SQL twice.
      await client.query(
        'INSERT INTO weft_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
        [m.version, m.name, now],
      );
      await client.query(m.sql);
      applied++;
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** A quoted SQL identifier (a schema name from configuration). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
