/**
 * The `weft` command line: commands, flags, and how errors become exit codes — 0 success,
 * 1 a run that failed or was cancelled (or an unexpected error), 2 a usage error (one line on
 * stderr naming what to fix).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { OVERLAP_POLICIES } from '../core/schedule-spec.js';
import {
  backfillCommand,
  backfillsChangeCommand,
  backfillsListCommand,
  backfillsShowCommand,
  type BackfillFlags,
  type BackfillsListFlags,
} from './commands/backfill.js';
import { devCommand, type DevFlags } from './commands/dev.js';
import { eventSendCommand, type EventSendFlags } from './commands/event.js';
import { graphCommand, type GraphFlags } from './commands/graph.js';
import { migrateCommand, type MigrateFlags } from './commands/migrate.js';
import {
  partitionsCommand,
  type PartitionsFlags,
  type SourceFlags,
} from './commands/partitions.js';
import { resumeCommand, type ResumeFlags } from './commands/resume.js';
import { runCommand, type RunFlags } from './commands/run.js';
import { runsCommand, type RunsFlags } from './commands/runs.js';
import { DEFAULT_HOST, DEFAULT_PORT, serverCommand, type ServerFlags } from './commands/server.js';
import {
  schedulesCreateCommand,
  schedulesDeleteCommand,
  schedulesListCommand,
  schedulesPauseCommand,
  type ScheduleCreateFlags,
  type SchedulesFlags,
} from './commands/schedules.js';
import { sensorsListCommand, sensorsPauseCommand } from './commands/sensors.js';
import { showCommand, type ShowFlags } from './commands/show.js';
import { triggerCommand, type TriggerFlags } from './commands/trigger.js';
import {
  HEALTH_HOST,
  WORKER_DEFAULTS,
  workerCommand,
  type WorkerFlags,
} from './commands/worker.js';
import { DEFAULT_DB } from './open-store.js';
import { exitCodeOf, isUsageError, oneLine } from './usage-error.js';

function version(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const collectList = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];

const DB_HELP = `the database: a SQLite file, or a postgres:// URL (default: $WEFT_DB or ${DEFAULT_DB})`;

/** Builds the program; each action reports its exit code through `done`. */
export function buildProgram(done: (code: number) => void): Command {
  const program = new Command('weft')
    .description(
      'Workflow orchestration for TypeScript: run, inspect and resume pipelines and workflows.',
    )
    .version(version(), '-v, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => write(`weft: ${text.replace(/^error: /, '')}`),
    });

  program
    .command('run')
    .description('run a pipeline or workflow durably in this process, showing live progress')
    .argument('<file>', 'TypeScript file exporting the pipeline or workflow')
    .argument('[name]', 'pipeline or workflow name (optional when the file has one)')
    .option(
      '-p, --param <key=value>',
      'a param (a workflow: an input field); repeat for more (JSON for non-string fields)',
      collect,
    )
    .option('-i, --input <json>', 'the whole input as JSON (--param fields go on top of it)')
    .option(
      '-o, --output <node>',
      'compute only these nodes and what they need (repeatable; pipelines only)',
      collectList,
    )
    .option('--db <path>', DB_HELP)
    .option('-c, --concurrency <n>', 'most steps running at once (default 16)')
    .option(
      '--json',
      'print the outputs (a workflow: its result) as JSON on stdout (progress goes to stderr)',
    )
    .addHelpText(
      'after',
      [
        '',
        'A workflow that sleeps or waits for an event parks; this process keeps waiting and',
        'resumes it when due (or when `weft event send` from another shell wakes it).',
        '',
        'Examples:',
        '  weft run pipeline.ts --param day=2026-01-01',
        '  weft run etl.ts daily -p day=2026-01-01 -p limit=10 --output report --json',
        `  weft run approval.ts --input '{"expenseId":"exp-1","amount":120}'`,
      ].join('\n'),
    )
    .action(async (file: string, name: string | undefined, flags: RunFlags) =>
      done(await runCommand(file, name, flags)),
    );

  program
    .command('runs')
    .description('list recent runs, newest first')
    .option('--db <path>', DB_HELP)
    .option(
      '--status <status>',
      'only runs with this status (queued, running, waiting, succeeded, failed, cancelled)',
    )
    .option('--name <name>', 'only runs of this pipeline or workflow')
    .addOption(new Option('--pipeline <name>').hideHelp())
    .option('-n, --limit <n>', 'how many runs (default 20)')
    .option('--json', 'print the runs as JSON')
    .option('--server <url>', 'read from a weft server’s API instead of a database')
    .option('--token <token>', 'the server’s bearer token (default: $WEFT_TOKEN)')
    .action(async (flags: RunsFlags) => done(await runsCommand(flags)));

  program
    .command('show')
    .description(
      'show a run: input, status, every step (a workflow: its journal and child runs) with attempts, errors and logs',
    )
    .argument('<runId>', 'the run id (see weft runs)')
    .option('--db <path>', DB_HELP)
    .option('--json', 'print the run, steps, attempts, logs (and child runs) as JSON')
    .option('--server <url>', 'read from a weft server’s API instead of a database')
    .option('--token <token>', 'the server’s bearer token (default: $WEFT_TOKEN)')
    .action(async (runId: string, flags: ShowFlags) => done(await showCommand(runId, flags)));

  program
    .command('resume')
    .description(
      'resume an interrupted run (or follow a parked workflow run), with the definitions from <file>',
    )
    .argument('<runId>', 'the run id (see weft runs --status running)')
    .argument('<file>', 'TypeScript file exporting the run’s pipeline or workflow')
    .option('--db <path>', DB_HELP)
    .option('-c, --concurrency <n>', 'most steps running at once (default 16)')
    .option('--json', 'print the outputs as JSON on stdout (progress goes to stderr)')
    .action(async (runId: string, file: string, flags: ResumeFlags) =>
      done(await resumeCommand(runId, file, flags)),
    );

  program
    .command('graph')
    .description('print a pipeline’s DAG as Mermaid (default) or Graphviz DOT (not for workflows)')
    .argument('<file>', 'TypeScript file exporting the pipeline')
    .argument('[pipeline]', 'pipeline name (optional when the file has one)')
    .option('-f, --format <format>', 'mermaid or dot', 'mermaid')
    .addHelpText(
      'after',
      '\nExample:\n  weft graph pipeline.ts --format dot | dot -Tsvg > graph.svg',
    )
    .action(async (file: string, name: string | undefined, flags: GraphFlags) =>
      done(await graphCommand(file, name, flags)),
    );

  program
    .command('dev')
    .description(
      'run <file>’s pipelines and workflows with the API and web UI on this machine, reloading on change',
    )
    .argument('<file>', 'TypeScript file exporting pipelines and workflows')
    .option('--db <path>', DB_HELP)
    .option('-p, --port <port>', `port to listen on; 0 picks a free one (default ${DEFAULT_PORT})`)
    .option('--host <host>', `address to listen on (default ${DEFAULT_HOST})`)
    .option(
      '--token <token>',
      'require Authorization: Bearer <token> on /api (default: $WEFT_TOKEN, else no auth)',
    )
    .option('-c, --concurrency <n>', 'most steps running at once')
    .option(
      '--on-failure <url>',
      'POST a summary of every failed run to this webhook (repeatable; default $WEFT_ON_FAILURE)',
      collect,
      [],
    )
    .addHelpText(
      'after',
      [
        '',
        'Open the printed URL for the catalog, runs and workers. Saving the file (or a file it',
        'imports) loads it again: steps started from then on run the new code. State is kept in',
        '.weft/weft.db unless --db says otherwise. Ctrl-C stops it.',
        '',
        'Examples:',
        '  weft dev examples/etl/pipeline.ts',
        '  weft dev pipelines.ts --port 3000',
      ].join('\n'),
    )
    .action(async (file: string, flags: DevFlags) => done(await devCommand(file, flags)));

  program
    .command('server')
    .description(
      'serve the HTTP API over a database and, when elected, run its maintenance (loads no user code)',
    )
    .option('--db <url>', DB_HELP)
    .option('-p, --port <port>', `port to listen on; 0 picks a free one (default ${DEFAULT_PORT})`)
    .option('--host <host>', `address to listen on (default ${DEFAULT_HOST}; 0.0.0.0 for all)`)
    .option(
      '--token <token>',
      'require Authorization: Bearer <token> on /api (default: $WEFT_TOKEN, else no auth)',
    )
    .option(
      '--on-failure <url>',
      'POST a summary of every failed run to this webhook (repeatable; default $WEFT_ON_FAILURE)',
      collect,
      [],
    )
    .addHelpText(
      'after',
      [
        '',
        'Any number of servers may share a database: one at a time is elected to requeue',
        'expired leases and remove dead workers. SIGTERM or SIGINT stops it (exit 0).',
        '',
        'Examples:',
        '  weft server --db postgres://weft:secret@db.internal/weft --host 0.0.0.0 --token "$WEFT_TOKEN"',
        '  weft server --db .weft/weft.db --port 0',
      ].join('\n'),
    )
    .action(async (flags: ServerFlags) => done(await serverCommand(flags)));

  program
    .command('worker')
    .description(
      'run the steps of <file>’s pipelines and workflows for every run in the database, until stopped',
    )
    .argument('<file>', 'TypeScript file exporting the pipelines and workflows this worker runs')
    .option('--db <url>', DB_HELP)
    .option(
      '-c, --concurrency <n>',
      `most steps running at once (default ${WORKER_DEFAULTS.concurrency})`,
    )
    .option(
      '-l, --labels <labels>',
      'labels this worker has, comma-separated (repeatable); it runs only steps whose labels it all has',
      collectList,
    )
    .option(
      '--lease <duration>',
      `how long a step stays this worker's without a heartbeat (default ${WORKER_DEFAULTS.lease})`,
    )
    .option(
      '--grace <duration>',
      `on SIGTERM, how long running steps may finish before they are handed back (default ${WORKER_DEFAULTS.grace})`,
    )
    .option(
      '--poll <duration>',
      `how often an idle worker looks for work (default ${WORKER_DEFAULTS.poll})`,
    )
    .option('--name <prefix>', 'the prefix of this worker’s id (default wkr)')
    .option(
      '--health-port <port>',
      'serve GET /health (200 while the heartbeat reaches the database, else 503) and /metrics (Prometheus) on this port; 0 picks a free one',
    )
    .option(
      '--health-host <host>',
      `address the health port listens on (default ${HEALTH_HOST}, every interface)`,
    )
    .addHelpText(
      'after',
      [
        '',
        'The first SIGTERM or SIGINT stops claiming, lets running steps finish within --grace and',
        'hands back the rest (exit 0); a second one aborts at once (exit 143, or 130 for SIGINT).',
        '',
        'Examples:',
        '  weft worker pipelines.ts --db postgres://weft:secret@db.internal/weft',
        '  WEFT_DB=postgres://… weft worker pipelines.ts --concurrency 4 --labels gpu,region-eu',
      ].join('\n'),
    )
    .action(async (file: string, flags: WorkerFlags) => done(await workerCommand(file, flags)));

  program
    .command('migrate')
    .description('apply pending database migrations (every command also does this on open)')
    .option('--db <url>', DB_HELP)
    .action(async (flags: MigrateFlags) => done(await migrateCommand(flags)));

  program
    .command('trigger')
    .description(
      'start a run of a pipeline or workflow that workers run, by name (through a server, or into the database)',
    )
    .argument('<definition>', 'the pipeline or workflow name, as registered by a worker')
    .option(
      '-p, --param <key=value>',
      'a param (a workflow: an input field); repeat for more (JSON for non-string fields)',
      collect,
      [],
    )
    .option('-i, --input <json>', 'the whole input as JSON (--param fields go on top of it)')
    .option('-o, --output <node>', 'a pipeline output to compute; repeat for more', collect, [])
    .option('-t, --tag <tag>', 'a tag for the run; repeat for more', collect, [])
    .option('--priority <n>', 'higher runs first (default 0)')
    .option('--idempotency-key <key>', 'trigger at most once per key: a repeat returns that run')
    .option('-w, --wait', 'wait for the run to finish; exit 0 when it succeeded, 1 when not')
    .option('--json', 'print the run id and status as JSON')
    .option('--db <url>', DB_HELP)
    .option('--server <url>', 'trigger through a weft server’s API instead of the database')
    .option('--token <token>', 'the server’s bearer token (default: $WEFT_TOKEN)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  weft trigger daily --param day=2026-01-01 --wait',
        '  weft trigger daily -p day=2026-01-01 --server http://weft.internal:8080 --token "$WEFT_TOKEN"',
      ].join('\n'),
    )
    .action(async (name: string, flags: TriggerFlags) => done(await triggerCommand(name, flags)));

  const schedules = program
    .command('schedules')
    .description('list schedules with when each fires next; pause and resume them');
  schedules
    .command('list', { isDefault: true })
    .description('the schedules, with when each fires next (the default)')
    .option('--db <url>', DB_HELP)
    .option('--server <url>', 'read from a weft server’s API instead of the database')
    .option('--token <token>', 'the server’s bearer token (default: $WEFT_TOKEN)')
    .option('--json', 'print the schedules as JSON')
    .action(async (flags: SchedulesFlags) => done(await schedulesListCommand(flags)));
  for (const [verb, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    schedules
      .command(verb)
      .description(
        paused
          ? 'pause a schedule: no tick fires until it is resumed'
          : 'resume a paused schedule (ticks it missed follow its catch-up policy)',
      )
      .argument('<name>', 'the schedule name (see weft schedules)')
      .option('--db <url>', DB_HELP)
      .option('--server <url>', 'through a weft server’s API instead of the database')
      .option('--token <token>', 'the server’s bearer token (default: $WEFT_TOKEN)')
      .option('--json', 'print the schedule as JSON')
      .action(async (name: string, flags: SchedulesFlags) =>
        done(await schedulesPauseCommand(name, paused, flags)),
      );
  }

  schedules
    .command('create')
    .description('make a schedule of a registered pipeline or workflow (see docs/schedules.md)')
    .argument('<name>', 'a unique name for the schedule')
    .requiredOption('--target <definition>', 'the pipeline or workflow it starts')
    .option('--cron <expr>', "a cron expression, e.g. '30 2 * * *' (6 fields: seconds first)")
    .option('--every <interval>', 'or an interval, e.g. 15m, 1h')
    .option('--timezone <zone>', 'the IANA time zone of the cron expression (default UTC)')
    .option('--params <json>', 'the runs’ params (a workflow’s input), as JSON')
    .option('--start <time>', 'no tick before this time (ISO, e.g. 2026-01-01T00:00:00Z)')
    .option('--end <time>', 'no tick at or after this time')
    .option('--jitter <duration>', 'start each tick’s run up to this long after it, e.g. 30s')
    .option('--catch-up <policy>', 'after a downtime: none, latest (default) or all')
    .option('--max-catch-up <n>', 'with --catch-up all: the most missed ticks fired (default 100)')
    .option(
      '--overlap <policy>',
      `while the previous run runs: ${OVERLAP_POLICIES.map((p) => (p === 'allow' ? 'allow (default)' : p)).join(', ')}`,
    )
    .option('--db <url>', DB_HELP)
    .option('--server <url>', 'through a weft server’s API instead of the database')
    .option('--token <token>', 'the server’s bearer token (default: $WEFT_TOKEN)')
    .option('--json', 'print the schedule as JSON')
    .action(async (name: string, flags: ScheduleCreateFlags) =>
      done(await schedulesCreateCommand(name, flags)),
    );
  schedules
    .command('delete')
    .description('delete a schedule made through the API or the CLI (its runs stay)')
    .argument('<name>', 'the schedule name')
    .option('--db <url>', DB_HELP)
    .option('--server <url>', 'through a weft server’s API instead of the database')
    .option('--token <token>', 'the server’s bearer token (default: $WEFT_TOKEN)')
    .action(async (name: string, flags: SchedulesFlags) =>
      done(await schedulesDeleteCommand(name, flags)),
    );

  /** `--db`, `--server` and `--token` (and `--json`), as every command that can use either has. */
  const source = (command: Command, json = 'print it as JSON'): Command =>
    command
      .option('--db <url>', DB_HELP)
      .option('--server <url>', 'through a weft server’s API instead of the database')
      .option('--token <token>', 'the server’s bearer token (default: $WEFT_TOKEN)')
      .option('--json', json);

  source(
    program
      .command('backfill')
      .description(
        'run a partitioned pipeline over a range of its partitions, a few runs at a time (see docs/partitions.md)',
      )
      .argument('<pipeline>', 'the partitioned pipeline, as registered by a worker')
      .option('--from <key>', 'the first partition (default: the first one)')
      .option('--to <key>', 'the last partition, included (default: the latest one)')
      .option('--partitions <keys>', 'or exactly these partitions, comma-separated', collectList)
      .option('--params <json>', 'the runs’ other params, as a JSON object')
      .option('--max-concurrent <n>', 'most runs unfinished at once (default 4)')
      .option('-w, --wait', 'follow it until it ends; exit 0 when every run succeeded, 1 when not'),
    'print the backfill as JSON',
  )
    .addHelpText(
      'after',
      [
        '',
        'Its runs are launched by weft server (the elected one) or weft dev on the same database.',
        '',
        'Examples:',
        '  weft backfill daily_sales --from 2026-01-01 --to 2026-03-31 --max-concurrent 8 --wait',
        '  weft backfill regional --partitions eu,us --server http://weft.internal:8080',
      ].join('\n'),
    )
    .action(async (target: string, flags: BackfillFlags) =>
      done(await backfillCommand(target, flags)),
    );

  const backfills = program
    .command('backfills')
    .description('list backfills with their progress; show, pause, resume or cancel one');
  source(
    backfills
      .command('list', { isDefault: true })
      .description('backfills, newest first (the default)')
      .option('--status <status>', 'only running, paused, cancelled, succeeded or failed ones')
      .option('--target <pipeline>', 'only backfills of this pipeline')
      .option('--limit <n>', 'most backfills listed (default 50)'),
    'print the backfills as JSON',
  ).action(async (flags: BackfillsListFlags) => done(await backfillsListCommand(flags)));
  source(
    backfills
      .command('show')
      .description('a backfill: its progress and the status of each of its partitions')
      .argument('<id>', 'the backfill id (see weft backfills)'),
  ).action(async (id: string, flags: SourceFlags) => done(await backfillsShowCommand(id, flags)));
  for (const [action, description] of [
    ['pause', 'pause a backfill: no more of its runs start (those started go on)'],
    ['resume', 'resume a paused backfill'],
    ['cancel', 'cancel a backfill and its unfinished runs'],
  ] as const) {
    source(
      backfills
        .command(action)
        .description(description)
        .argument('<id>', 'the backfill id (see weft backfills)'),
      'print the backfill as JSON',
    ).action(async (id: string, flags: SourceFlags) =>
      done(await backfillsChangeCommand(id, action, flags)),
    );
  }

  source(
    program
      .command('partitions')
      .description(
        'the status of each partition of a partitioned pipeline: a grid, one character each',
      )
      .argument('<pipeline>', 'the partitioned pipeline, as registered by a worker')
      .option('--limit <n>', 'the latest this many partitions (default 1000)'),
  ).action(async (name: string, flags: PartitionsFlags) =>
    done(await partitionsCommand(name, flags)),
  );

  const sensors = program
    .command('sensors')
    .description('list sensors with their last evaluation; pause and resume them');
  source(
    sensors.command('list', { isDefault: true }).description('the sensors (the default)'),
    'print the sensors as JSON',
  ).action(async (flags: SourceFlags) => done(await sensorsListCommand(flags)));
  for (const [verb, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    source(
      sensors
        .command(verb)
        .description(
          paused ? 'pause a sensor: it is not evaluated until resumed' : 'resume a paused sensor',
        )
        .argument('<name>', 'the sensor name (see weft sensors)'),
      'print the sensor as JSON',
    ).action(async (name: string, flags: SourceFlags) =>
      done(await sensorsPauseCommand(name, paused, flags)),
    );
  }

  const event = program.command('event').description('send events to workflows');
  event
    .command('send')
    .description('send an event: wakes the workflow runs waiting for it, wherever they run')
    .argument('<type>', 'the event type, as in ctx.waitForEvent(…, { event })')
    .option('-d, --data <json>', 'the payload, as JSON (default null)')
    .option('-k, --key <key>', 'deliver to waits for this key, even one that begins later')
    .option('--idempotency-key <key>', 'send at most once per key: a repeat sends nothing')
    .option('--db <path>', DB_HELP)
    .option('--json', 'print the event id and the runs it woke as JSON')
    .addHelpText(
      'after',
      `\nExample:\n  weft event send expense.decided --key exp-1 --data '{"approved":true}'`,
    )
    .action(async (type: string, flags: EventSendFlags) =>
      done(await eventSendCommand(type, flags)),
    );

  return program;
}

/** Runs the CLI; resolves with the exit code. Never throws. */
export async function runCli(argv: readonly string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander already printed its message (help, version, or a bad flag).
    return error.exitCode === 0 ? 0 : 2;
  }
  if (isUsageError(error)) {
    process.stderr.write(`weft: ${oneLine(withParamHint(error))}\n`);
    return exitCodeOf(error);
  }
  const err = error instanceof Error ? error : new Error(String(error));
  process.stderr.write(`weft: ${err.message}\n`);
  if (process.env.WEFT_DEBUG) process.stderr.write(`${err.stack ?? ''}\n${causeStack(err)}`);
  else process.stderr.write('(set WEFT_DEBUG=1 to see the stack)\n');
  return 1;
}

/** An invalid params error, plus which `--param` flags fix it. */
function withParamHint(error: Error): string {
  const issues = (error as { issues?: { path: readonly (string | number)[] }[] }).issues;
  if (error.name !== 'InputError' || !Array.isArray(issues)) return error.message;
  const names = [...new Set(issues.map((i) => i.path[0]).filter((p) => p !== undefined))];
  return names.length
    ? `${error.message}; fix with ${names.map((n) => `--param ${n}=…`).join(' ')}`
    : `${error.message}; fix with --input '<json>'`;
}

function causeStack(error: Error): string {
  const cause = error.cause;
  return cause instanceof Error ? `caused by: ${cause.stack ?? cause.message}\n` : '';
}
