/**
 * What the API returns for the store's records. Params, inputs, outputs and payloads are kept
 * in the store as codec text (JSON plus tagged Dates, Maps, BigInts…); the API decodes them and
 * answers with plain JSON a client can use as is (`json`, the default), or with the codec's
 * tagged JSON, which loses nothing (`tagged`, with `?values=tagged`). See docs/api.md.
 */
import { decode, type Encoded } from '../core/codec.js';
import { describeSpec, nextTick } from '../core/schedule-time.js';
import type { BackfillProgress } from '../engine/backfills.js';
import type {
  BackfillRecord,
  DefinitionRecord,
  EventRecord,
  RunRecord,
  ScheduleRecord,
  StepRecord,
  WorkerRecord,
} from '../store/contract/types.js';
import {
  OUTPUT_PREVIEW_BYTES,
  type BackfillView,
  type DefinitionView,
  type EventView,
  type RunView,
  type ScheduleView,
  type StepView,
  type WorkerView,
} from './api-types.js';

export type { DefinitionView, EventView, RunView, StepView, WorkerView };

export type ValueMode = 'json' | 'tagged';

function bytesToBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * A decoded value as plain JSON: a Date becomes its ISO string, a BigInt and a non-finite
 * number their decimal text, bytes base64, a Set an array, a Map an object (or an array of
 * `[key, value]` pairs when a key is not a string), `undefined` null (or absent in an object).
 */
export function toJsonValue(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return null;
  }
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return bytesToBase64(value);
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value instanceof Set) return [...value].map(toJsonValue);
  if (value instanceof Map) {
    const entries = [...(value as Map<unknown, unknown>)];
    if (entries.every(([k]) => typeof k === 'string')) {
      return Object.fromEntries(entries.map(([k, v]) => [k, toJsonValue(v)]));
    }
    return entries.map(([k, v]) => [toJsonValue(k), toJsonValue(v)]);
  }
  if (value instanceof RegExp) return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v !== undefined) out[k] = toJsonValue(v);
  }
  return out;
}

/** An encoded value for the API; text the codec can't read is returned as it is. */
export function apiValue(text: Encoded, mode: ValueMode): unknown {
  try {
    return mode === 'tagged' ? JSON.parse(text) : toJsonValue(decode(text));
  } catch {
    return text;
  }
}

export function runView(run: RunRecord, mode: ValueMode): RunView {
  return { ...run, input: apiValue(run.input, mode) };
}

/**
 * A step, its output inline when its encoded form is at most {@link OUTPUT_PREVIEW_BYTES}: a
 * run of a thousand steps each holding a large value would otherwise be one huge answer.
 */
export function stepView(step: StepRecord, mode: ValueMode): StepView {
  const { output, ...rest } = step;
  if (output === null) return { ...rest, output: null, outputBytes: null, outputOmitted: false };
  const outputBytes = Buffer.byteLength(output, 'utf8');
  const omitted = outputBytes > OUTPUT_PREVIEW_BYTES;
  return {
    ...rest,
    output: omitted ? null : apiValue(output, mode),
    outputBytes,
    outputOmitted: omitted,
  };
}

export function eventView(event: EventRecord, mode: ValueMode): EventView {
  return { ...event, payload: apiValue(event.payload, mode) };
}

/**
 * A worker, whether its heartbeat is recent enough for it to count as alive, and how many
 * steps it holds.
 */
export function workerView(
  worker: WorkerRecord,
  now: number,
  staleAfterMs: number,
  running: number,
): WorkerView {
  return { ...worker, alive: now - worker.heartbeatAt <= staleAfterMs, running };
}

/**
 * A registered definition; `triggerable` is the server's to say (see `ApiContext.canTrigger`),
 * `workers` how many live workers run it.
 */
export function definitionView(
  definition: DefinitionRecord,
  triggerable: boolean,
  workers: number,
): DefinitionView {
  return {
    ...definition,
    // Written by `describeDefinition` (engine/describe.ts), whose shapes the API's mirror.
    graph: definition.graph as DefinitionView['graph'],
    triggerable,
    workers,
  };
}

/** A schedule, with a summary of its timing and when it fires next (null: paused, or ended). */
export function scheduleView(schedule: ScheduleRecord, now: number): ScheduleView {
  const after = Math.max(now, schedule.cursor ?? schedule.createdAt - 1);
  return {
    ...schedule,
    description: describeSpec(schedule.spec),
    nextTick: schedule.paused ? null : nextTick(schedule.spec, after),
  };
}

/** A backfill with its progress (its partitions by the status of their run, and how many). */
export function backfillView(backfill: BackfillRecord, progress: BackfillProgress): BackfillView {
  return { ...backfill, counts: progress.counts, total: backfill.partitions.length };
}
