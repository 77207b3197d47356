/**
 * Applies the numbered SQL files of `migrations/` (`0001_init.sql`, …) to a SQLite database.
 *
 * Safe when processes race: everything happens in one `BEGIN IMMEDIATE` transaction (SQLite's
 * write lock, waited for through `busy_timeout`), and each version row is inserted in the same
 * transaction as its SQL, so a second process sees either nothing or everything. A database
 * whose version is ahead of the newest file was migrated by a newer Weft and is refused.
 */
import type Database from 'better-sqlite3';
import { StoreVersionError } from '../../core/errors.js';
import { readMigrations, type Migration } from '../contract/migration-files.js';

export { readMigrations, type Migration };

/** Applies the migrations the database doesn't have yet; returns how many it applied. */
export function migrate(
  db: Database.Database,
  migrations: readonly Migration[],
  now = Date.now(),
): number {
  const newest = migrations.at(-1)?.version ?? 0;
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(`CREATE TABLE IF NOT EXISTS weft_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`);
    const current =
      (db.prepare('SELECT MAX(version) AS v FROM weft_migrations').get() as { v: number | null })
        .v ?? 0;
    if (current > newest) {
      throw new StoreVersionError(
        'store_ahead',
        `the database ${db.name} is at schema version ${current}, but this Weft only knows up to ${newest}: ` +
          'it was migrated by a newer Weft. Upgrade Weft (npm install weft@latest) to use it.',
      );
    }
    const insert = db.prepare(
      'INSERT INTO weft_migrations (version, name, applied_at) VALUES (?, ?, ?)',
    );
    let applied = 0;
    for (const m of migrations) {
      if (m.version <= current) continue;
      // The row first: a racing process that got here too fails on the primary key instead of
      // applying the SQL twice (it can't, holding no write lock, but the order costs nothing).
      insert.run(m.version, m.name, now);
      db.exec(m.sql);
      applied++;
    }
    db.exec('COMMIT');
    return applied;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
