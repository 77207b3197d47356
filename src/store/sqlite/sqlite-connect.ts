/**
 * Opening a SQLite database the way the store needs it: folder created, WAL, pragmas set, and
 * migrated.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { migrate, readMigrations, type Migration } from './sqlite-migrate.js';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
let migrations: Migration[] | undefined;

/** The migration files shipped beside this module, read once per process. */
export function shippedMigrations(): Migration[] {
  return (migrations ??= readMigrations(MIGRATIONS_DIR));
}

export function connect(path: string, busyTimeoutMs: number): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const timeout = Math.max(0, Math.floor(busyTimeoutMs));
  const db = new Database(path, { timeout });
  try {
    enableWal(db, timeout);
    // NORMAL is durable in WAL mode except for the last commits before a power loss (never
    // corrupt); FULL would fsync on every commit.
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${timeout}`);
    // No foreign keys: the store keeps its references itself, and they would cost every write.
    db.pragma('foreign_keys = OFF');
    // A checkpoint fsyncs the database; every 1,000 pages (the default) that cost about 18 µs
    // per step of a busy run. Every 10,000 pages (~40 MB of WAL) amortizes it tenfold, and
    // writes a page updated many times once. The WAL file is cut back to 64 MB afterwards.
    db.pragma('wal_autocheckpoint = 10000');
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    migrate(db, shippedMigrations());
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Switching a fresh database to WAL takes an exclusive lock, and SQLite reports a concurrent
 * switch as SQLITE_BUSY at once, without calling the busy handler; so this waits itself.
 */
function enableWal(db: Database.Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      const busy = error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY');
      if (!busy || Date.now() >= deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
    }
  }
}
