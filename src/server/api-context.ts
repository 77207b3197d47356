/** What the API's route handlers work with: one per server. */
import type { Clock } from '../core/clock.js';
import type { Engine } from '../engine/engine.js';
import type { Store } from '../store/contract/store.js';
import type { DefinitionRecord } from '../store/contract/types.js';
import type { LiveHub } from './live.js';

export interface ApiContext {
  store: Store;
  /** A client engine (no worker loop): sends events the way every other caller does. */
  engine: Engine;
  clock: Clock;
  /** The Weft version serving the API. */
  version: string;
  /** Heartbeat age after which a worker is shown as not alive. */
  staleAfterMs: number;
  /** Whether this server runs the cluster's maintenance right now. */
  isLeader(): boolean;
  /**
   * Whether a run of the definition can be triggered through this server (`triggerable` of
   * `GET /api/definitions`). Default: every definition.
   */
  canTrigger?: (definition: DefinitionRecord) => boolean;
  /** Changes of runs, steps and logs as the store shows them, for `GET /api/stream`. */
  live: LiveHub;
}
