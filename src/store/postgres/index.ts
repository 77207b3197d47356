/**
 * The distributed Postgres store.
 *
 * ```ts
 * import { PostgresStore } from './store/postgres/index.js';
 * const store = await PostgresStore.connect(process.env.DATABASE_URL!);
 * ```
 */
export { PostgresStore, type PostgresStoreOptions } from './pg-store.js';
