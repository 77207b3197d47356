/**
 * The embedded SQLite store.
 *
 * ```ts
 * import { SqliteStore } from './store/sqlite/index.js';
 * const store = SqliteStore.open('.weft/weft.db');
 * ```
 */
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
