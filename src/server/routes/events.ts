/** Events: send one, waking the workflow runs waiting for it. */
import type { ApiContext } from '../api-context.js';
import { bodyObject, bodyString, queryValueMode } from '../params.js';
import { reply, type Route } from '../router.js';
import { eventView } from '../views.js';

export function eventRoutes(api: ApiContext): Route[] {
  return [
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
        return reply({ event: eventView(event, mode), created, woken }, created ? 201 : 200);
      },
    },
  ];
}
