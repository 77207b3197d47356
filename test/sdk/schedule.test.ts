/** Declaring schedules: names, checked options and params, and what a file's exports hold. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { schedulesOf } from '../../src/engine/registry.js';
import { pipeline, schedule, workflow } from '../../src/index.js';

const daily = pipeline(
  'daily',
  { total: ({ region }: { region: string }) => region },
  { params: z.object({ region: z.enum(['eu', 'us']) }) },
);
const greet = workflow(
  'greet',
  { input: z.object({ name: z.string() }) },
  async (_ctx, { name }) => name,
);

describe('schedule()', () => {
  it('builds the spec, with defaults and a name from the target and the timing', () => {
    const s = schedule(daily, { cron: '0 9 * * 1-5', params: { region: 'eu' } });
    expect(s.name).toBe('daily 0 9 * * 1-5');
    expect(s.spec).toEqual({
      cron: '0 9 * * 1-5',
      everyMs: null,
      timezone: 'UTC',
      params: { region: 'eu' },
      start: null,
      end: null,
      jitterMs: 0,
      catchUp: 'latest',
      maxCatchUp: 100,
      overlap: 'allow',
    });
    const w = schedule(greet, {
      every: '15m',
      params: { name: 'Ada' },
      start: '2026-01-01T00:00:00Z',
      jitter: '30s',
      catchUp: 'all',
      maxCatchUp: 3,
      overlap: 'skip',
    });
    expect(w.name).toBe('greet every 15m');
    expect(w.spec).toMatchObject({
      everyMs: 900_000,
      start: Date.UTC(2026, 0, 1),
      jitterMs: 30_000,
      catchUp: 'all',
      maxCatchUp: 3,
      overlap: 'skip',
    });
  });

  it('refuses what would fail at a tick, naming the schedule', () => {
    const bad: [() => unknown, RegExp][] = [
      [() => schedule(daily, { cron: 'every day', params: { region: 'eu' } }), /"daily every day"/],
      [() => schedule(daily, { name: 'n', params: { region: 'eu' } }), /"n"/],
      [
        () =>
          schedule(daily, {
            name: 'n',
            cron: '0 * * * *',
            timezone: 'Mars/Base',
            params: { region: 'eu' },
          }),
        /Mars\/Base/,
      ],
      [
        () =>
          schedule(daily, {
            name: 'n',
            cron: '0 * * * *',
            start: 'soon',
            params: { region: 'eu' },
          }),
        /start "soon" is not a time/,
      ],
      [
        () => schedule(daily, { name: 'n', cron: '0 * * * *', params: { region: 'mars' as 'eu' } }),
        /schedule "n": invalid params: region/,
      ],
      [
        () =>
          schedule(daily, {
            name: 'n',
            cron: '0 * * * *',
            params: { region: 'eu', when: new Date() } as { region: 'eu' },
          }),
        /plain JSON/,
      ],
      [
        () =>
          schedule(daily, {
            name: 'n',
            cron: '0 * * * *',
            catchUp: 'some' as 'all',
            params: { region: 'eu' },
          }),
        /catchUp must be one of none, latest, all/,
      ],
    ];
    for (const [make, message] of bad) expect(make).toThrow(message);
  });

  it('collects a module’s schedules, refusing two with one name', () => {
    const a = schedule(daily, { name: 'a', cron: '0 * * * *', params: { region: 'eu' } });
    const b = schedule(daily, { name: 'a', cron: '5 * * * *', params: { region: 'us' } });
    expect(schedulesOf({ a, daily, other: 42 })).toEqual([a]);
    expect(() => schedulesOf({ a, b })).toThrow(/two schedules are named "a"/);
  });
});
