/**
 * Schedules: list them, make one (`source: 'api'`), pause, resume and delete. Schedules
 * declared in code come from the workers that load them: they can be paused but not deleted
 * (the next worker to start would register them again).
 */
import type { ScheduleSpecOptions } from '../../core/schedule-spec.js';
import { scheduleSpec } from '../../core/schedule-spec.js';
import { checkRegisteredInput } from '../../engine/trigger.js';
import type { ApiContext } from '../api-context.js';
import type { ScheduleResponse, SchedulesResponse } from '../api-types.js';
import { HttpError } from '../http.js';
import { bodyObject, bodyString } from '../params.js';
import { reply, type Route } from '../router.js';
import { scheduleView as view } from '../views.js';

function notFound(name: string): HttpError {
  return new HttpError(
    404,
    'not_found',
    `schedule ${JSON.stringify(name)} not found; list schedules with GET /api/schedules`,
  );
}

/** A body field that is a string or a number (durations, times), else a 400 naming it. */
function stringOrNumber(body: Record<string, unknown>, field: string): string | number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number') return value;
  throw new HttpError(400, 'invalid_body', `body field ${field} must be a string or a number`);
}

export function scheduleRoutes(api: ApiContext): Route[] {
  const setPaused = (paused: boolean): Route['handler'] =>
    async function ({ params }) {
      const now = api.clock.now();
      const updated = await api.store.setSchedulePaused(params.name!, paused, now);
      if (!updated) throw notFound(params.name!);
      return reply({ schedule: view(updated, now) } satisfies ScheduleResponse);
    };
  return [
    {
      method: 'GET',
      path: '/api/schedules',
      async handler() {
        const now = api.clock.now();
        const schedules = await api.store.listSchedules();
        return reply({ schedules: schedules.map((s) => view(s, now)) } satisfies SchedulesResponse);
      },
    },
    {
      method: 'GET',
      path: '/api/schedules/:name',
      async handler({ params }) {
        const schedule = await api.store.getSchedule(params.name!);
        if (!schedule) throw notFound(params.name!);
        return reply({ schedule: view(schedule, api.clock.now()) } satisfies ScheduleResponse);
      },
    },
    {
      method: 'POST',
      path: '/api/schedules',
      // 201 with the schedule; 409 when the name is taken (delete it first, or pick another).
      async handler({ body }) {
        const input = bodyObject(await body());
        const name = bodyString(input, 'name', { required: true })!;
        const target = bodyString(input, 'target', { required: true })!;
        const catchUp = bodyString(input, 'catchUp');
        const overlap = bodyString(input, 'overlap');
        const maxCatchUp = input.maxCatchUp;
        if (maxCatchUp !== undefined && typeof maxCatchUp !== 'number') {
          throw new HttpError(400, 'invalid_body', 'body field maxCatchUp must be a number');
        }
        const options: ScheduleSpecOptions = {
          ...(bodyString(input, 'cron') !== undefined ? { cron: bodyString(input, 'cron') } : {}),
          ...(stringOrNumber(input, 'every') !== undefined
            ? { every: stringOrNumber(input, 'every') as ScheduleSpecOptions['every'] }
            : {}),
          ...(bodyString(input, 'timezone') !== undefined
            ? { timezone: bodyString(input, 'timezone') }
            : {}),
          ...(input.params !== undefined ? { params: input.params } : {}),
          ...(stringOrNumber(input, 'start') !== undefined
            ? { start: stringOrNumber(input, 'start') }
            : {}),
          ...(stringOrNumber(input, 'end') !== undefined
            ? { end: stringOrNumber(input, 'end') }
            : {}),
          ...(stringOrNumber(input, 'jitter') !== undefined
            ? { jitter: stringOrNumber(input, 'jitter') as ScheduleSpecOptions['jitter'] }
            : {}),
          ...(catchUp !== undefined ? { catchUp: catchUp as ScheduleSpecOptions['catchUp'] } : {}),
          ...(maxCatchUp !== undefined ? { maxCatchUp } : {}),
          ...(overlap !== undefined ? { overlap: overlap as ScheduleSpecOptions['overlap'] } : {}),
        };
        const spec = scheduleSpec(name, options);
        const definition = (await api.store.listDefinitions()).find((d) => d.name === target);
        if (!definition) {
          throw new HttpError(
            404,
            'not_found',
            `definition ${JSON.stringify(target)} not found: no worker has registered it; list them with GET /api/definitions`,
          );
        }
        checkRegisteredInput(definition, spec.params);
        if (await api.store.getSchedule(name)) {
          throw new HttpError(
            409,
            'schedule_exists',
            `a schedule named ${JSON.stringify(name)} exists already; delete it first, or pick another name`,
          );
        }
        const now = api.clock.now();
        await api.store.upsertSchedules([{ name, target, spec, source: 'api', now }]);
        const created = (await api.store.getSchedule(name))!;
        return reply({ schedule: view(created, now) } satisfies ScheduleResponse, 201);
      },
    },
    { method: 'POST', path: '/api/schedules/:name/pause', handler: setPaused(true) },
    { method: 'POST', path: '/api/schedules/:name/resume', handler: setPaused(false) },
    {
      method: 'DELETE',
      path: '/api/schedules/:name',
      async handler({ params }) {
        const schedule = await api.store.getSchedule(params.name!);
        if (!schedule) throw notFound(params.name!);
        if (schedule.source === 'code') {
          throw new HttpError(
            409,
            'declared_in_code',
            `schedule ${JSON.stringify(schedule.name)} is declared in code: a worker would register it again; pause it, or remove it from the code`,
          );
        }
        await api.store.deleteSchedule(schedule.name);
        return reply({ deleted: true });
      },
    },
  ];
}
