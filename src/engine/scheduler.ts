/**
 * The scheduler: a maintenance duty (run by the one elected `weft server`, or by `weft dev`)
 * that fires the ticks of every schedule in the store.
 *
 * Each pass reads the schedules; for one that is not paused, the ticks after its cursor that
 * are due by now (`dueTicks`: jitter, start and end dates, the catch-up policy after a
 * downtime) are fired oldest first, then the cursor moves past them (compare and set: a
 * scheduler that lost its leadership meanwhile changes nothing). A tick's run carries the
 * idempotency key `schedule:<name>:<tick ms>`, so a tick fired again — the scheduler died
 * between firing and moving the cursor, and the next leader fires it again — starts no second
 * run. A tick never produces two runs, whatever crashes.
 */
import { partitionAt } from '../core/partitions.js';
import { dueTicks } from '../core/schedule-time.js';
import { isTerminalRun, type RunStatus } from '../core/states.js';
import type { Store } from '../store/contract/store.js';
import type { PipelineGraph, RunRecord, ScheduleRecord } from '../store/contract/types.js';
import type { Engine } from './engine.js';
import type { MaintenanceDuty } from './maintenance.js';

export interface SchedulerOptions {
  /**
   * Submits the runs: with the target's code when it has it (`weft dev`), else from the
   * definition workers registered (a client engine of `weft server`).
   */
  engine: Engine;
  /**
   * How late a tick may fire and still be on time, for `catchUp: 'none'` (later ones count as
   * missed in a downtime). Default 60 s.
   */
  graceMs?: number;
  /** Told of each tick handled. */
  onTick?: (event: TickEvent) => void;
  /** Where a schedule that could not fire is reported. Default `process.emitWarning`. */
  warn?: (message: string, error: unknown) => void;
}

export type TickEvent =
  | { kind: 'fired'; schedule: string; tick: number; run: RunRecord; created: boolean }
  | { kind: 'skipped'; schedule: string; tick: number; why: 'overlap' | 'no-partition' }
  | { kind: 'missed'; schedule: string; count: number };

/** The idempotency key of a tick's run. */
export function tickKey(schedule: string, tick: number): string {
  return `schedule:${schedule}:${tick}`;
}

/** What a schedule's runs have as `trigger`. */
export function scheduleTrigger(schedule: string): string {
  return `schedule:${schedule}`;
}

const UNFINISHED: readonly RunStatus[] = ['queued', 'running', 'waiting'];

function defaultWarn(message: string, error: unknown): void {
  const detail = error instanceof Error ? error.message : String(error);
  process.emitWarning(`${message}: ${detail}`, { type: 'WeftWarning', code: 'WEFT_SCHEDULER' });
}

/** The maintenance duty that fires schedule ticks. */
export function scheduleTicks(options: SchedulerOptions): MaintenanceDuty {
  const graceMs = options.graceMs ?? 60_000;
  const warn = options.warn ?? defaultWarn;
  return {
    name: 'fire schedule ticks',
    async run({ store, now, signal }) {
      for (const schedule of await store.listSchedules()) {
        if (signal.aborted) return;
        if (schedule.paused) continue;
        try {
          await tickOne(store, options, schedule, now, graceMs);
        } catch (error) {
          // The cursor stays: the ticks are tried again at the next pass.
          warn(`schedule ${schedule.name} could not fire`, error);
        }
      }
    },
  };
}

async function tickOne(
  store: Store,
  options: SchedulerOptions,
  schedule: ScheduleRecord,
  now: number,
  graceMs: number,
): Promise<void> {
  const due = dueTicks(schedule.spec, schedule.cursor, now, {
    createdAt: schedule.createdAt,
    graceMs,
    seed: schedule.name,
  });
  if (due.cursor === null || due.cursor === schedule.cursor) return;
  if (due.skipped > 0) {
    options.onTick?.({ kind: 'missed', schedule: schedule.name, count: due.skipped });
  }
  for (const tick of due.fire) await fire(store, options, schedule, tick, now);
  await store.advanceSchedule(schedule.name, schedule.cursor, due.cursor);
}

async function fire(
  store: Store,
  options: SchedulerOptions,
  schedule: ScheduleRecord,
  tick: number,
  now: number,
): Promise<void> {
  const { spec } = schedule;
  const params = await paramsOfTick(options.engine, schedule, tick);
  if (params === null) {
    options.onTick?.({ kind: 'skipped', schedule: schedule.name, tick, why: 'no-partition' });
    return;
  }
  if (spec.overlap === 'skip' || spec.overlap === 'cancel-previous') {
    const previous = await unfinishedRuns(store, schedule);
    if (previous.length && spec.overlap === 'skip') {
      options.onTick?.({ kind: 'skipped', schedule: schedule.name, tick, why: 'overlap' });
      return;
    }
    for (const run of previous) {
      await store.cancelRun(run.id, now, `cancelled by the next tick of schedule ${schedule.name}`);
    }
  }
  const { run, created } = await options.engine.submitByName(schedule.target, {
    params,
    trigger: scheduleTrigger(schedule.name),
    idempotencyKey: tickKey(schedule.name, tick),
    // `queue`: held by the store while a run of this schedule is unfinished.
    serial: spec.overlap === 'queue',
  });
  options.onTick?.({ kind: 'fired', schedule: schedule.name, tick, run, created });
}

/**
 * The params of a tick's run: the schedule's, and for a partitioned pipeline whose params leave
 * the partition param out, the latest partition complete at the tick (a daily schedule firing
 * just after midnight computes the day that ended). Null when no partition is complete yet.
 */
async function paramsOfTick(
  engine: Engine,
  schedule: ScheduleRecord,
  tick: number,
): Promise<unknown> {
  const params = schedule.spec.params;
  const record = await engine.registeredDefinition(schedule.target);
  const graph = record.graph as Partial<PipelineGraph>;
  const spec = record.kind === 'pipeline' ? graph.partitions : undefined;
  if (!spec || spec.kind !== 'time') return params;
  const given = (params ?? {}) as Record<string, unknown>;
  if (given[spec.param] !== undefined) return params;
  const key = partitionAt(spec, tick);
  return key === null ? null : { ...given, [spec.param]: key };
}

/** The schedule's runs that have not finished (the newest 50 of each unfinished status). */
async function unfinishedRuns(store: Store, schedule: ScheduleRecord): Promise<RunRecord[]> {
  const trigger = scheduleTrigger(schedule.name);
  const out: RunRecord[] = [];
  for (const status of UNFINISHED) {
    const runs = await store.listRuns({ definition: schedule.target, status, limit: 50 });
    out.push(...runs.filter((r) => r.trigger === trigger && !isTerminalRun(r.status)));
  }
  return out;
}
