/** The cluster: health of this server, the workers, and the definitions they registered. */
import type { ApiContext } from '../api-context.js';
import type {
  DefinitionResponse,
  DefinitionsResponse,
  HealthResponse,
  WorkersResponse,
} from '../api-types.js';
import { HttpError } from '../http.js';
import { reply, type Route } from '../router.js';
import { definitionView, workerView } from '../views.js';

export function clusterRoutes(api: ApiContext): Route[] {
  /** How many live workers run each definition, by name. */
  const liveWorkersByDefinition = async (): Promise<Map<string, number>> => {
    const now = api.clock.now();
    const count = new Map<string, number>();
    for (const w of await api.store.listWorkers()) {
      if (now - w.heartbeatAt > api.staleAfterMs) continue;
      for (const name of w.definitions) count.set(name, (count.get(name) ?? 0) + 1);
    }
    return count;
  };
  const canTrigger = api.canTrigger ?? (() => true);
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
        } satisfies HealthResponse);
      },
    },
    {
      method: 'GET',
      path: '/api/workers',
      async handler() {
        const now = api.clock.now();
        const [workers, running] = await Promise.all([
          api.store.listWorkers(),
          api.store.countRunningByWorker(),
        ]);
        return reply({
          workers: workers.map((w) => workerView(w, now, api.staleAfterMs, running.get(w.id) ?? 0)),
        } satisfies WorkersResponse);
      },
    },
    {
      method: 'GET',
      path: '/api/definitions',
      async handler() {
        const [definitions, count] = await Promise.all([
          api.store.listDefinitions(),
          liveWorkersByDefinition(),
        ]);
        return reply({
          definitions: definitions.map((d) =>
            definitionView(d, canTrigger(d), count.get(d.name) ?? 0),
          ),
        } satisfies DefinitionsResponse);
      },
    },
    {
      method: 'GET',
      path: '/api/definitions/:name',
      async handler({ params }) {
        const name = params.name!;
        const found = (await api.store.listDefinitions()).find((d) => d.name === name);
        if (!found) {
          throw new HttpError(
            404,
            'not_found',
            `definition ${JSON.stringify(name)} not found: no worker registered it (list them with GET /api/definitions)`,
          );
        }
        const count = await liveWorkersByDefinition();
        return reply({
          definition: definitionView(found, canTrigger(found), count.get(found.name) ?? 0),
        } satisfies DefinitionResponse);
      },
    },
  ];
}
