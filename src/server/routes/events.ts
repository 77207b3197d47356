/** Events: list them, or send one, waking the workflow runs waiting for it. */
import type { ApiContext } from '../api-context.js';
import type { EventsResponse, SendEventResponse } from '../api-types.js';
import { bodyObject, bodyString, queryInt, queryString, queryValueMode } from '../params.js';
import { reply, type Route } from '../router.js';
import { eventView } from '../views.js';

export function eventRoutes(api: ApiContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/events',
      // Newest first; `type` keeps the events of one type.
      async handler({ query }) {
        const type = queryString(query, 'type');
        const limit = queryInt(query, 'limit', { min: 1, max: 500 }, 50);
        const mode = queryValueMode(query);
        const events = await api.store.listEvents({
          ...(type !== undefined ? { type } : {}),
          limit,
        });
        return reply({ events: events.map((e) => eventView(e, mode)) } satisfies EventsResponse);
      },
    },
    {
      method: 'POST',
      path: '/api/events',
      // 201 when the event was recorded; 200 with the first event when its idempotency key was
      // used already (nothing is sent again, nothing woken).
      async handler({ query, body }) {
        const input = bodyObject(await body());
        const type = bodyString(input, 'type', { required: true })!;
        const key = bodyString(input, 'key');
        const idempotencyKey = bodyString(input, 'idempotencyKey');
        const mode = queryValueMode(query);
        const { event, created, woken } = await api.engine.sendEvent(type, input.payload ?? null, {
          ...(key !== undefined ? { key } : {}),
          ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
        });
        return reply(
          { event: eventView(event, mode), created, woken } satisfies SendEventResponse,
          created ? 201 : 200,
        );
      },
    },
  ];
}
