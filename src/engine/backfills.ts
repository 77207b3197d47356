/**
 * Partitions and backfills, above the store: the status of each partition of a pipeline, and
 * backfills — runs of a partitioned pipeline over a range of partition keys with at most
 * `maxConcurrent` unfinished at a time.
 *
 * A backfill is a record in the store (`BackfillRecord`); the maintenance duty
 * {@link advanceBackfills} (run by the elected `weft server`, or `weft dev`) launches its runs
 * in key order as earlier ones finish, and marks it `succeeded` or `failed` when every key has a
 * finished run. Each run carries the trigger `backfill:<id>`, the partition key as its
 * partition param, and the idempotency key `backfill:<id>:<key>`: a launch repeated after a
 * crash, or by a new leader, starts no second run. Pausing stops launching (runs already
 * started go on); cancelling also cancels the backfill's unfinished runs.
 *
 * ```ts
 * const backfill = await startBackfill(engine, { target: 'daily_sales', from: '2026-01-01', to: '2026-03-31', maxConcurrent: 4 });
 * await changeBackfill(engine, backfill.id, 'pause');
 * ```
 */
import { ConfigError, InputError, NotFoundError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { checkPartitionKey, partitionKeys, partitionRange } from '../core/partitions.js';
import { isTerminalRun } from '../core/states.js';
import type {
  BackfillRecord,
  BackfillStatus,
  DefinitionRecord,
  PartitionState,
  PartitionStatus,
  PartitionsSpec,
  PipelineGraph,
} from '../store/contract/types.js';
import type { Engine } from './engine.js';
import type { MaintenanceDuty } from './maintenance.js';

/** What a backfill's runs have as `trigger`. */
export function backfillTrigger(id: string): string {
  return `backfill:${id}`;
}

/** The idempotency key of a backfill's run of one partition. */
export function backfillRunKey(id: string, partition: string): string {
  return `backfill:${id}:${partition}`;
}

/** Most partitions one backfill covers. */
export const MAX_BACKFILL_PARTITIONS = 100_000;
/** Default `maxConcurrent`. */
export const DEFAULT_BACKFILL_CONCURRENCY = 4;

/** The partitions of a registered pipeline, or a ConfigError saying how to declare them. */
export function partitionsOfRecord(record: DefinitionRecord): PartitionsSpec {
  const graph = record.graph as Partial<PipelineGraph>;
  if (record.kind !== 'pipeline' || !graph.partitions) {
    throw new ConfigError(
      'not_partitioned',
      `${record.kind} ${record.name} has no partitions; declare them on the pipeline (partitions: partitions.daily({ param: 'day', start: '2026-01-01' })) to target or backfill partitions`,
    );
  }
  return graph.partitions;
}

// Partition status ----------------------------------------------------------------------------

export interface PartitionsView {
  spec: PartitionsSpec;
  /** Every existing partition (the latest `limit` of them), in key order. */
  partitions: PartitionState[];
  /** How many partitions have each status. */
  counts: Partial<Record<PartitionStatus, number>>;
  /** Partitions that exist in all, of which `partitions` holds the latest ones. */
  total: number;
}

/** The status of every partition of a partitioned pipeline (by name) at `now`. */
export async function partitionStatuses(
  engine: Engine,
  name: string,
  options: { limit?: number } = {},
): Promise<PartitionsView> {
  const spec = partitionsOfRecord(await engine.registeredDefinition(name));
  const now = engine.clock.now();
  let all: string[];
  try {
    all = partitionKeys(spec, now);
  } catch (error) {
    // Too many to list (hourly over a century): the latest `limit` only, counted alone.
    if (options.limit === undefined) throw error;
    all = partitionKeys(spec, now, { limit: options.limit });
  }
  const keys = options.limit !== undefined ? all.slice(-options.limit) : all;
  const latest = new Map(
    (await engine.store.latestPartitionRuns(name)).map((p) => [p.partition, p]),
  );
  const counts: Partial<Record<PartitionStatus, number>> = {};
  for (const key of all) {
    const status = latest.get(key)?.status ?? 'missing';
    counts[status] = (counts[status] ?? 0) + 1;
  }
  const partitions = keys.map((key) => {
    const run = latest.get(key);
    return {
      key,
      status: run?.status ?? ('missing' as const),
      runId: run?.runId ?? null,
      finishedAt: run?.finishedAt ?? null,
    };
  });
  return { spec, partitions, counts, total: all.length };
}

// Starting and changing backfills ---------------------------------------------------------------

export interface BackfillRequest {
  /** The partitioned pipeline. */
  target: string;
  /** First partition key (default the first partition). */
  from?: string;
  /** Last partition key, included (default the latest partition). */
  to?: string;
  /** Or exactly these keys, in this order. */
  partitions?: readonly string[];
  /** The runs' other params (the partition param is set per run). */
  params?: Record<string, unknown>;
  /** Most runs unfinished at once. Default 4. */
  maxConcurrent?: number;
}

/**
 * Records a backfill over the partitions asked for, after checking them and the params (an
 * InputError or ConfigError naming what is wrong). Its runs start at the next maintenance pass.
 */
export async function startBackfill(
  engine: Engine,
  request: BackfillRequest,
): Promise<BackfillRecord> {
  const record = await engine.registeredDefinition(request.target);
  const spec = partitionsOfRecord(record);
  const now = engine.clock.now();
  const maxConcurrent = request.maxConcurrent ?? DEFAULT_BACKFILL_CONCURRENCY;
  if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1 || maxConcurrent > 1000) {
    throw new InputError('backfill', [
      {
        path: ['maxConcurrent'],
        message: `must be a whole number from 1 to 1000, got ${String(maxConcurrent)}`,
      },
    ]);
  }
  let keys: string[];
  if (request.partitions !== undefined) {
    if (request.from !== undefined || request.to !== undefined) {
      throw new InputError('backfill', [
        { path: ['partitions'], message: 'give either partitions or from/to, not both' },
      ]);
    }
    keys = [...new Set(request.partitions)];
    for (const key of keys) checkPartitionKey(spec, key, now);
  } else {
    keys = partitionRange(spec, request.from, request.to, now);
  }
  if (keys.length === 0) {
    throw new InputError('backfill', [
      { path: ['partitions'], message: `no partitions of ${record.name} in that range yet` },
    ]);
  }
  if (keys.length > MAX_BACKFILL_PARTITIONS) {
    throw new InputError('backfill', [
      {
        path: ['partitions'],
        message: `${keys.length} partitions is more than ${MAX_BACKFILL_PARTITIONS}; split the range`,
      },
    ]);
  }
  const params = request.params ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new InputError('backfill', [{ path: ['params'], message: 'must be a JSON object' }]);
  }
  if (spec.param in params) {
    throw new InputError('backfill', [
      {
        path: ['params', spec.param],
        message: `is the partition param: each run gets its partition key; leave it out`,
      },
    ]);
  }
  // The params are checked once, with the first key, rather than failing at every launch.
  await engine.checkInput(record, { ...params, [spec.param]: keys[0] });
  return engine.store.createBackfill({
    id: newId('bf', now),
    target: record.name,
    partitions: keys,
    params,
    maxConcurrent,
    now,
  });
}

export type BackfillAction = 'pause' | 'resume' | 'cancel';

const ALLOWED: Record<BackfillAction, readonly BackfillStatus[]> = {
  pause: ['running'],
  resume: ['paused'],
  cancel: ['running', 'paused'],
};
const OUTCOME: Record<BackfillAction, BackfillStatus> = {
  pause: 'paused',
  resume: 'running',
  cancel: 'cancelled',
};

/**
 * Pauses, resumes or cancels a backfill (cancelling also cancels its unfinished runs). A
 * NotFoundError for an unknown id; a ConfigError when the backfill's status does not allow it.
 */
export async function changeBackfill(
  engine: Engine,
  id: string,
  action: BackfillAction,
): Promise<BackfillRecord> {
  const store = engine.store;
  // The launcher may move `launched` between our read and our write: read again and retry.
  for (let attempt = 0; attempt < 20; attempt++) {
    const backfill = await store.getBackfill(id);
    if (!backfill) throw new NotFoundError('backfill', id, 'list backfills with weft backfills');
    if (!ALLOWED[action].includes(backfill.status)) {
      throw new ConfigError(
        'invalid_backfill_state',
        `backfill ${id} is ${backfill.status}; only a ${ALLOWED[action].join(' or ')} backfill can ${action === 'cancel' ? 'be cancelled' : action === 'pause' ? 'be paused' : 'be resumed'}`,
      );
    }
    const changed = await store.updateBackfill({
      id,
      from: { status: backfill.status, launched: backfill.launched },
      status: OUTCOME[action],
      now: engine.clock.now(),
    });
    if (!changed) continue;
    if (action === 'cancel') {
      const runs = await store.latestPartitionRuns(backfill.target, {
        trigger: backfillTrigger(id),
      });
      for (const run of runs) {
        if (!isTerminalRun(run.status)) {
          await engine.cancel(run.runId, `cancelled with backfill ${id}`);
        }
      }
    }
    return changed;
  }
  throw new ConfigError('backfill_busy', `backfill ${id} kept changing; try again`);
}

// Progress --------------------------------------------------------------------------------------

export interface BackfillProgress {
  /** Partitions by the status of their run in this backfill (`missing`: not launched yet). */
  counts: Partial<Record<PartitionStatus, number>>;
  /** Each partition of the backfill, in launch order. */
  partitions: PartitionState[];
}

export async function backfillProgress(
  engine: Engine,
  backfill: BackfillRecord,
): Promise<BackfillProgress> {
  const runs = new Map(
    (
      await engine.store.latestPartitionRuns(backfill.target, {
        trigger: backfillTrigger(backfill.id),
      })
    ).map((p) => [p.partition, p]),
  );
  const counts: Partial<Record<PartitionStatus, number>> = {};
  const partitions = backfill.partitions.map((key) => {
    const run = runs.get(key);
    const status: PartitionStatus = run?.status ?? 'missing';
    counts[status] = (counts[status] ?? 0) + 1;
    return { key, status, runId: run?.runId ?? null, finishedAt: run?.finishedAt ?? null };
  });
  return { counts, partitions };
}

// The launcher ----------------------------------------------------------------------------------

export interface BackfillLauncherOptions {
  engine: Engine;
  /** Told of each run launched. */
  onLaunch?: (event: { backfill: string; partition: string; runId: string }) => void;
  /** Where a backfill that could not advance is reported. Default `process.emitWarning`. */
  warn?: (message: string, error: unknown) => void;
}

function defaultWarn(message: string, error: unknown): void {
  const detail = error instanceof Error ? error.message : String(error);
  process.emitWarning(`${message}: ${detail}`, { type: 'WeftWarning', code: 'WEFT_BACKFILL' });
}

/** The maintenance duty that launches backfills' runs and finishes backfills. */
export function advanceBackfills(options: BackfillLauncherOptions): MaintenanceDuty {
  const warn = options.warn ?? defaultWarn;
  return {
    name: 'advance backfills',
    async run({ store, signal }) {
      for (const backfill of await store.listBackfills({ status: 'running' })) {
        if (signal.aborted) return;
        try {
          await advanceOne(options, backfill);
        } catch (error) {
          warn(`backfill ${backfill.id} could not advance`, error);
        }
      }
    },
  };
}

async function advanceOne(
  options: BackfillLauncherOptions,
  backfill: BackfillRecord,
): Promise<void> {
  const { engine } = options;
  const store = engine.store;
  const trigger = backfillTrigger(backfill.id);
  const active = await store.countUnfinishedRuns(trigger);
  const total = backfill.partitions.length;
  const from = { status: backfill.status, launched: backfill.launched };
  if (backfill.launched >= total) {
    if (active > 0) return;
    const runs = await store.latestPartitionRuns(backfill.target, { trigger });
    const failed = runs.some((r) => r.status !== 'succeeded');
    await store.updateBackfill({
      id: backfill.id,
      from,
      status: failed || runs.length < total ? 'failed' : 'succeeded',
      now: engine.clock.now(),
    });
    return;
  }
  const free = backfill.maxConcurrent - active;
  if (free <= 0) return;
  const record = await engine.registeredDefinition(backfill.target);
  const spec = partitionsOfRecord(record);
  const next = backfill.partitions.slice(backfill.launched, backfill.launched + free);
  let launched = backfill.launched;
  try {
    for (const partition of next) {
      const { run } = await engine.submitByName(record.name, {
        params: { ...(backfill.params as Record<string, unknown>), [spec.param]: partition },
        trigger,
        idempotencyKey: backfillRunKey(backfill.id, partition),
      });
      launched++;
      options.onLaunch?.({ backfill: backfill.id, partition, runId: run.id });
    }
  } catch (error) {
    // Bad params or a key no longer valid fail every try alike: the backfill fails.
    if (error instanceof InputError || error instanceof ConfigError) {
      await store.updateBackfill({
        id: backfill.id,
        from,
        status: 'failed',
        now: engine.clock.now(),
      });
    }
    throw error;
  } finally {
    if (launched > backfill.launched) {
      // Refused when the backfill was paused or cancelled meanwhile: its runs were created with
      // idempotency keys, so launching them again on resume finds them.
      await store.updateBackfill({ id: backfill.id, from, launched, now: engine.clock.now() });
    }
  }
}
