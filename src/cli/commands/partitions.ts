/**
 * `weft partitions <pipeline>`: the status of each partition of a partitioned pipeline, as a
 * grid of one character per partition (the status of its latest run), with a legend and the
 * counts — from a database (`--db`) or a server (`--server`).
 *
 * ```sh
 * weft partitions daily_sales --limit 90
 * ```
 *
 * Also the source helper and the grid that `weft backfill(s)` and `weft sensors` share.
 */
import type { PartitionsResponse, PartitionState, PartitionStatus } from '../../client/index.js';
import { describePartitions } from '../../core/partitions.js';
import { partitionStatuses } from '../../engine/backfills.js';
import { Engine } from '../../engine/engine.js';
import type { Store } from '../../store/contract/store.js';
import { colorsFor, paintStatus, toJson, type Colors } from '../format.js';
import { dbDisplay } from '../follow-run.js';
import { dbPath, openStore } from '../open-store.js';
import { remoteError, serverClient, type ServerFlags } from '../remote.js';
import { UsageError } from '../usage-error.js';

export interface SourceFlags extends ServerFlags {
  db?: string;
  json?: boolean;
}

/** Where a command works on the database directly: a client engine without code over it. */
export interface LocalSource {
  store: Store;
  engine: Engine;
  /** The database, as the user would type it. */
  where: string;
}

/**
 * Runs `work` against the server (`--server`) or the database (`--db`, default $WEFT_DB or
 * .weft/weft.db), with the server's errors as one line.
 */
export async function withSource<T>(
  flags: SourceFlags,
  remote: (client: ReturnType<typeof serverClient>) => Promise<T>,
  local: (source: LocalSource) => Promise<T>,
): Promise<T> {
  if (flags.server !== undefined) {
    if (flags.db !== undefined) throw new UsageError('give --db or --server, not both');
    const server = flags.server;
    return remote(serverClient({ ...flags, server })).catch((error: unknown) => {
      throw remoteError(error, server);
    });
  }
  const path = dbPath(flags.db);
  const store = await openStore(path, { mustExist: true });
  // Never started: it reads registered definitions and records changes, and runs nothing.
  const engine = new Engine({ store, definitions: [], worker: false, captureConsole: false });
  try {
    return await local({ store, engine, where: dbDisplay(path) });
  } finally {
    await store.close();
  }
}

/** A whole number flag in `[min, max]`, or a usage error naming it. */
export function intFlag(
  flag: string,
  text: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

// The grid ------------------------------------------------------------------------------------

const SYMBOLS: Record<PartitionStatus, string> = {
  succeeded: '✔',
  failed: '✖',
  cancelled: '⊘',
  running: '●',
  waiting: '◷',
  queued: '○',
  missing: '·',
};

/** Statuses in the order the legend and the counts list them. */
const ORDER: readonly PartitionStatus[] = [
  'succeeded',
  'failed',
  'cancelled',
  'running',
  'waiting',
  'queued',
  'missing',
];

function paint(c: Colors, status: PartitionStatus, text: string): string {
  return status === 'missing' ? c.dim(text) : paintStatus(c, status, text);
}

/** Partitions per line of the grid, in groups of ten. */
const ROW = 50;

/**
 * One character per partition, 50 to a line, each line led by the key of its first partition:
 *
 * ```
 * 2026-01-01  ✔✔✔✔✔✔✔✔✔✔ ✔✔✖✔✔✔✔✔✔✔ ✔✔✔✔●●○○··
 * ```
 */
export function partitionGrid(partitions: readonly PartitionState[], c: Colors): string {
  if (partitions.length === 0) return '';
  const width = Math.max(...partitions.map((p) => p.key.length));
  const lines: string[] = [];
  for (let i = 0; i < partitions.length; i += ROW) {
    const row = partitions.slice(i, i + ROW);
    const cells = row.map(
      (p, j) => (j > 0 && j % 10 === 0 ? ' ' : '') + paint(c, p.status, SYMBOLS[p.status]),
    );
    lines.push(`${row[0]!.key.padEnd(width)}  ${cells.join('')}`);
  }
  return lines.join('\n');
}

/** The legend of the statuses the grid shows. */
export function gridLegend(counts: Partial<Record<PartitionStatus, number>>, c: Colors): string {
  return ORDER.filter((s) => counts[s])
    .map((s) => `${paint(c, s, SYMBOLS[s])} ${s === 'missing' ? 'no run' : s}`)
    .join('  ');
}

/** `3 succeeded, 1 failed, 2 missing`. */
export function countsText(
  counts: Partial<Record<PartitionStatus, number>>,
  c: Colors,
  missing = 'missing',
): string {
  return ORDER.filter((s) => counts[s])
    .map((s) => paint(c, s, `${counts[s]} ${s === 'missing' ? missing : s}`))
    .join(', ');
}

// The command ---------------------------------------------------------------------------------

export interface PartitionsFlags extends SourceFlags {
  limit?: string;
}

/** Partitions shown by default: as the API. */
const DEFAULT_LIMIT = 1000;

export async function partitionsCommand(name: string, flags: PartitionsFlags): Promise<number> {
  const limit = intFlag('--limit', flags.limit, 1, 100_000) ?? DEFAULT_LIMIT;
  const found = await withSource<PartitionsResponse>(
    flags,
    (client) => client.partitions(name, { limit }),
    async ({ engine }) => {
      const view = await partitionStatuses(engine, name, { limit });
      return { definition: name, description: describePartitions(view.spec), ...view };
    },
  );
  if (flags.json) {
    process.stdout.write(`${toJson(found, 2)}\n`);
    return 0;
  }
  const c = colorsFor(process.stdout);
  const out = [`${c.bold(found.definition)}: ${found.description}, param ${found.spec.param}`];
  if (found.total === 0) {
    out.push('no partitions yet: the first one is not complete');
  } else {
    if (found.partitions.length < found.total) {
      out.push(
        c.dim(
          `the latest ${found.partitions.length} of ${found.total} partitions (see more with --limit)`,
        ),
      );
    }
    out.push(partitionGrid(found.partitions, c), gridLegend(found.counts, c));
    out.push(`${found.total} partitions: ${countsText(found.counts, c, 'with no run')}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
