/**
 * Which events satisfy which waits, for `sendEvent` (the waits an event wakes), `findEvent`
 * (the event a wait receives) and `parkRun` (a wait already satisfied when it parks). SQL
 * narrows the candidates by type, key and time; the `match` of a wait is applied here, with the
 * same `matchesPayload` the engine uses, on the decoded payload (as the SQLite store does).
 */
import { payloadMatches } from '../contract/event-waits.js';
import type { EventQuery } from '../contract/types.js';
import type { EventRow } from './pg-rows.js';
import { eventsSince, keyedEvents, type Db } from './pg-statements.js';

/** Candidates read per round trip while looking for one whose payload matches. */
const PAGE = 100;

/**
 * The earliest event (by `sent_at`, then id) that satisfies `query`. A keyed wait sees every
 * event with its key, whenever sent (an event may come before its wait); an unkeyed wait sees
 * events of any key sent at or after `since`.
 */
export async function findEvent(db: Db, query: EventQuery): Promise<EventRow | undefined> {
  const exclude = [...query.exclude];
  // Without a match the first candidate is the answer: read one row.
  const page = query.match === null ? 1 : PAGE;
  for (let offset = 0; ; offset += page) {
    const rows =
      query.key !== null
        ? await keyedEvents(db, query.type, query.key, exclude, page, offset)
        : await eventsSince(db, query.type, query.since, exclude, page, offset);
    for (const row of rows) {
      if (payloadMatches(query, row.payload)) return row;
    }
    if (rows.length < page) return undefined;
  }
}

export { lazyPayload, satisfies, waitQuery, type EventWait } from '../contract/event-waits.js';
