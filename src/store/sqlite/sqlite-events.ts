/**
 * Which events satisfy which waits, for `sendEvent` (the waits an event wakes), `findEvent`
 * (the event a wait receives) and `parkRun` (a wait already satisfied when it parks). SQL
 * narrows the candidates by type, key and time; the `match` of a wait is applied here, with the
 * same `matchesPayload` the engine uses, on the decoded payload.
 */
import { decode } from '../../core/codec.js';
import { matchesPayload } from '../../core/event-match.js';
import type { EventQuery, EventRecord, WaitInfo } from '../contract/types.js';
import type { EventRow } from './sqlite-rows.js';
import type { prepareStatements } from './sqlite-statements.js';

type Statements = ReturnType<typeof prepareStatements>;
export type EventWait = Extract<WaitInfo, { kind: 'event' }>;

/**
 * The earliest event (by `sent_at`, then id) that satisfies `query`. A keyed wait sees every
 * event with its key, whenever sent (an event may come before its wait); an unkeyed wait sees
 * events of any key sent at or after `since`.
 */
export function findEvent(s: Statements, query: EventQuery): EventRow | undefined {
  const exclude = JSON.stringify(query.exclude);
  const rows =
    query.key !== null
      ? s.keyedEvents.iterate(query.type, query.key, exclude)
      : s.eventsSince.iterate(query.type, query.since, exclude);
  // Leaving the loop early closes the iterator (and frees the statement).
  for (const row of rows) {
    if (query.match === null || matchesPayload(query.match, decode(row.payload))) return row;
  }
  return undefined;
}

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

/** A lazily decoded payload. */
export function lazyPayload(encoded: string): () => unknown {
  let decoded: { value: unknown } | undefined;
  return () => (decoded ??= { value: decode(encoded) }).value;
}
