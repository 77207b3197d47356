/** Every system the peer benchmark knows, in the order of its tables. Add a peer here. */
import type { Peer } from '../adapter.js';
import { bullmqPostgres, bullmqRedis } from './bullmq.js';
import { dbos } from './dbos.js';
import { graphileWorker } from './graphile-worker.js';
import { pgBoss } from './pg-boss.js';
import { restateServer } from './restate.js';
import { weftPostgres, weftPostgresBatched, weftSqlite, weftSqliteBatched } from './weft.js';

export const peers: Peer[] = [
  weftSqlite,
  weftSqliteBatched,
  weftPostgres,
  weftPostgresBatched,
  graphileWorker,
  pgBoss,
  dbos,
  restateServer,
  bullmqRedis,
  bullmqPostgres,
];
