/** Runs: list and filter, detail with steps, attempts, logs, cancel. */
import { RUN_STATUSES, isTerminalRun } from '../../core/states.js';
import type { RunRecord } from '../../store/contract/types.js';
import type { ApiContext } from '../api-context.js';
import { HttpError } from '../http.js';
import {
  bodyObject,
  bodyString,
  queryEnum,
  queryInt,
  queryString,
  queryValueMode,
} from '../params.js';
import { reply, type Route } from '../router.js';
import { runView, stepView } from '../views.js';

async function findRun(api: ApiContext, id: string): Promise<RunRecord> {
  const run = await api.store.getRun(id);
  if (!run) {
    throw new HttpError(
      404,
      'not_found',
      `run ${JSON.stringify(id)} not found; list runs with GET /api/runs`,
    );
  }
  return run;
}

export function runRoutes(api: ApiContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/runs',
      // Newest first, a page at a time: `next` is the `before` of the following page (null on
      // the last one). One more run than asked is read to know whether there is a next page.
      async handler({ query }) {
        const status = queryEnum(query, 'status', RUN_STATUSES);
        const definition = queryString(query, 'definition');
        const before = queryString(query, 'before');
        const limit = queryInt(query, 'limit', { min: 1, max: 500 }, 50);
        const mode = queryValueMode(query);
        const runs = await api.store.listRuns({ status, definition, before, limit: limit + 1 });
        const page = runs.slice(0, limit);
        return reply({
          runs: page.map((r) => runView(r, mode)),
          next: runs.length > limit ? page[page.length - 1]!.id : null,
        });
      },
    },
    {
      method: 'GET',
      path: '/api/runs/:id',
      async handler({ params, query }) {
        const mode = queryValueMode(query);
        const run = await findRun(api, params.id!);
        const steps = await api.store.listSteps(run.id);
        return reply({ run: runView(run, mode), steps: steps.map((s) => stepView(s, mode)) });
      },
    },
    {
      method: 'GET',
      path: '/api/runs/:id/attempts',
      async handler({ params }) {
        const run = await findRun(api, params.id!);
        return reply({ attempts: await api.store.listAttempts(run.id) });
      },
    },
    {
      method: 'GET',
      path: '/api/runs/:id/logs',
      // `next` is the cursor to pass as `after` for the lines that come later: following a run's
      // logs is polling with it.
      async handler({ params, query }) {
        const after = queryInt(query, 'after', { min: 0, max: Number.MAX_SAFE_INTEGER });
        const step = queryString(query, 'step');
        const limit = queryInt(query, 'limit', { min: 1, max: 10_000 }, 1000);
        const run = await findRun(api, params.id!);
        const logs = await api.store.listLogs(run.id, { stepKey: step, afterSeq: after, limit });
        return reply({ logs, next: logs.length ? logs[logs.length - 1]!.seq : (after ?? 0) });
      },
    },
    {
      method: 'POST',
      path: '/api/runs/:id/cancel',
      // Cancelling a finished run changes nothing and answers with it (`cancelled: false`).
      // Workers running its steps learn of it when they next renew their leases, and abort them.
      async handler({ params, query, body }) {
        const input = bodyObject(await body(), true);
        const reason = bodyString(input, 'reason') ?? 'cancelled through the API';
        const mode = queryValueMode(query);
        const run = await findRun(api, params.id!);
        if (isTerminalRun(run.status)) return reply({ run: runView(run, mode), cancelled: false });
        const { cancelled } = await api.store.cancelRun(run.id, api.clock.now(), reason);
        const after = await findRun(api, run.id);
        return reply({ run: runView(after, mode), cancelled });
      },
    },
  ];
}
