export type { Store } from './store.js';
export type * from './types.js';
