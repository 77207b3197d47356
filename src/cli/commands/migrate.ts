/**
 * `weft migrate`: brings a database's schema up to this Weft's version, and says where it is.
 *
 * Every command migrates the database it opens, so this is never required; it lets a deploy
 * migrate once, before new workers and servers start, and fail early on a database that a newer
 * Weft already migrated (exit 2, naming both versions). Safe to run from several processes at
 * once: migrations of one database take a lock and run one at a time.
 */
import { shippedMigrations as postgresMigrations } from '../../store/postgres/pg-migrate.js';
import { shippedMigrations as sqliteMigrations } from '../../store/sqlite/sqlite-connect.js';
import { dbPath, describeDb, isPostgresUrl, openStore } from '../open-store.js';

export interface MigrateFlags {
  db?: string;
}

export async function migrateCommand(flags: MigrateFlags): Promise<number> {
  const target = dbPath(flags.db);
  // Opening migrates (and refuses a database ahead of this Weft with a StoreVersionError).
  const store = await openStore(target);
  await store.close();
  // A database that opened is at this Weft's newest version: older ones were just migrated,
  // newer ones refused.
  const migrations = isPostgresUrl(target) ? postgresMigrations() : sqliteMigrations();
  const version = migrations.at(-1)?.version ?? 0;
  process.stdout.write(`database at ${describeDb(target)} is at version ${version}\n`);
  return 0;
}
