/**
 * `weft show <runId>`: one run in full — header, every step with its attempts, errors and logs.
 * For a workflow run: what it waits for while parked, its journal in order, its child runs, and
 * the workflow function (`$run`) with its attempts and logs.
 */
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SerializedError } from '../../core/errors.js';
import {
  WORKFLOW_STEP_KEY,
  type AttemptRecord,
  type LogRecord,
  type RunRecord,
  type StepRecord,
} from '../../store/contract/types.js';
import {
  clockTime,
  colorsFor,
  countsLine,
  dateTime,
  duration,
  indent,
  paintStatus,
  preview,
  span,
  statusSymbol,
  toJson,
  type Colors,
} from '../format.js';
import { dbDisplay } from '../follow-run.js';
import {
  entryOutput,
  eventFilterText,
  isEntryKind,
  kindCounts,
  receivedText,
  safeDecode,
  waitText,
  when,
} from '../journal-format.js';
import { dbPath, openStore } from '../open-store.js';
import {
  remoteError,
  remoteReader,
  serverClient,
  type RunReader,
  type ServerFlags,
} from '../remote.js';
import { UsageError } from '../usage-error.js';

export interface ShowFlags extends ServerFlags {
  db?: string;
  json?: boolean;
}

export async function showCommand(runId: string, flags: ShowFlags): Promise<number> {
  if (flags.server !== undefined) {
    const server = flags.server;
    if (flags.db !== undefined) throw new UsageError('give --db or --server, not both');
    return show(runId, flags, remoteReader(serverClient({ ...flags, server })), server).catch(
      (error: unknown) => {
        throw remoteError(error, server);
      },
    );
  }
  const path = dbPath(flags.db);
  return show(runId, flags, await openStore(path, { mustExist: true }), dbDisplay(path));
}

async function show(
  runId: string,
  flags: ShowFlags,
  store: RunReader,
  where: string,
): Promise<number> {
  try {
    const run = await store.getRun(runId);
    if (!run) throw new UsageError(`run ${runId} not found in ${where}; list runs with weft runs`);
    const [steps, attempts, logs, children] = await Promise.all([
      store.listSteps(runId),
      store.listAttempts(runId),
      store.listLogs(runId),
      run.kind === 'workflow' ? store.listChildRuns(runId) : Promise.resolve([]),
    ]);
    if (flags.json) {
      const { input, ...rest } = run;
      const data = {
        // A pipeline's input is its params; a workflow's is its input.
        run: { ...rest, [run.kind === 'pipeline' ? 'params' : 'input']: safeDecode(input) },
        steps: steps.map(({ output, ...s }) => ({
          ...s,
          output: output === null ? null : safeDecode(output),
        })),
        attempts,
        logs,
        ...(run.kind === 'workflow'
          ? {
              children: children.map(({ input: childInput, ...c }) => ({
                ...c,
                input: safeDecode(childInput),
              })),
            }
          : {}),
      };
      process.stdout.write(`${toJson(data, 2)}\n`);
    } else {
      const c = colorsFor(process.stdout);
      const text =
        run.kind === 'workflow'
          ? renderWorkflowRun(run, steps, attempts, logs, children, c)
          : renderRun(run, steps, attempts, logs, c);
      process.stdout.write(`${text}\n`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

export function renderRun(
  run: RunRecord,
  steps: StepRecord[],
  attempts: AttemptRecord[],
  logs: LogRecord[],
  c: Colors,
): string {
  const now = Date.now();
  const out = renderHeader(run, c, now);
  const top = steps.filter((s) => s.parentKey === null);
  const items = groupBy(
    steps.filter((s) => s.parentKey !== null),
    (s) => s.parentKey!,
  );
  const logsByStep = groupBy(logs, (l) => l.stepKey ?? '');
  const attemptsByStep = groupBy(attempts, (a) => a.stepKey);

  const statuses = (list: StepRecord[]) => list.map((s) => s.status);
  out.push('', `${c.bold('steps')}  ${countsLine(statuses(top), c)}`);
  const width = Math.min(
    32,
    Math.max(0, ...steps.map((s) => s.key.length + (s.parentKey === null ? 0 : 2))),
  );
  const row = (s: StepRecord, pad: string, children?: StepRecord[]) =>
    renderStep(
      s,
      attemptsByStep.get(s.key) ?? [],
      logsByStep.get(s.key) ?? [],
      c,
      pad,
      width - pad.length + 2,
      now,
      children,
    );
  for (const s of top) {
    const children = items.get(s.key);
    out.push(...row(s, '  ', children));
    for (const item of (children ?? []).sort((a, b) => (a.index ?? 0) - (b.index ?? 0))) {
      out.push(...row(item, '    '));
    }
  }
  const runLogs = logsByStep.get('') ?? [];
  if (runLogs.length) {
    out.push('', c.bold('run logs'));
    for (const l of runLogs) out.push(`  ${logText(l, c)}`);
  }
  return out.join('\n');
}

/** The run's fields: what it runs, with what, when, and how it ended (or what it waits for). */
function renderHeader(run: RunRecord, c: Colors, now: number, extra: [string, string][] = []) {
  const out: string[] = [];
  out.push(`${c.bold(`run ${run.id}`)}  ${paintStatus(c, run.status, run.status)}`);
  const field = (name: string, value: string) => out.push(`  ${c.dim(name.padEnd(9))} ${value}`);
  field(run.kind, run.definition);
  field(run.kind === 'pipeline' ? 'params' : 'input', preview(safeDecode(run.input), 200));
  field('trigger', run.trigger);
  if (run.outputs.length) field('outputs', run.outputs.join(', '));
  if (run.parentRunId) field('parent', run.parentRunId);
  if (run.waitingFor) field('parked', c.yellow(waitText(run.waitingFor, now)));
  field('created', dateTime(run.createdAt));
  if (run.startedAt !== null) field('started', dateTime(run.startedAt));
  if (run.finishedAt !== null) field('finished', dateTime(run.finishedAt));
  if (run.startedAt !== null) {
    const ongoing = run.finishedAt === null ? '…' : '';
    field('duration', span(run.startedAt, run.finishedAt, now) + ongoing);
  }
  for (const [name, value] of extra) field(name, value);
  if (run.error) field('error', c.red(run.error.message));
  return out;
}

/** A workflow run: header, journal in order, child runs, then the workflow function itself. */
export function renderWorkflowRun(
  run: RunRecord,
  steps: StepRecord[],
  attempts: AttemptRecord[],
  logs: LogRecord[],
  children: RunRecord[],
  c: Colors,
): string {
  const now = Date.now();
  const fn = steps.find((s) => s.key === WORKFLOW_STEP_KEY);
  const result: [string, string][] =
    run.status === 'succeeded' && fn?.output != null
      ? [['result', preview(safeDecode(fn.output), 200)]]
      : [];
  const out = renderHeader(run, c, now, result);
  const journal = steps
    .filter((s) => s.key !== WORKFLOW_STEP_KEY && isEntryKind(s.kind))
    .sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  const logsByStep = groupBy(logs, (l) => l.stepKey ?? '');
  const attemptsByStep = groupBy(attempts, (a) => a.stepKey);
  // A child run's idempotency key is `<parent run id>/<entry key>`: it links entry and child.
  const childOf = new Map(
    children.map((child) => [child.idempotencyKey?.slice(run.id.length + 1) ?? '', child]),
  );

  const counts = journal.length
    ? `: ${countsLine(
        journal.map((s) => s.status),
        c,
      )}`
    : '';
  out.push('', `${c.bold('journal')}  ${kindCounts(journal)}${counts}`);
  const keyWidth = Math.min(32, Math.max(0, ...journal.map((s) => s.key.length)));
  const seqWidth = Math.max(2, ...journal.map((s) => `#${s.seq ?? ''}`.length));
  for (const s of journal) {
    const waiting = s.status === 'running' && s.kind !== 'step';
    const head = [
      c.dim(`#${s.seq ?? '?'}`.padEnd(seqWidth)),
      waiting ? c.yellow('◷') : paintStatus(c, s.status, statusSymbol(s.status)),
      c.dim(s.kind.padEnd(5)),
      c.bold(s.key.padEnd(keyWidth)),
      waiting ? c.yellow('waiting'.padEnd(9)) : paintStatus(c, s.status, s.status.padEnd(9)),
    ];
    if (s.kind === 'step' && s.attempt > 0) {
      head.push(c.dim(`${s.attempt} attempt${s.attempt > 1 ? 's' : ' '}`));
    }
    if (s.startedAt !== null) {
      const ongoing = s.finishedAt === null ? '…' : '';
      head.push(
        c.dim(`${clockTime(s.startedAt)}  ${span(s.startedAt, s.finishedAt, now)}${ongoing}`),
      );
    }
    const detail = entryDetail(s, childOf.get(s.key), c, now);
    if (detail) head.push(detail);
    out.push(`  ${head.join('  ')}`.trimEnd());
    out.push(
      ...stepDetails(s, attemptsByStep.get(s.key) ?? [], logsByStep.get(s.key) ?? [], c, '      '),
    );
  }
  if (journal.length === 0) out.push(c.dim('  (no entries yet)'));

  if (children.length) {
    out.push(
      '',
      `${c.bold('child runs')}  ${countsLine(
        children.map((r) => r.status),
        c,
      )}`,
    );
    const idWidth = Math.max(...children.map((r) => r.id.length));
    for (const child of children) {
      const start = child.startedAt;
      const took = start !== null ? span(start, child.finishedAt, now) : '';
      out.push(
        `  ${[
          paintStatus(
            c,
            child.status,
            statusSymbol(child.status === 'waiting' ? 'running' : child.status),
          ),
          child.id.padEnd(idWidth),
          `${child.kind} ${c.bold(child.definition)}`,
          paintStatus(c, child.status, child.status),
          c.dim(
            `${start !== null ? clockTime(start) : ''}  ${took}${child.finishedAt === null && start !== null ? '…' : ''}`,
          ),
        ].join('  ')}`.trimEnd(),
      );
    }
  }

  if (fn) {
    out.push('', c.bold(`workflow function (${WORKFLOW_STEP_KEY})`));
    out.push(
      ...renderStep(
        fn,
        attemptsByStep.get(fn.key) ?? [],
        logsByStep.get(fn.key) ?? [],
        c,
        '  ',
        fn.key.length,
        now,
      ),
    );
  }
  const runLogs = logsByStep.get('') ?? [];
  if (runLogs.length) {
    out.push('', c.bold('run logs'));
    for (const l of runLogs) out.push(`  ${logText(l, c)}`);
  }
  return out.join('\n');
}

/** What an entry did or waits for, in a few words. */
function entryDetail(
  s: StepRecord,
  child: RunRecord | undefined,
  c: Colors,
  now: number,
): string | null {
  const out = entryOutput(s);
  const arrow = c.dim('→');
  const childText = (id: string) => `child run ${id}${child ? ` (${child.definition})` : ''}`;
  switch (out?.kind) {
    case undefined:
      return null;
    case 'sleep':
      return c.dim(`until ${when(out.until, now)}`);
    case 'event-wait': {
      const until = out.spec.until === null ? '' : ` until ${when(out.spec.until, now)}`;
      return c.dim(`for ${eventFilterText(out.spec.event, out.spec.key, out.spec.match)}${until}`);
    }
    case 'event':
      return `${c.dim('got')} ${receivedText(out.event)}`;
    case 'timed-out':
      return c.yellow('timed out: no event came');
    case 'child':
      return c.dim(childText(out.childRunId));
    case 'value':
      if (s.status !== 'succeeded') return null;
      return s.kind === 'child' && child
        ? `${c.dim(childText(child.id))} ${arrow} ${preview(out.value, 80)}`
        : `${arrow} ${preview(out.value, 80)}`;
  }
}

function renderStep(
  s: StepRecord,
  attempts: AttemptRecord[],
  logs: LogRecord[],
  c: Colors,
  pad: string,
  keyWidth: number,
  now: number,
  items?: StepRecord[],
): string[] {
  const lines: string[] = [];
  const head = [
    paintStatus(c, s.status, statusSymbol(s.status)),
    c.bold(s.key.padEnd(keyWidth)),
    paintStatus(c, s.status, s.status.padEnd(9)),
  ];
  if (s.origin === 'override') head.push(c.dim('(overridden)'));
  else if (s.attempt > 0) head.push(c.dim(`${s.attempt} attempt${s.attempt > 1 ? 's' : ' '}`));
  if (s.startedAt !== null) {
    const ongoing = s.finishedAt === null ? '…' : '';
    head.push(
      c.dim(`${clockTime(s.startedAt)}  ${span(s.startedAt, s.finishedAt, now)}${ongoing}`),
    );
  }
  if (items) {
    const counts = countsLine(
      items.map((i) => i.status),
      c,
    );
    head.push(`${items.length} item${items.length === 1 ? '' : 's'}: ${counts}`);
  }
  if (s.output !== null && s.status === 'succeeded') {
    head.push(`${c.dim('→')} ${preview(safeDecode(s.output), 80)}`);
  }
  lines.push((pad + head.join('  ')).trimEnd());
  lines.push(...stepDetails(s, attempts, logs, c, `${pad}    `));
  return lines;
}

/** Under a step: its earlier attempts, its error with stack, and its logs. */
function stepDetails(
  s: StepRecord,
  attempts: AttemptRecord[],
  logs: LogRecord[],
  c: Colors,
  inner: string,
): string[] {
  const lines: string[] = [];
  for (const a of attempts.sort((x, y) => x.attempt - y.attempt)) {
    // The final failure is shown in full below; earlier attempts get a line each.
    const isFinalFailure = s.status === 'failed' && a.attempt === s.attempt;
    if (a.status === 'succeeded' || (isFinalFailure && a.status === 'failed')) continue;
    const why = a.error ? `: ${a.error.message.split('\n')[0]}` : '';
    lines.push(
      `${inner}${c.yellow(`attempt ${a.attempt} ${a.status}`)} after ${duration(a.finishedAt - a.startedAt)}${why}`,
    );
  }
  if (s.error && s.status !== 'succeeded') lines.push(indent(errorText(s.error, c), inner));
  for (const l of logs) lines.push(`${inner}${logText(l, c)}`);
  return lines;
}

// Stack frames inside Weft itself (its src/ or dist/) and Node say nothing about the user's bug.
const WEFT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const INTERNAL_FRAME = [
  join(WEFT_ROOT, 'src', sep),
  join(WEFT_ROOT, 'dist', sep),
  '(node:',
  'at node:',
];

/** The error's stack without Weft's and Node's own frames, then its causes. */
function errorText(error: SerializedError, c: Colors): string {
  const parts: string[] = [];
  let e: SerializedError | undefined = error;
  for (let depth = 0; e && depth < 5; depth++, e = e.cause) {
    const head = `${e.name}: ${e.message}`;
    const stack = e.stack ?? head;
    const lines = stack.split('\n');
    const firstFrame = lines.findIndex((l) => /^\s+at /.test(l));
    const message = firstFrame === -1 ? lines : lines.slice(0, firstFrame);
    const frames = firstFrame === -1 ? [] : lines.slice(firstFrame).map((l) => l.trim());
    const own = frames.filter((f) => !INTERNAL_FRAME.some((p) => f.includes(p)));
    const hidden = frames.length - own.length;
    const text = [
      ...(message.join('\n').includes(e.message) ? message : [head]).map((l) => c.red(l)),
      ...own.map((f) => c.dim(`  ${f}`)),
      ...(hidden
        ? [c.dim(`  … ${hidden} frame${hidden === 1 ? '' : 's'} inside Weft and Node`)]
        : []),
    ].join('\n');
    parts.push(depth === 0 ? text : `${c.dim('caused by')} ${text}`);
  }
  return parts.join('\n');
}

function logText(l: LogRecord, c: Colors): string {
  const level =
    l.level === 'info'
      ? c.dim('info ')
      : l.level === 'warn'
        ? c.yellow('warn ')
        : l.level === 'error'
          ? c.red('error')
          : c.dim('debug');
  return `${c.dim(clockTime(l.at))} ${level} ${l.message}`;
}

function groupBy<T>(list: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const x of list) {
    const k = key(x);
    const group = map.get(k);
    if (group) group.push(x);
    else map.set(k, [x]);
  }
  return map;
}
