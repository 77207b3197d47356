/**
 * Which events satisfy which waits — the rule of `Store.sendEvent`, `findEvent` and `parkRun`,
 * shared by every backend so all agree: a keyed wait receives events with its key whenever they
 * were sent; an unkeyed wait receives events (of any key) sent at or after it began; the wait's
 * `match` then holds for the decoded payload (`matchesPayload`, the engine's own check).
 * Backends narrow the candidates in SQL by type, key and time and apply the rest here.
 */
import { decode } from '../../core/codec.js';
import { matchesPayload } from '../../core/event-match.js';
import type { EventQuery, EventRecord, WaitInfo } from './types.js';

export type EventWait = Extract<WaitInfo, { kind: 'event' }>;

/** The query a parked event wait stands for. */
export function waitQuery(wait: EventWait, exclude: readonly string[]): EventQuery {
  return { type: wait.event, key: wait.key, match: wait.match, since: wait.since, exclude };
}

/**
 * Whether `event` satisfies a wait of its type. `payload` decodes the event's payload, once,
 * and only if some wait has a `match`.
 */
export function satisfies(wait: EventWait, event: EventRecord, payload: () => unknown): boolean {
  const routed = wait.key !== null ? wait.key === event.key : event.sentAt >= wait.since;
  return routed && (wait.match === null || matchesPayload(wait.match, payload()));
}

/** Whether an event's encoded payload satisfies a query's `match`. */
export function payloadMatches(query: EventQuery, encodedPayload: string): boolean {
  return query.match === null || matchesPayload(query.match, decode(encodedPayload));
}

/** A lazily decoded payload. */
export function lazyPayload(encoded: string): () => unknown {
  let decoded: { value: unknown } | undefined;
  return () => (decoded ??= { value: decode(encoded) }).value;
}
