/**
 * `weft schedules`: the schedules of a database (or of a server, `--server`), with when each
 * fires next; `weft schedules pause <name>` and `resume <name>`.
 *
 * ```sh
 * weft schedules
 * weft schedules pause "daily 30 2 * * *" --server http://weft.internal:8080
 * ```
 */
import { scheduleView as view } from '../../server/views.js';
import { colorsFor, dateTime, table, toJson } from '../format.js';
import { dbDisplay } from '../follow-run.js';
import { dbPath, openStore } from '../open-store.js';
import { remoteError, serverClient, type ServerFlags } from '../remote.js';
import { UsageError } from '../usage-error.js';

export interface SchedulesFlags extends ServerFlags {
  db?: string;
  json?: boolean;
}

/** Runs `work` against the server (`--server`) or the database, with errors as one line. */
async function withSource<T>(
  flags: SchedulesFlags,
  remote: (client: ReturnType<typeof serverClient>) => Promise<T>,
  local: (store: Awaited<ReturnType<typeof openStore>>, where: string) => Promise<T>,
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
  try {
    return await local(store, dbDisplay(path));
  } finally {
    await store.close();
  }
}

export async function schedulesListCommand(flags: SchedulesFlags): Promise<number> {
  const schedules = await withSource(
    flags,
    async (client) => (await client.schedules()).schedules,
    async (store) => {
      const now = Date.now();
      return (await store.listSchedules()).map((s) => view(s, now));
    },
  );
  if (flags.json) {
    process.stdout.write(`${toJson(schedules, 2)}\n`);
    return 0;
  }
  if (schedules.length === 0) {
    process.stdout.write(
      'no schedules yet: declare one with schedule(target, { cron }) in a file a worker loads\n',
    );
    return 0;
  }
  const c = colorsFor(process.stdout);
  const rows = schedules.map((s) => [
    s.name,
    s.target,
    s.description,
    s.paused ? c.yellow('paused') : 'active',
    s.nextTick === null ? '–' : dateTime(s.nextTick),
    s.cursor === null ? '–' : dateTime(s.cursor),
    s.source,
  ]);
  process.stdout.write(
    `${table(['NAME', 'TARGET', 'WHEN', 'STATE', 'NEXT', 'LAST TICK', 'SOURCE'], rows, c)}\n`,
  );
  return 0;
}

export async function schedulesPauseCommand(
  name: string,
  paused: boolean,
  flags: SchedulesFlags,
): Promise<number> {
  const schedule = await withSource(
    flags,
    async (client) =>
      (await (paused ? client.pauseSchedule(name) : client.resumeSchedule(name))).schedule,
    async (store, where) => {
      const updated = await store.setSchedulePaused(name, paused, Date.now());
      if (!updated) {
        const known = (await store.listSchedules()).map((s) => s.name);
        throw new UsageError(
          `no schedule named ${JSON.stringify(name)} in ${where}${known.length ? `; schedules: ${known.join(', ')}` : ''}`,
        );
      }
      return view(updated, Date.now());
    },
  );
  if (flags.json) process.stdout.write(`${toJson(schedule, 2)}\n`);
  else {
    const next = schedule.nextTick === null ? '' : `; next tick ${dateTime(schedule.nextTick)}`;
    process.stdout.write(`${schedule.name} ${paused ? 'paused' : 'resumed'}${next}\n`);
  }
  return 0;
}
