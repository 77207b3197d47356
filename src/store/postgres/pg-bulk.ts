/**
 * Many new runs in a few statements (`createRuns`), for runs without gates (a gated run, with
 * max active runs or a serial trigger, counts its definition's active runs one at a time
 * instead). A statement inserts a slice of runs set-based, with their steps and edges, each
 * run's steps only if the run itself was inserted (its idempotency key was free).
 *
 * The columns travel as one array each (unnest), not as JSON records: Postgres reads arrays in
 * about half the CPU it spent parsing `jsonb`, which was most of what an enqueue cost it.
 */
import type { checkNewSteps } from '../contract/new-steps.js';
import type { NewRun } from '../contract/types.js';
import { arrayText, stmt, type Db } from './pg-statements.js';

/**
 * The statement inserting a slice of runs, their steps and edges. `keyed`: some run has an
 * idempotency key, so a run is inserted only if its key is free (ON CONFLICT), its steps and
 * edges only with it, and the ids inserted come back. Without keys nothing can conflict: the
 * plain inserts skip the speculative insertion and the join, and nothing comes back.
 *
 * `outputs` and `tags` are lists in a list: each travels as the text of a Postgres array
 * (see {@link arrayText}) and is cast back per row. Rows keep their order (WITH ORDINALITY):
 * of two runs with one idempotency key the first wins, and steps are numbered as given.
 *
 * A run column whose value is the same for every run of the slice (the definition, the
 * trigger, the time, most often the input) travels as an array of that one value (see
 * {@link uniform}): Postgres parses one element instead of one per run.
 */
function insertRunsSql(keyed: boolean): string {
  const ofInserted = (alias: string): string =>
    keyed ? `WHERE ${alias}.run_id IN (SELECT id FROM inserted)` : '';
  // The column's one value when its array has one, else the row's.
  const value = (column: string, param: number, type: string): string =>
    `CASE WHEN cardinality($${param}::${type}[]) = 1 THEN ($${param}::${type}[])[1] ELSE r.${column} END AS ${column}`;
  return `WITH inserted AS (
     INSERT INTO runs (id, kind, definition, status, input, outputs, trigger, parent_run_id,
       idempotency_key, tags, priority, created_at, updated_at, partition_key, step_key,
       step_node, step_attempt)
     SELECT r.id, r.kind, r.definition, 'queued', r.input, r.outputs::text[], r.trigger,
       r.parent_run_id, r.idempotency_key, r.tags::text[], r.priority, r.created_at,
       r.created_at, r.partition_key, r.step_key, r.step_node,
       CASE WHEN r.step_key IS NOT NULL THEN 0 END
     FROM (
       SELECT r.id, ${value('kind', 2, 'text')}, ${value('definition', 3, 'text')},
         ${value('input', 4, 'text')}, ${value('outputs', 5, 'text')},
         ${value('trigger', 6, 'text')}, ${value('parent_run_id', 7, 'text')},
         ${value('idempotency_key', 8, 'text')}, ${value('tags', 9, 'text')},
         ${value('priority', 10, 'int')}, ${value('created_at', 11, 'bigint')},
         ${value('partition_key', 12, 'text')}, ${value('step_key', 29, 'text')},
         ${value('step_node', 30, 'text')}, r.n
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
         $7::text[], $8::text[], $9::text[], $10::int[], $11::bigint[], $12::text[],
         $29::text[], $30::text[])
         WITH ORDINALITY AS r(id, kind, definition, input, outputs, trigger, parent_run_id,
           idempotency_key, tags, priority, created_at, partition_key, step_key, step_node, n)
     ) r
     ORDER BY r.n
     ${keyed ? 'ON CONFLICT (definition, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING' : ''}
     RETURNING id
   ), steps AS (
     INSERT INTO steps (run_id, key, node, kind, status, output, waiting_on, available_at,
       priority, origin, queued_at, finished_at, labels)
     SELECT s.run_id, s.key, s.node, s.kind, s.status, s.output, s.waiting_on, s.available_at,
       s.priority, s.origin, s.queued_at, s.finished_at, string_to_array(s.labels, ',')
     FROM unnest($13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[],
       $19::int[], $20::bigint[], $21::int[], $22::text[], $23::bigint[], $24::bigint[],
       $25::text[])
       WITH ORDINALITY AS s(run_id, key, node, kind, status, output, waiting_on, available_at,
         priority, origin, queued_at, finished_at, labels, n)
     ${ofInserted('s')}
     ORDER BY s.n
   ), edges AS (
     INSERT INTO step_edges (run_id, from_key, to_key)
     SELECT e.run_id, e.f, e.t FROM unnest($26::text[], $27::text[], $28::text[]) AS e(run_id, f, t)
     ${ofInserted('e')}
   )
   SELECT id FROM inserted ${keyed ? '' : 'WHERE false'}`;
}
const insertKeyed = stmt<string[], { id: string }>(insertRunsSql(true));
const insertUnkeyed = stmt<string[], { id: string }>(insertRunsSql(false));

/** A new step as the `steps` table holds it (labels comma-joined: unnest takes no nested arrays). */
export interface NewStepRow {
  key: string;
  node: string;
  kind: string;
  status: 'succeeded' | 'queued' | 'pending';
  output: string | null;
  waiting_on: number;
  priority: number;
  origin: 'override' | 'run';
  queued_at: number | null;
  finished_at: number | null;
  labels: string | null;
}

/**
 * The one step of a run that is stored compact (migration 0009: the step's state in the run's
 * own row, no row of `steps`), or null: a run of one plain node to run (no dependencies, no
 * override, no labels, the run's priority) with no parent and no gate.
 */
export function compactStep(
  run: NewRun,
  checked: ReturnType<typeof checkNewSteps>,
): { key: string; node: string } | null {
  if (checked.length !== 1) return null;
  if (run.parentRunId != null || run.maxActive != null || run.serial) return null;
  const { step, deps } = checked[0]!;
  if (deps.length > 0 || step.override !== undefined || (step.kind ?? 'node') !== 'node') {
    return null;
  }
  if (step.labels?.length || (step.priority ?? run.priority ?? 0) !== (run.priority ?? 0)) {
    return null;
  }
  return { key: step.key, node: step.node };
}

/**
 * The rows of a new run's steps, in step order, its edges, and whether it has a step to do: an
 * override is inserted `succeeded`; a step waiting only on overrides waits on nothing and is
 * `queued` at once; the others are `pending`. Shared by `createRun` and `createRuns`.
 */
export function stepRows(
  run: NewRun,
  checked: ReturnType<typeof checkNewSteps>,
): { rows: NewStepRow[]; edges: { from: string; to: string }[]; unfinished: boolean } {
  const at = run.createdAt;
  const rows: NewStepRow[] = [];
  const edges: { from: string; to: string }[] = [];
  let unfinished = false;
  for (const { step, deps, waitingOn } of checked) {
    const override = step.override !== undefined;
    const status = override ? 'succeeded' : waitingOn === 0 ? 'queued' : 'pending';
    rows.push({
      key: step.key,
      node: step.node,
      kind: step.kind ?? 'node',
      status,
      output: override ? step.override! : null,
      waiting_on: override ? 0 : waitingOn,
      priority: step.priority ?? run.priority ?? 0,
      origin: override ? 'override' : 'run',
      queued_at: status === 'queued' ? at : null,
      finished_at: override ? at : null,
      labels: !override && step.labels?.length ? step.labels.join(',') : null,
    });
    if (!override) unfinished = true;
    for (const dep of deps) edges.push({ from: dep, to: step.key });
  }
  return { rows, edges, unfinished };
}

export interface PlainRuns {
  /** The ids of the runs inserted (a run whose idempotency key was taken is missing). */
  inserted: Set<string>;
  /** Runs with a step queued (work for the workers). */
  queued: Set<string>;
  /** Runs with a step to do (the others are done as they are created). */
  unfinished: Set<string>;
}

type PlainRun = { run: NewRun; checked: ReturnType<typeof checkNewSteps> };

/** Runs per statement: Postgres inserts one slice while the next is encoded. */
const SLICE = 250;

/**
 * Inserts runs without gates, in slices of {@link SLICE} runs, in the caller's transaction:
 * each slice is encoded while Postgres inserts the one before it.
 */
export async function insertPlainRuns(db: Db, items: readonly PlainRun[]): Promise<PlainRuns> {
  const queued = new Set<string>();
  const unfinished = new Set<string>();
  const inserted = new Set<string>();
  let pending: Promise<{ id: string }[]> | null = null;
  for (let from = 0; from < items.length; from += SLICE) {
    const slice = items.slice(from, from + SLICE);
    const columns = runColumns(slice, queued, unfinished).map((values, i) =>
      arrayText(SHARED.has(i) ? uniform(values) : values),
    );
    if (pending) for (const row of await pending) inserted.add(row.id);
    if (slice.some((item) => item.run.idempotencyKey != null)) {
      pending = insertKeyed(db, ...columns);
    } else {
      pending = insertUnkeyed(db, ...columns);
      for (const item of slice) inserted.add(item.run.id);
    }
  }
  if (pending) for (const row of await pending) inserted.add(row.id);
  return { inserted, queued, unfinished };
}

/**
 * The columns of {@link runColumns} whose value the runs of a slice may share (see
 * {@link uniform}): the run's columns but its id, parameters $2 to $12, $29 and $30 of
 * {@link insertRunsSql}.
 */
const SHARED = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 28, 29]);

/**
 * A run column as it travels: one element when every run has the same value (see
 * {@link insertRunsSql}), else the column.
 */
function uniform<T>(values: readonly T[]): readonly T[] {
  const first = values[0];
  for (let i = 1; i < values.length; i++) if (values[i] !== first) return values;
  return values.length > 1 ? [first as T] : values;
}

/** The columns of {@link insertRunsSql} for some runs, noting which are queued and unfinished. */
function runColumns(
  items: readonly PlainRun[],
  queued: Set<string>,
  unfinished: Set<string>,
): (string | number | null)[][] {
  const r = {
    id: [] as string[],
    kind: [] as string[],
    definition: [] as string[],
    input: [] as string[],
    outputs: [] as string[],
    trigger: [] as string[],
    parent: [] as (string | null)[],
    key: [] as (string | null)[],
    tags: [] as string[],
    priority: [] as number[],
    at: [] as number[],
    partition: [] as (string | null)[],
    stepKey: [] as (string | null)[],
    stepNode: [] as (string | null)[],
  };
  const s = {
    runId: [] as string[],
    key: [] as string[],
    node: [] as string[],
    kind: [] as string[],
    status: [] as string[],
    output: [] as (string | null)[],
    waitingOn: [] as number[],
    availableAt: [] as number[],
    priority: [] as number[],
    origin: [] as string[],
    queuedAt: [] as (number | null)[],
    finishedAt: [] as (number | null)[],
    labels: [] as (string | null)[],
  };
  const e = { runId: [] as string[], from: [] as string[], to: [] as string[] };
  let outputs: readonly string[] | null = null;
  let outputsText = '';
  for (const { run, checked } of items) {
    const at = run.createdAt;
    r.id.push(run.id);
    r.kind.push(run.kind);
    r.definition.push(run.definition);
    r.input.push(run.input);
    if (run.outputs !== outputs) {
      outputs = run.outputs;
      outputsText = arrayText(outputs);
    }
    r.outputs.push(outputsText);
    r.trigger.push(run.trigger);
    r.parent.push(run.parentRunId ?? null);
    r.key.push(run.idempotencyKey ?? null);
    r.tags.push(run.tags?.length ? arrayText(run.tags) : '{}');
    r.priority.push(run.priority ?? 0);
    r.at.push(at);
    r.partition.push(run.partition ?? null);
    // A compact run holds its one step in its own row.
    const compact = compactStep(run, checked);
    r.stepKey.push(compact?.key ?? null);
    r.stepNode.push(compact?.node ?? null);
    if (compact) {
      unfinished.add(run.id);
      queued.add(run.id);
      continue;
    }
    const planned = stepRows(run, checked);
    if (planned.unfinished) unfinished.add(run.id);
    for (const row of planned.rows) {
      if (row.status === 'queued') queued.add(run.id);
      s.runId.push(run.id);
      s.key.push(row.key);
      s.node.push(row.node);
      s.kind.push(row.kind);
      s.status.push(row.status);
      s.output.push(row.output);
      s.waitingOn.push(row.waiting_on);
      s.availableAt.push(at);
      s.priority.push(row.priority);
      s.origin.push(row.origin);
      s.queuedAt.push(row.queued_at);
      s.finishedAt.push(row.finished_at);
      s.labels.push(row.labels);
    }
    for (const { from, to } of planned.edges) {
      e.runId.push(run.id);
      e.from.push(from);
      e.to.push(to);
    }
  }
  return [
    r.id,
    r.kind,
    r.definition,
    r.input,
    r.outputs,
    r.trigger,
    r.parent,
    r.key,
    r.tags,
    r.priority,
    r.at,
    r.partition,
    s.runId,
    s.key,
    s.node,
    s.kind,
    s.status,
    s.output,
    s.waitingOn,
    s.availableAt,
    s.priority,
    s.origin,
    s.queuedAt,
    s.finishedAt,
    s.labels,
    e.runId,
    e.from,
    e.to,
    r.stepKey,
    r.stepNode,
  ];
}
