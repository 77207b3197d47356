/**
 * Which events satisfy which waits, for `sendEvent` (the waits an event wakes), `findEvent`
 * (the event a wait receives) and `parkRun` (a wait already satisfied when it parks). SQL
 * narrows the candidates by type, key and time; the `match` of a wait is applied here, with the
 * same `matchesPayload` the engine uses, on the decoded payload.
 */
import { payloadMatches } from '../contract/event-waits.js';
import type { EventQuery } from '../contract/types.js';
import type { EventRow } from './sqlite-rows.js';
import type { prepareStatements } from './sqlite-statements.js';

type Statements = ReturnType<typeof prepareStatements>;

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
    if (payloadMatches(query, row.payload)) return row;
  }
  return undefined;
}

export { lazyPayload, satisfies, waitQuery, type EventWait } from '../contract/event-waits.js';
