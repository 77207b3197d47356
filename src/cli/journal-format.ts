/**
 * Text for a workflow's journal entries and waits, shared by the live progress of `weft run`
 * and by `weft show`: what a parked run waits for, and what an entry did or waits for.
 *
 * ```ts
 * waitText({ kind: 'sleep', entry: 'pause', until }, Date.now());
 * // 'sleeping until 12:00:05.000 (entry "pause")'
 * ```
 */
import { decode } from '../core/codec.js';
import type { StepRecord, WaitInfo } from '../store/contract/types.js';
import { clockTime, dateTime, preview } from './format.js';

/** A journal entry's kind as a word: `step`, `sleep`, `event`, `child`. */
export type EntryKind = 'step' | 'sleep' | 'event' | 'child';

export function isEntryKind(kind: string): kind is EntryKind {
  return kind === 'step' || kind === 'sleep' || kind === 'event' || kind === 'child';
}

/** A moment: the time of day when it is today, else the date too. */
export function when(ms: number, now: number): string {
  return new Date(ms).toDateString() === new Date(now).toDateString()
    ? clockTime(ms)
    : dateTime(ms);
}

/** `"approved" key=po-1 match={"order.id":7}`: which events a wait takes. */
export function eventFilterText(
  event: string,
  key: string | null,
  match: Record<string, unknown> | null,
): string {
  const parts = [JSON.stringify(event)];
  if (key !== null) parts.push(`key=${key}`);
  if (match && Object.keys(match).length) parts.push(`match=${JSON.stringify(match)}`);
  return parts.join(' ');
}

/**
 * What a parked run waits for: `sleeping until 12:00:05.000 (entry "pause")`,
 * `waiting for event "approved" key=po-1 until … (entry "decision")`,
 * `waiting for child run run_… (double)`. `child` names the child's definition when known.
 */
export function waitText(wait: WaitInfo, now: number, child?: string): string {
  switch (wait.kind) {
    case 'sleep':
      return `sleeping until ${when(wait.until, now)} (entry "${wait.entry}")`;
    case 'event': {
      const until = wait.until === null ? '' : ` until ${when(wait.until, now)}`;
      return `waiting for event ${eventFilterText(wait.event, wait.key, wait.match)}${until} (entry "${wait.entry}")`;
    }
    case 'child':
      return `waiting for child run ${wait.childRunId}${child ? ` (${child})` : ''}`;
    case 'retry':
      return `step "${wait.entry}" retries at ${when(wait.until, now)}`;
  }
}

/** A wait spec as journaled when an event wait begins. */
export interface EventWaitSpec {
  event: string;
  key: string | null;
  match: Record<string, unknown> | null;
  since: number;
  until: number | null;
}

/** An event as journaled when a wait receives it. */
export interface ReceivedEvent {
  id: string;
  type: string;
  key: string | null;
  payload: unknown;
  sentAt: number;
}

/** Decodes a value the store holds; the raw text if it does not decode. */
export function safeDecode(text: string): unknown {
  try {
    return decode(text);
  } catch {
    return text;
  }
}

/** What a journal entry holds, by kind and status (null when there is nothing to add). */
export type EntryOutput =
  | { kind: 'sleep'; until: number }
  | { kind: 'event-wait'; spec: EventWaitSpec }
  | { kind: 'event'; event: ReceivedEvent }
  | { kind: 'timed-out' }
  | { kind: 'child'; childRunId: string }
  | { kind: 'value'; value: unknown };

/**
 * Reads an entry's output. A sleep holds its wake time; an event wait holds its spec while it
 * waits and the event (or null: timed out) once done; a child entry holds the child's id until
 * it succeeds and then the child's result; a step holds its result.
 */
export function entryOutput(step: StepRecord): EntryOutput | null {
  if (step.output === null) return null;
  const value = safeDecode(step.output);
  const obj = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  switch (step.kind) {
    case 'sleep':
      return typeof obj.until === 'number' ? { kind: 'sleep', until: obj.until } : null;
    case 'event':
      if (step.status === 'succeeded') {
        return value === null
          ? { kind: 'timed-out' }
          : { kind: 'event', event: value as ReceivedEvent };
      }
      return typeof obj.event === 'string'
        ? { kind: 'event-wait', spec: value as EventWaitSpec }
        : null;
    case 'child':
      if (step.status === 'succeeded') return { kind: 'value', value };
      return typeof obj.childRunId === 'string'
        ? { kind: 'child', childRunId: obj.childRunId }
        : null;
    default:
      return { kind: 'value', value };
  }
}

/** `evt_… "approved" key=po-1 → { ok: true }`: a received event in one line. */
export function receivedText(event: ReceivedEvent, max = 80): string {
  const key = event.key === null ? '' : ` key=${event.key}`;
  return `${event.id} ${JSON.stringify(event.type)}${key} → ${preview(event.payload, max)}`;
}

/** `3 steps, 1 sleep, 1 event wait, 1 child run`: the journal's entries by kind. */
export function kindCounts(entries: readonly { kind: string }[]): string {
  const names: Record<EntryKind, [string, string]> = {
    step: ['step', 'steps'],
    sleep: ['sleep', 'sleeps'],
    event: ['event wait', 'event waits'],
    child: ['child run', 'child runs'],
  };
  const parts: string[] = [];
  for (const kind of ['step', 'sleep', 'event', 'child'] as const) {
    const n = entries.filter((e) => e.kind === kind).length;
    if (n) parts.push(`${n} ${names[kind][n === 1 ? 0 : 1]}`);
  }
  return parts.length ? parts.join(', ') : 'no entries';
}
