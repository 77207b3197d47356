/**
 * `weft trigger <definition>`: starts a run of a pipeline or workflow that workers run, by its
 * name — through a server's API (`--server`) or straight into the database (`--db`) — without
 * its code: the input is checked against the schema the workers registered. With `--wait` it
 * waits for the run to finish and exits 0 when it succeeded, 1 when not.
 *
 * ```sh
 * weft trigger daily --param day=2026-01-01 --server http://weft.internal:8080 --wait
 * ```
 */
import type { DefinitionRecord, RunRecord } from '../../store/contract/types.js';
import { isTerminalRun } from '../../core/states.js';
import { Engine } from '../../engine/engine.js';
import { registeredSchema } from '../../engine/trigger.js';
import { colorsFor, paintStatus, toJson } from '../format.js';
import { dbDisplay } from '../follow-run.js';
import { dbPath, openStore } from '../open-store.js';
import { inputShapeOf, parseInput } from '../params.js';
import { remoteError, runRecord, serverClient, type ServerFlags } from '../remote.js';
import { UsageError } from '../usage-error.js';

export interface TriggerFlags extends ServerFlags {
  db?: string;
  param?: string[];
  input?: string;
  output?: string[];
  tag?: string[];
  priority?: string;
  idempotencyKey?: string;
  wait?: boolean;
  json?: boolean;
}

/** How often `--wait` asks a server whether the run has finished. */
const WAIT_POLL_MS = 500;

interface Submitted {
  run: RunRecord;
  created: boolean;
  where: string;
  /** Resolves with the run once finished (for --wait). */
  finished: () => Promise<RunRecord>;
  close: () => Promise<void>;
}

export async function triggerCommand(name: string, flags: TriggerFlags): Promise<number> {
  if (flags.server !== undefined && flags.db !== undefined) {
    throw new UsageError('give --db or --server, not both');
  }
  const priority = parsePriority(flags.priority);
  if (flags.idempotencyKey === '') {
    throw new UsageError('--idempotency-key is empty; drop it or give a value');
  }
  const submitted =
    flags.server !== undefined
      ? await viaServer(name, flags, flags.server, priority).catch((error: unknown) => {
          throw remoteError(error, flags.server!);
        })
      : await viaDatabase(name, flags, priority);
  try {
    const { run, created } = submitted;
    const c = colorsFor(process.stdout);
    if (!flags.wait) {
      if (flags.json) {
        process.stdout.write(`${toJson({ run: run.id, status: run.status, created }, 2)}\n`);
      } else if (created) {
        process.stdout.write(
          `triggered ${c.bold(run.id)} (${run.definition}) in ${submitted.where}\n`,
        );
      } else {
        process.stdout.write(
          `run ${c.bold(run.id)} already exists for idempotency key ${flags.idempotencyKey}; nothing triggered\n`,
        );
      }
      return 0;
    }
    if (!flags.json) {
      process.stderr.write(`triggered ${run.id} (${run.definition}); waiting for it to finish\n`);
    }
    const done = await submitted.finished();
    if (flags.json) {
      process.stdout.write(`${toJson({ run: done.id, status: done.status, created }, 2)}\n`);
    } else {
      const why = done.error ? `: ${done.error.message}` : '';
      process.stdout.write(`${done.id} ${paintStatus(c, done.status, done.status)}${why}\n`);
    }
    return done.status === 'succeeded' ? 0 : 1;
  } finally {
    await submitted.close();
  }
}

function submitBody(flags: TriggerFlags, priority: number | undefined) {
  return {
    ...(flags.output?.length ? { outputs: flags.output } : {}),
    ...(flags.tag?.length ? { tags: flags.tag } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(flags.idempotencyKey !== undefined ? { idempotencyKey: flags.idempotencyKey } : {}),
  };
}

/** The run's input from `--param`/`--input`, typed by the registered schema. */
function inputFor(
  record: Pick<DefinitionRecord, 'kind' | 'name' | 'inputSchema' | 'codeHash'>,
  flags: TriggerFlags,
) {
  const schema = registeredSchema(record);
  return parseInput(inputShapeOf(record.kind, record.name, schema), flags);
}

async function viaServer(
  name: string,
  flags: TriggerFlags,
  server: string,
  priority: number | undefined,
): Promise<Submitted> {
  const client = serverClient({ ...flags, server });
  const { definition } = await client.definition(name);
  const params = inputFor(definition, flags);
  const { run, created } = await client.trigger(
    {
      definition: name,
      ...(params !== undefined ? { params } : {}),
      ...submitBody(flags, priority),
    },
    { values: 'tagged' },
  );
  return {
    run: runRecord(run),
    created,
    where: server,
    async finished() {
      for (;;) {
        const { run: now } = await client.run(run.id, { values: 'tagged' });
        if (isTerminalRun(now.status)) return runRecord(now);
        await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
      }
    },
    close: async () => {},
  };
}

async function viaDatabase(
  name: string,
  flags: TriggerFlags,
  priority: number | undefined,
): Promise<Submitted> {
  const path = dbPath(flags.db);
  const store = await openStore(path, { mustExist: true });
  // A client engine: it records the run and waits for it; workers run it.
  const engine = new Engine({ store, definitions: [], worker: false, captureConsole: false });
  try {
    const record = (await store.listDefinitions()).find((d) => d.name === name);
    if (!record) {
      const known = (await store.listDefinitions()).map((d) => d.name);
      throw new UsageError(
        `no worker has registered "${name}" in ${dbDisplay(path)}${known.length ? `; registered: ${known.join(', ')}` : '; start one with weft worker <file>'}`,
      );
    }
    const params = inputFor(record, flags);
    await engine.start();
    const { run, created } = await engine.submitRegistered(record, {
      ...(params !== undefined ? { params } : {}),
      trigger: 'cli',
      ...submitBody(flags, priority),
    });
    return {
      run,
      created,
      where: dbDisplay(path),
      finished: () => engine.wait(run.id),
      close: async () => {
        await engine.stop();
        await store.close();
      },
    };
  } catch (error) {
    await engine.stop().catch(() => undefined);
    await store.close();
    throw error;
  }
}

function parsePriority(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text.trim())) {
    throw new UsageError(
      `--priority ${JSON.stringify(text)} is not a whole number; e.g. --priority 10`,
    );
  }
  return Number(text);
}
