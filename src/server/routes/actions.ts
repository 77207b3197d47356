/**
 * Actions that create runs: trigger a run of a definition, retry a failed run from its failed
 * nodes, re-run chosen nodes of a finished run (and what follows them).
 *
 * A server triggers with the definition's code when its engine has it (`weft dev`), else from
 * what a worker registered: the input is checked against the registered JSON Schema and the
 * steps are planned from the registered graph.
 */
import { NotFoundError } from '../../core/errors.js';
import type { RunRecord } from '../../store/contract/types.js';
import type { ApiContext } from '../api-context.js';
import type { RerunResponse, TriggerResponse } from '../api-types.js';
import { HttpError } from '../http.js';
import { bodyObject, bodyString, queryValueMode } from '../params.js';
import { reply, type Route } from '../router.js';
import { runView } from '../views.js';

function invalid(field: string, expected: string): HttpError {
  return new HttpError(400, 'invalid_body', `body field ${field} must be ${expected}`);
}

/** An optional array of non-empty strings. */
function stringList(body: Record<string, unknown>, field: string): string[] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) {
    throw invalid(field, 'an array of non-empty strings');
  }
  return value as string[];
}

/** An optional whole number. */
function integer(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw invalid(field, 'a whole number');
  }
  return value;
}

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

export function actionRoutes(api: ApiContext): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/runs',
      // 201 with the new run; 200 with the first run when the idempotency key was used already.
      async handler({ query, body }) {
        const input = bodyObject(await body());
        const definition = bodyString(input, 'definition', { required: true })!;
        const outputs = stringList(input, 'outputs');
        const tags = stringList(input, 'tags');
        const priority = integer(input, 'priority');
        const idempotencyKey = bodyString(input, 'idempotencyKey');
        const mode = queryValueMode(query);
        const options = {
          params: input.params,
          trigger: 'api',
          ...(outputs ? { outputs } : {}),
          ...(tags ? { tags } : {}),
          ...(priority !== undefined ? { priority } : {}),
          ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
        };
        const result = await api.engine.submitByName(definition, options).catch((error) => {
          if (error instanceof NotFoundError) {
            throw new HttpError(
              404,
              'not_found',
              `definition ${JSON.stringify(definition)} not found: no worker has registered it; list them with GET /api/definitions`,
            );
          }
          throw error;
        });
        const response: TriggerResponse = {
          run: runView(result.run, mode),
          created: result.created,
        };
        return reply(response, result.created ? 201 : 200);
      },
    },
    {
      method: 'POST',
      path: '/api/runs/:id/retry',
      // A new run: the failed nodes of a pipeline run and what follows them, reading the
      // others' values from the original; a workflow run again from the start.
      async handler({ params, query }) {
        const run = await findRun(api, params.id!);
        const mode = queryValueMode(query);
        const { run: next, nodes } = await api.engine.rerun(run.id);
        const response: RerunResponse = { run: runView(next, mode), nodes };
        return reply(response, 201);
      },
    },
    {
      method: 'POST',
      path: '/api/runs/:id/rerun',
      async handler({ params, query, body }) {
        const input = bodyObject(await body());
        const nodes = stringList(input, 'nodes');
        if (!nodes?.length) throw invalid('nodes', 'a non-empty array of node names');
        const run = await findRun(api, params.id!);
        const mode = queryValueMode(query);
        const { run: next, nodes: computed } = await api.engine.rerun(run.id, nodes);
        const response: RerunResponse = { run: runView(next, mode), nodes: computed };
        return reply(response, 201);
      },
    },
  ];
}
