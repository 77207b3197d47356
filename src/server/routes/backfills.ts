/**
 * Partitions and backfills: the status of each partition of a partitioned pipeline, and
 * backfills — runs of it over a range of partition keys, launched a few at a time by the
 * cluster's maintenance (`weft server`'s leader, or `weft dev`). Pausing stops launching;
 * cancelling also cancels the backfill's unfinished runs. See docs/partitions.md.
 */
import { ConfigError } from '../../core/errors.js';
import {
  backfillProgress,
  changeBackfill,
  MAX_BACKFILL_PARTITIONS,
  partitionStatuses,
  startBackfill,
  type BackfillAction,
  type BackfillRequest,
} from '../../engine/backfills.js';
import { describePartitions } from '../../core/partitions.js';
import type { BackfillRecord, BackfillStatus } from '../../store/contract/types.js';
import type { ApiContext } from '../api-context.js';
import type {
  BackfillDetailResponse,
  BackfillView,
  BackfillsResponse,
  PartitionsResponse,
} from '../api-types.js';
import { HttpError } from '../http.js';
import { bodyObject, bodyString, queryEnum, queryInt, queryString } from '../params.js';
import { reply, type Route } from '../router.js';
import { backfillView } from '../views.js';

const BACKFILL_STATUSES: readonly BackfillStatus[] = [
  'running',
  'paused',
  'cancelled',
  'succeeded',
  'failed',
];

/** Partitions listed by default by `GET /api/definitions/:name/partitions`, and at most. */
const DEFAULT_PARTITIONS_LIMIT = 1000;

function invalid(field: string, expected: string, got: unknown): HttpError {
  return new HttpError(
    400,
    'invalid_body',
    `body field ${field} must be ${expected}, got ${JSON.stringify(got)}`,
  );
}

/** The body of `POST /api/backfills`, its shape checked field by field. */
function backfillRequest(body: unknown): BackfillRequest {
  const input = bodyObject(body);
  const target = bodyString(input, 'target', { required: true })!;
  const from = bodyString(input, 'from');
  const to = bodyString(input, 'to');
  const { partitions, params, maxConcurrent } = input;
  if (partitions !== undefined && partitions !== null) {
    if (!Array.isArray(partitions) || !partitions.every((k) => typeof k === 'string' && k)) {
      throw invalid('partitions', 'an array of partition keys (non-empty strings)', partitions);
    }
    if (partitions.length > MAX_BACKFILL_PARTITIONS) {
      throw invalid('partitions', `at most ${MAX_BACKFILL_PARTITIONS} keys`, partitions.length);
    }
  }
  if (
    params !== undefined &&
    params !== null &&
    (typeof params !== 'object' || Array.isArray(params))
  ) {
    throw invalid('params', 'a JSON object (the runs’ other params)', params);
  }
  if (
    maxConcurrent !== undefined &&
    maxConcurrent !== null &&
    (typeof maxConcurrent !== 'number' || !Number.isSafeInteger(maxConcurrent))
  ) {
    throw invalid('maxConcurrent', 'a whole number from 1 to 1000', maxConcurrent);
  }
  return {
    target,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(Array.isArray(partitions) ? { partitions: partitions as string[] } : {}),
    ...(params ? { params: params as Record<string, unknown> } : {}),
    ...(typeof maxConcurrent === 'number' ? { maxConcurrent } : {}),
  };
}

/**
 * A change the backfill's status does not allow (resuming a running one, pausing a finished
 * one) conflicts with its state: 409, as a schedule name taken already is.
 */
function conflict(error: unknown): never {
  if (
    error instanceof ConfigError &&
    (error.code === 'invalid_backfill_state' || error.code === 'backfill_busy')
  ) {
    throw new HttpError(409, error.code, error.message, { cause: error });
  }
  throw error;
}

export function backfillRoutes(api: ApiContext): Route[] {
  const view = async (backfill: BackfillRecord): Promise<BackfillView> =>
    backfillView(backfill, await backfillProgress(api.engine, backfill));
  const change = (action: BackfillAction): Route['handler'] =>
    async function ({ params }) {
      const changed = await changeBackfill(api.engine, params.id!, action).catch(conflict);
      return reply((await view(changed)) satisfies BackfillView);
    };
  return [
    {
      method: 'GET',
      path: '/api/definitions/:name/partitions',
      async handler({ params, query }) {
        const limit = queryInt(
          query,
          'limit',
          { min: 1, max: MAX_BACKFILL_PARTITIONS },
          DEFAULT_PARTITIONS_LIMIT,
        );
        const name = params.name!;
        const found = await partitionStatuses(api.engine, name, { limit });
        return reply({
          definition: name,
          description: describePartitions(found.spec),
          spec: found.spec,
          partitions: found.partitions,
          counts: found.counts,
          total: found.total,
        } satisfies PartitionsResponse);
      },
    },
    {
      method: 'GET',
      path: '/api/backfills',
      async handler({ query }) {
        const status = queryEnum(query, 'status', BACKFILL_STATUSES);
        const target = queryString(query, 'target');
        const limit = queryInt(query, 'limit', { min: 1, max: 500 }, 50);
        const backfills = await api.store.listBackfills({
          ...(status ? { status } : {}),
          ...(target ? { target } : {}),
          limit,
        });
        return reply({
          backfills: await Promise.all(backfills.map(view)),
        } satisfies BackfillsResponse);
      },
    },
    {
      method: 'POST',
      path: '/api/backfills',
      // 201 with the backfill; its runs start at the cluster's next maintenance pass.
      async handler({ body }) {
        const created = await startBackfill(api.engine, backfillRequest(await body()));
        return reply((await view(created)) satisfies BackfillView, 201);
      },
    },
    {
      method: 'GET',
      path: '/api/backfills/:id',
      async handler({ params }) {
        const backfill = await api.store.getBackfill(params.id!);
        if (!backfill) {
          throw new HttpError(
            404,
            'not_found',
            `backfill ${JSON.stringify(params.id)} not found; list backfills with GET /api/backfills`,
          );
        }
        const progress = await backfillProgress(api.engine, backfill);
        return reply({
          backfill: backfillView(backfill, progress),
          partitions: progress.partitions,
        } satisfies BackfillDetailResponse);
      },
    },
    { method: 'POST', path: '/api/backfills/:id/pause', handler: change('pause') },
    { method: 'POST', path: '/api/backfills/:id/resume', handler: change('resume') },
    { method: 'POST', path: '/api/backfills/:id/cancel', handler: change('cancel') },
  ];
}
