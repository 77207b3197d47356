/**
 * `weft backfill <pipeline>`: starts a backfill — runs of a partitioned pipeline over a range of
 * its partitions, a few at a time — through a server (`--server`) or straight into the
 * database (`--db`); with `--wait` it follows the backfill until it ends (exit 0 when every run
 * succeeded, 1 when not). `weft backfills` lists backfills, `show`s one, and pauses, resumes
 * or cancels it.
 *
 * ```sh
 * weft backfill daily_sales --from 2026-01-01 --to 2026-03-31 --max-concurrent 4 --wait
 * weft backfills show bf_01JQ…
 * weft backfills cancel bf_01JQ… --server http://weft.internal:8080
 * ```
 *
 * The runs are launched by the cluster's maintenance: the elected `weft server`, or `weft dev`.
 */
import type {
  BackfillDetailResponse,
  BackfillView,
  CreateBackfillRequest,
} from '../../client/index.js';
import {
  backfillProgress,
  changeBackfill,
  startBackfill,
  type BackfillAction,
} from '../../engine/backfills.js';
import type { Engine } from '../../engine/engine.js';
import type { BackfillRecord, BackfillStatus } from '../../store/contract/types.js';
import { backfillView } from '../../server/views.js';
import { colorsFor, dateTime, table, toJson, type Colors } from '../format.js';
import { parseJsonFlag } from '../params.js';
import { UsageError } from '../usage-error.js';
import {
  countsText,
  gridLegend,
  intFlag,
  partitionGrid,
  withSource,
  type SourceFlags,
} from './partitions.js';

export interface BackfillFlags extends SourceFlags {
  from?: string;
  to?: string;
  partitions?: string[];
  params?: string;
  maxConcurrent?: string;
  wait?: boolean;
}

/** How often `--wait` reads the backfill's progress. */
const WAIT_POLL_MS = 500;

const FINISHED: readonly BackfillStatus[] = ['succeeded', 'failed', 'cancelled'];

async function detailOf(engine: Engine, backfill: BackfillRecord): Promise<BackfillDetailResponse> {
  const progress = await backfillProgress(engine, backfill);
  return { backfill: backfillView(backfill, progress), partitions: progress.partitions };
}

/** Partitions whose run has finished. */
function finishedCount(view: BackfillView): number {
  const { succeeded = 0, failed = 0, cancelled = 0 } = view.counts;
  return succeeded + failed + cancelled;
}

function paintBackfill(c: Colors, status: BackfillStatus): string {
  switch (status) {
    case 'succeeded':
      return c.green(status);
    case 'failed':
      return c.red(status);
    case 'running':
      return c.cyan(status);
    case 'paused':
    case 'cancelled':
      return c.yellow(status);
  }
}

/** `2026-01-01 … 2026-03-31`, or the one key. */
function rangeOf(keys: readonly string[]): string {
  if (keys.length === 0) return '–';
  return keys.length === 1 ? keys[0]! : `${keys[0]} … ${keys.at(-1)}`;
}

/** `bf_… running: 3/10 finished (2 succeeded, 1 failed), 2 running, 5 not launched`. */
function progressLine(view: BackfillView, c: Colors): string {
  return `${view.id} ${paintBackfill(c, view.status)}: ${finishedCount(view)}/${view.total} finished (${countsText(view.counts, c, 'not launched') || 'none yet'})`;
}

export async function backfillCommand(target: string, flags: BackfillFlags): Promise<number> {
  const params = flags.params === undefined ? undefined : parseJsonFlag('--params', flags.params);
  if (
    params !== undefined &&
    (params === null || typeof params !== 'object' || Array.isArray(params))
  ) {
    throw new UsageError(`--params must be a JSON object, e.g. --params '{"region":"eu"}'`);
  }
  const maxConcurrent = intFlag('--max-concurrent', flags.maxConcurrent, 1, 1000);
  if (flags.partitions !== undefined && (flags.from !== undefined || flags.to !== undefined)) {
    throw new UsageError('give either --partitions or --from/--to, not both');
  }
  const request: CreateBackfillRequest = {
    target,
    ...(flags.from !== undefined ? { from: flags.from } : {}),
    ...(flags.to !== undefined ? { to: flags.to } : {}),
    ...(flags.partitions !== undefined ? { partitions: flags.partitions } : {}),
    ...(params !== undefined ? { params: params as Record<string, unknown> } : {}),
    ...(maxConcurrent !== undefined ? { maxConcurrent } : {}),
  };
  const c = colorsFor(process.stdout);
  return withSource(
    flags,
    async (client) => {
      const created = await client.createBackfill(request);
      report(created, c, flags);
      if (!flags.wait) return 0;
      return waitFor(created, c, flags, async () => (await client.backfill(created.id)).backfill);
    },
    async ({ store, engine, where }) => {
      const record = await startBackfill(engine, request).catch((error: unknown) => {
        // The CLI's hint for invalid params names `--param` flags, which this command has not.
        if (error instanceof Error && error.name === 'InputError') {
          throw new UsageError(error.message);
        }
        throw error;
      });
      const created = (await detailOf(engine, record)).backfill;
      report(created, c, flags);
      process.stderr.write(`its runs start when weft server or weft dev runs on ${where}\n`);
      if (!flags.wait) return 0;
      return waitFor(created, c, flags, async () => {
        const now = await store.getBackfill(created.id);
        if (!now) throw new UsageError(`backfill ${created.id} is gone from ${where}`);
        return (await detailOf(engine, now)).backfill;
      });
    },
  );
}

function report(created: BackfillView, c: Colors, flags: BackfillFlags): void {
  if (flags.json && !flags.wait) {
    process.stdout.write(`${toJson(created, 2)}\n`);
    return;
  }
  const line = `started backfill ${c.bold(created.id)} of ${created.target}: ${created.total} partition${created.total === 1 ? '' : 's'} (${rangeOf(created.partitions)}), at most ${created.maxConcurrent} at once\n`;
  // With --json the JSON alone goes to stdout.
  (flags.json ? process.stderr : process.stdout).write(line);
}

/** Follows a backfill until it ends, a line each time its progress changes. */
async function waitFor(
  created: BackfillView,
  c: Colors,
  flags: BackfillFlags,
  read: () => Promise<BackfillView>,
): Promise<number> {
  let last = '';
  let view = created;
  for (;;) {
    const line = progressLine(view, c);
    if (line !== last) {
      (flags.json ? process.stderr : process.stdout).write(`${line}\n`);
      last = line;
    }
    if (FINISHED.includes(view.status)) break;
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    view = await read();
  }
  if (flags.json) process.stdout.write(`${toJson(view, 2)}\n`);
  return view.status === 'succeeded' ? 0 : 1;
}

// weft backfills ------------------------------------------------------------------------------

export interface BackfillsListFlags extends SourceFlags {
  status?: string;
  target?: string;
  limit?: string;
}

const STATUSES: readonly BackfillStatus[] = [
  'running',
  'paused',
  'cancelled',
  'succeeded',
  'failed',
];

export async function backfillsListCommand(flags: BackfillsListFlags): Promise<number> {
  const status = flags.status;
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
    throw new UsageError(
      `--status must be one of ${STATUSES.join(', ')}, got ${JSON.stringify(status)}`,
    );
  }
  const limit = intFlag('--limit', flags.limit, 1, 500) ?? 50;
  const query = {
    ...(status !== undefined ? { status: status as BackfillStatus } : {}),
    ...(flags.target !== undefined ? { target: flags.target } : {}),
    limit,
  };
  const backfills = await withSource(
    flags,
    async (client) => (await client.backfills(query)).backfills,
    async ({ store, engine }) =>
      Promise.all(
        (await store.listBackfills(query)).map(async (b) => (await detailOf(engine, b)).backfill),
      ),
  );
  if (flags.json) {
    process.stdout.write(`${toJson(backfills, 2)}\n`);
    return 0;
  }
  if (backfills.length === 0) {
    process.stdout.write(
      'no backfills: start one with weft backfill <pipeline> --from <key> --to <key>\n',
    );
    return 0;
  }
  const c = colorsFor(process.stdout);
  const rows = backfills.map((b) => [
    b.id,
    b.target,
    paintBackfill(c, b.status),
    `${finishedCount(b)}/${b.total}`,
    rangeOf(b.partitions),
    dateTime(b.createdAt),
  ]);
  process.stdout.write(
    `${table(['ID', 'TARGET', 'STATUS', 'FINISHED', 'PARTITIONS', 'CREATED'], rows, c)}\n`,
  );
  return 0;
}

/** Failed partitions listed by `weft backfills show`, at most. */
const SHOW_FAILED = 10;

export async function backfillsShowCommand(id: string, flags: SourceFlags): Promise<number> {
  const detail = await withSource(
    flags,
    (client) => client.backfill(id),
    async ({ store, engine, where }) => {
      const backfill = await store.getBackfill(id);
      if (!backfill) {
        throw new UsageError(
          `no backfill ${JSON.stringify(id)} in ${where}; list them with weft backfills`,
        );
      }
      return detailOf(engine, backfill);
    },
  );
  if (flags.json) {
    process.stdout.write(`${toJson(detail, 2)}\n`);
    return 0;
  }
  const c = colorsFor(process.stdout);
  const b = detail.backfill;
  const params = b.params && Object.keys(b.params).length ? ` with params ${toJson(b.params)}` : '';
  const out = [
    `${c.bold(b.id)}  ${b.target}  ${paintBackfill(c, b.status)}`,
    `${b.total} partition${b.total === 1 ? '' : 's'} (${rangeOf(b.partitions)})${params}, at most ${b.maxConcurrent} at once; ${b.launched} launched`,
    `created ${dateTime(b.createdAt)}${b.finishedAt === null ? '' : `, finished ${dateTime(b.finishedAt)}`}`,
    partitionGrid(detail.partitions, c),
    gridLegend(b.counts, c).replace('no run', 'not launched'),
    `${finishedCount(b)}/${b.total} finished: ${countsText(b.counts, c, 'not launched')}`,
  ];
  const failed = detail.partitions.filter((p) => p.status === 'failed');
  for (const p of failed.slice(0, SHOW_FAILED)) {
    out.push(`${c.red('failed')} ${p.key}  ${p.runId ?? ''}  (weft show ${p.runId ?? ''})`);
  }
  if (failed.length > SHOW_FAILED)
    out.push(c.dim(`…and ${failed.length - SHOW_FAILED} more failed`));
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

const DONE: Record<BackfillAction, string> = {
  pause: 'paused: no more runs start (those started go on)',
  resume: 'resumed',
  cancel: 'cancelled, with its unfinished runs',
};

export async function backfillsChangeCommand(
  id: string,
  action: BackfillAction,
  flags: SourceFlags,
): Promise<number> {
  const changed = await withSource(
    flags,
    (client) =>
      action === 'pause'
        ? client.pauseBackfill(id)
        : action === 'resume'
          ? client.resumeBackfill(id)
          : client.cancelBackfill(id),
    async ({ engine }) =>
      (await detailOf(engine, await changeBackfill(engine, id, action))).backfill,
  );
  if (flags.json) process.stdout.write(`${toJson(changed, 2)}\n`);
  else process.stdout.write(`${changed.id} ${DONE[action]}\n`);
  return 0;
}
