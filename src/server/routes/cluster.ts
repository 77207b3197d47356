/** The cluster: health of this server, the workers, and the definitions they registered. */
import type { ApiContext } from '../api-context.js';
import { reply, type Route } from '../router.js';
import { workerView } from '../views.js';

export function clusterRoutes(api: ApiContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/health',
      public: true,
      // Answers without touching the database: it says the server is up, for load balancers
      // and `weft server` supervisors; `leader` tells which server runs maintenance.
      async handler() {
        return reply({
          ok: true,
          dialect: api.store.dialect,
          version: api.version,
          leader: api.isLeader(),
        });
      },
    },
    {
      method: 'GET',
      path: '/api/workers',
      async handler() {
        const now = api.clock.now();
        const workers = await api.store.listWorkers();
        return reply({ workers: workers.map((w) => workerView(w, now, api.staleAfterMs)) });
      },
    },
    {
      method: 'GET',
      path: '/api/definitions',
      async handler() {
        return reply({ definitions: await api.store.listDefinitions() });
      },
    },
  ];
}
