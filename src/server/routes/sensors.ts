/**
 * Sensors: list them, pause and resume. A sensor is declared in the code of the workers that
 * register it and evaluated by the cluster's maintenance; the store keeps its cursor and the
 * outcome of its last evaluation, which is what these routes show.
 */
import type { ApiContext } from '../api-context.js';
import type { SensorView, SensorsResponse } from '../api-types.js';
import { HttpError } from '../http.js';
import { reply, type Route } from '../router.js';

export function sensorRoutes(api: ApiContext): Route[] {
  const setPaused = (paused: boolean): Route['handler'] =>
    async function ({ params }) {
      const updated = await api.store.setSensorPaused(params.name!, paused, api.clock.now());
      if (!updated) {
        throw new HttpError(
          404,
          'not_found',
          `sensor ${JSON.stringify(params.name)} not found; list sensors with GET /api/sensors`,
        );
      }
      return reply(updated satisfies SensorView);
    };
  return [
    {
      method: 'GET',
      path: '/api/sensors',
      async handler() {
        return reply({ sensors: await api.store.listSensors() } satisfies SensorsResponse);
      },
    },
    { method: 'POST', path: '/api/sensors/:name/pause', handler: setPaused(true) },
    { method: 'POST', path: '/api/sensors/:name/resume', handler: setPaused(false) },
  ];
}
