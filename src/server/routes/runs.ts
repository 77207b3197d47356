/** Runs: list and filter, detail with steps and child runs, a step's output, attempts, logs, cancel. */
import { RUN_STATUSES, isTerminalRun } from '../../core/states.js';
import type { RunRecord } from '../../store/contract/types.js';
import type { ApiContext } from '../api-context.js';
import type {
  AttemptsResponse,
  CancelResponse,
  LogsResponse,
  OutputResponse,
  RunDetailResponse,
  RunsResponse,
} from '../api-types.js';
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
import { apiValue, runView, stepView } from '../views.js';

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

const RUN_KINDS = ['pipeline', 'workflow'] as const;
const TIME = { min: 0, max: Number.MAX_SAFE_INTEGER };

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
        const kind = queryEnum(query, 'kind', RUN_KINDS);
        const since = queryInt(query, 'since', TIME);
        const until = queryInt(query, 'until', TIME);
        const search = queryString(query, 'q');
        const before = queryString(query, 'before');
        const limit = queryInt(query, 'limit', { min: 1, max: 500 }, 50);
        const mode = queryValueMode(query);
        const runs = await api.store.listRuns({
          status,
          definition,
          kind,
          since,
          until,
          search,
          before,
          limit: limit + 1,
        });
        const page = runs.slice(0, limit);
        return reply({
          runs: page.map((r) => runView(r, mode)),
          next: runs.length > limit ? page[page.length - 1]!.id : null,
        } satisfies RunsResponse);
      },
    },
    {
      method: 'GET',
      path: '/api/runs/:id',
      async handler({ params, query }) {
        const mode = queryValueMode(query);
        const run = await findRun(api, params.id!);
        const [steps, children] = await Promise.all([
          api.store.listSteps(run.id),
          api.store.listChildRuns(run.id),
        ]);
        return reply({
          run: runView(run, mode),
          steps: steps.map((s) => stepView(s, mode)),
          children: children.map((c) => runView(c, mode)),
        } satisfies RunDetailResponse);
      },
    },
    {
      method: 'GET',
      path: '/api/runs/:id/steps/:key/output',
      // The whole output, however large: the run's detail leaves out outputs over a preview's
      // size. A step with no output (not finished, or a map step) answers `output: null`.
      async handler({ params, query }) {
        const mode = queryValueMode(query);
        const run = await findRun(api, params.id!);
        const step = await api.store.getStep(run.id, params.key!);
        if (!step) {
          throw new HttpError(
            404,
            'not_found',
            `run ${run.id} has no step ${JSON.stringify(params.key)}; its steps are listed by GET /api/runs/${run.id}`,
          );
        }
        return reply({
          key: step.key,
          output: step.output === null ? null : apiValue(step.output, mode),
          outputBytes: step.output === null ? null : Buffer.byteLength(step.output, 'utf8'),
        } satisfies OutputResponse);
      },
    },
    {
      method: 'GET',
      path: '/api/runs/:id/attempts',
      async handler({ params }) {
        const run = await findRun(api, params.id!);
        return reply({ attempts: await api.store.listAttempts(run.id) } satisfies AttemptsResponse);
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
        return reply({
          logs,
          next: logs.length ? logs[logs.length - 1]!.seq : (after ?? 0),
        } satisfies LogsResponse);
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
        if (isTerminalRun(run.status)) {
          return reply({ run: runView(run, mode), cancelled: false } satisfies CancelResponse);
        }
        const { cancelled } = await api.store.cancelRun(run.id, api.clock.now(), reason);
        const after = await findRun(api, run.id);
        return reply({ run: runView(after, mode), cancelled } satisfies CancelResponse);
      },
    },
  ];
}
