/**
 * `weft schedules`: the schedules of a database (or of a server, `--server`), with when each
 * fires next; `weft schedules pause <name>` and `resume <name>`.
 *
 * ```sh
 * weft schedules
 * weft schedules pause "daily 30 2 * * *" --server http://weft.internal:8080
 * ```
 */
import type { CreateScheduleRequest } from '../../client/index.js';
import type { Duration } from '../../core/duration.js';
import { ConfigError, InputError } from '../../core/errors.js';
import { scheduleSpec, type CatchUp, type Overlap } from '../../core/schedule-spec.js';
import { checkRegisteredInput } from '../../engine/trigger.js';
import { scheduleView as view } from '../../server/views.js';
import { colorsFor, dateTime, table, toJson } from '../format.js';
import { dbDisplay } from '../follow-run.js';
import { dbPath, openStore } from '../open-store.js';
import { parseJsonFlag } from '../params.js';
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

export interface ScheduleCreateFlags extends SchedulesFlags {
  target: string;
  cron?: string;
  every?: string;
  timezone?: string;
  params?: string;
  start?: string;
  end?: string;
  jitter?: string;
  catchUp?: string;
  maxCatchUp?: string;
  overlap?: string;
}

/** `weft schedules create <name> --target <definition> --cron '…'`: a schedule made at run time. */
export async function schedulesCreateCommand(
  name: string,
  flags: ScheduleCreateFlags,
): Promise<number> {
  const params = flags.params === undefined ? undefined : parseJsonFlag('--params', flags.params);
  let maxCatchUp: number | undefined;
  if (flags.maxCatchUp !== undefined) {
    maxCatchUp = Number(flags.maxCatchUp);
    if (!Number.isInteger(maxCatchUp) || maxCatchUp < 1) {
      throw new UsageError(
        `--max-catch-up must be a whole number >= 1, got ${JSON.stringify(flags.maxCatchUp)}`,
      );
    }
  }
  const body: CreateScheduleRequest = {
    name,
    target: flags.target,
    ...(flags.cron !== undefined ? { cron: flags.cron } : {}),
    ...(flags.every !== undefined ? { every: flags.every } : {}),
    ...(flags.timezone !== undefined ? { timezone: flags.timezone } : {}),
    ...(params !== undefined ? { params } : {}),
    ...(flags.start !== undefined ? { start: flags.start } : {}),
    ...(flags.end !== undefined ? { end: flags.end } : {}),
    ...(flags.jitter !== undefined ? { jitter: flags.jitter } : {}),
    ...(flags.catchUp !== undefined ? { catchUp: flags.catchUp as CatchUp } : {}),
    ...(maxCatchUp !== undefined ? { maxCatchUp } : {}),
    ...(flags.overlap !== undefined ? { overlap: flags.overlap as Overlap } : {}),
  };
  const schedule = await withSource(
    flags,
    async (client) => (await client.createSchedule(body)).schedule,
    async (store, where) => {
      // The checks of POST /api/schedules, on the database directly.
      const { every, jitter, ...rest } = body;
      const spec = usageErrors(() =>
        scheduleSpec(name, {
          ...rest,
          ...(every !== undefined ? { every: every as Duration } : {}),
          ...(jitter !== undefined ? { jitter: jitter as Duration } : {}),
        }),
      );
      const definition = (await store.listDefinitions()).find((d) => d.name === flags.target);
      if (!definition) {
        throw new UsageError(
          `no worker has registered "${flags.target}" in ${where}; start one with weft worker <file>`,
        );
      }
      usageErrors(() => checkRegisteredInput(definition, spec.params));
      if (await store.getSchedule(name)) {
        throw new UsageError(`a schedule named "${name}" exists already in ${where}`);
      }
      const now = Date.now();
      await store.upsertSchedules([{ name, target: flags.target, spec, source: 'api', now }]);
      return view((await store.getSchedule(name))!, now);
    },
  );
  if (flags.json) process.stdout.write(`${toJson(schedule, 2)}\n`);
  else {
    const next = schedule.nextTick === null ? '' : `; next tick ${dateTime(schedule.nextTick)}`;
    process.stdout.write(`created ${schedule.name}: ${schedule.description}${next}\n`);
  }
  return 0;
}

/** `weft schedules delete <name>`: removes a schedule made through the API or the CLI. */
export async function schedulesDeleteCommand(name: string, flags: SchedulesFlags): Promise<number> {
  await withSource(
    flags,
    async (client) => {
      await client.deleteSchedule(name);
    },
    async (store, where) => {
      const schedule = await store.getSchedule(name);
      if (!schedule) throw new UsageError(`no schedule named "${name}" in ${where}`);
      if (schedule.source === 'code') {
        throw new UsageError(
          `schedule "${name}" is declared in code: a worker would register it again; pause it (weft schedules pause), or remove it from the code`,
        );
      }
      await store.deleteSchedule(name);
    },
  );
  process.stdout.write(`deleted ${name}\n`);
  return 0;
}

/** Runs `make`, turning a ConfigError or InputError (a bad option) into one usage line. */
function usageErrors<T>(make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (error instanceof ConfigError || error instanceof InputError) {
      throw new UsageError(error.message);
    }
    throw error;
  }
}
