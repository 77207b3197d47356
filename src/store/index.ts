/**
 * The stores an `Engine` (`weft/engine`) or the HTTP API (`weft/server`) runs on: embedded on
 * a SQLite file, or shared over Postgres.
 *
 * ```ts
 * const store = await PostgresStore.connect(process.env.WEFT_DB!);
 * const local = SqliteStore.open('.weft/weft.db');
 * ```
 */
export { SqliteStore, type SqliteStoreOptions } from './sqlite/index.js';
export { PostgresStore, type PostgresStoreOptions } from './postgres/index.js';
export type { Store } from './contract/store.js';
