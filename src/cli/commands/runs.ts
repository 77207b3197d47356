/** `weft runs`: the most recent runs of pipelines and workflows, newest first. */
import { existsSync } from 'node:fs';
import { RUN_STATUSES, type RunStatus } from '../../core/states.js';
import { colorsFor, dateTime, duration, paintStatus, table, toJson } from '../format.js';
import { dbDisplay } from '../follow-run.js';
import { safeDecode } from '../journal-format.js';
import { dbPath, isPostgresUrl, openStore } from '../open-store.js';
import {
  remoteError,
  remoteReader,
  serverClient,
  type RunReader,
  type ServerFlags,
} from '../remote.js';
import { UsageError } from '../usage-error.js';

export interface RunsFlags extends ServerFlags {
  db?: string;
  status?: string;
  name?: string;
  /** The old spelling of `--name`. */
  pipeline?: string;
  limit?: string;
  json?: boolean;
}

export async function runsCommand(flags: RunsFlags): Promise<number> {
  const status = parseStatus(flags.status);
  const limit = parseLimit(flags.limit);
  const name = flags.name ?? flags.pipeline;
  if (flags.server !== undefined) {
    const server = flags.server;
    if (flags.db !== undefined) throw new UsageError('give --db or --server, not both');
    const reader = remoteReader(serverClient({ ...flags, server }));
    return list(reader, flags, status, name, limit).catch((error: unknown) => {
      throw remoteError(error, server);
    });
  }
  const path = dbPath(flags.db);
  if (!isPostgresUrl(path) && !existsSync(path)) {
    if (flags.json) process.stdout.write('[]\n');
    else process.stdout.write(`no runs yet (no database at ${dbDisplay(path)})\n`);
    return 0;
  }
  return list(await openStore(path), flags, status, name, limit);
}

async function list(
  store: RunReader,
  flags: RunsFlags,
  status: RunStatus | undefined,
  name: string | undefined,
  limit: number,
): Promise<number> {
  try {
    const runs = await store.listRuns({ status, definition: name, limit });
    if (flags.json) {
      // A pipeline's input is its params; a workflow's is its input.
      const rows = runs.map(({ input, ...rest }) => ({
        ...rest,
        [rest.kind === 'pipeline' ? 'params' : 'input']: safeDecode(input),
      }));
      process.stdout.write(`${toJson(rows, 2)}\n`);
      return 0;
    }
    const c = colorsFor(process.stdout);
    if (runs.length === 0) {
      process.stdout.write(`no runs${status || name ? ' match' : ' yet'}\n`);
      return 0;
    }
    const now = Date.now();
    const rows = runs.map((r) => {
      const start = r.startedAt ?? r.createdAt;
      const took =
        r.finishedAt !== null
          ? duration(r.finishedAt - start)
          : r.startedAt !== null
            ? `${duration(now - start)}…`
            : '';
      return [
        r.id,
        r.kind,
        r.definition,
        paintStatus(c, r.status, r.status),
        dateTime(r.createdAt),
        took,
      ];
    });
    process.stdout.write(
      `${table(['ID', 'KIND', 'NAME', 'STATUS', 'STARTED', 'DURATION'], rows, c)}\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

function parseStatus(text: string | undefined): RunStatus | undefined {
  if (text === undefined) return undefined;
  if (!(RUN_STATUSES as readonly string[]).includes(text)) {
    throw new UsageError(
      `--status ${JSON.stringify(text)} is not a run status; use one of ${RUN_STATUSES.join(', ')}`,
    );
  }
  return text as RunStatus;
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return 20;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1) {
    throw new UsageError(
      `--limit ${JSON.stringify(text)} is not a whole number >= 1; e.g. --limit 50`,
    );
  }
  return n;
}
