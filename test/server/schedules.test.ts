/**
 * Schedules through the API and the CLI: listed with their next tick, made through the API
 * (checked against the target's registered schema), paused, resumed, deleted; code-declared
 * ones cannot be deleted.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Engine } from '../../src/engine/index.js';
import { pipeline, schedule } from '../../src/index.js';
import type {
  ErrorResponse,
  ScheduleResponse,
  SchedulesResponse,
} from '../../src/server/api-types.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir, weft } from '../cli/helpers.js';
import { startApi, type TestApi } from './helpers.js';

const report = pipeline(
  'report',
  { total: ({ region }: { region: string }) => region.length },
  { params: z.object({ region: z.enum(['eu', 'us']) }) },
);
const nightly = schedule(report, {
  name: 'nightly',
  cron: '30 2 * * *',
  timezone: 'Europe/Berlin',
  params: { region: 'eu' },
});

describe('schedules through the API and the CLI', () => {
  let dir: string;
  let cleanup: () => void;
  let db: string;
  let store: SqliteStore;
  let api: TestApi;
  let guarded: TestApi;

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    db = join(dir, 'weft.db');
    store = SqliteStore.open(db);
    await store.migrate();
    const worker = new Engine({
      store,
      definitions: [report],
      schedules: [nightly],
      captureConsole: false,
    });
    await worker.start();
    await worker.stop();
    api = await startApi({ store, ui: false });
    guarded = await startApi({ store, ui: false, token: 'sesame' });
  });

  afterAll(async () => {
    await api.close();
    await guarded.close();
    await store.close();
    cleanup();
  });

  it('lists schedules with what they do and when they fire next', async () => {
    const { status, body } = await api.request<SchedulesResponse>('/api/schedules');
    expect(status).toBe(200);
    expect(body.schedules).toEqual([
      expect.objectContaining({
        name: 'nightly',
        target: 'report',
        source: 'code',
        paused: false,
        description: expect.stringContaining('Europe/Berlin'),
      }),
    ]);
    const next = body.schedules[0]!.nextTick!;
    // 02:30 in Berlin is 00:30 or 01:30 UTC, depending on the season.
    expect([0, 1]).toContain(new Date(next).getUTCHours());
    expect(new Date(next).getUTCMinutes()).toBe(30);
    expect((await api.request('/api/schedules/nope')).status).toBe(404);
  });

  it('makes, pauses, resumes and deletes a schedule; refuses bad ones', async () => {
    const made = await api.request<ScheduleResponse>('/api/schedules', {
      method: 'POST',
      body: { name: 'quarterly', target: 'report', every: '15m', params: { region: 'us' } },
    });
    expect(made.status).toBe(201);
    expect(made.body.schedule).toMatchObject({ source: 'api', spec: { everyMs: 900_000 } });

    const again = await api.request<ErrorResponse>('/api/schedules', {
      method: 'POST',
      body: { name: 'quarterly', target: 'report', every: '15m', params: { region: 'us' } },
    });
    expect(again.status).toBe(409);
    for (const [body, status, code] of [
      [{ name: 'x', target: 'report', cron: 'every day', params: { region: 'eu' } }, 400, ''],
      [{ name: 'x', target: 'report', cron: '0 * * * *', timezone: 'Mars/Base' }, 400, ''],
      [
        { name: 'x', target: 'report', cron: '0 * * * *', params: { region: 'mars' } },
        400,
        'invalid_input',
      ],
      [{ name: 'x', target: 'nope', cron: '0 * * * *' }, 404, 'not_found'],
      [{ target: 'report', cron: '0 * * * *' }, 400, 'invalid_body'],
    ] as const) {
      const res = await api.request<ErrorResponse>('/api/schedules', { method: 'POST', body });
      expect(res.status, JSON.stringify(body)).toBe(status);
      if (code) expect(res.body.code).toBe(code);
      expect(res.body.message.length).toBeGreaterThan(10);
    }

    const paused = await api.request<ScheduleResponse>('/api/schedules/quarterly/pause', {
      method: 'POST',
    });
    expect(paused.body.schedule).toMatchObject({ paused: true, nextTick: null });
    const resumed = await api.request<ScheduleResponse>('/api/schedules/quarterly/resume', {
      method: 'POST',
    });
    expect(resumed.body.schedule.paused).toBe(false);
    expect(resumed.body.schedule.nextTick).toEqual(expect.any(Number));

    const code = await api.request<ErrorResponse>('/api/schedules/nightly', { method: 'DELETE' });
    expect(code.status).toBe(409);
    expect(code.body.code).toBe('declared_in_code');
    expect((await api.request('/api/schedules/quarterly', { method: 'DELETE' })).status).toBe(200);
    expect((await api.request('/api/schedules/quarterly')).status).toBe(404);
    expect((await guarded.request('/api/schedules')).status).toBe(401);
  });

  it('lists, pauses and resumes from the CLI, on the database or through the server', async () => {
    const list = await weft(['schedules', '--db', db]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/nightly\s+report\s+.*Europe\/Berlin.*active/);
    const pause = await weft(['schedules', 'pause', 'nightly', '--db', db]);
    expect(pause.code).toBe(0);
    expect(pause.stdout).toContain('nightly paused');
    expect((await store.getSchedule('nightly'))?.paused).toBe(true);
    const resume = await weft(['schedules', 'resume', 'nightly', '--server', api.url]);
    expect(resume.code).toBe(0);
    expect(resume.stdout).toMatch(/nightly resumed; next tick/);
    const json = JSON.parse((await weft(['schedules', '--server', api.url, '--json'])).stdout) as {
      name: string;
      paused: boolean;
    }[];
    expect(json.find((s) => s.name === 'nightly')?.paused).toBe(false);
    const unknown = await weft(['schedules', 'pause', 'nope', '--db', db]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no schedule named "nope" .*schedules: nightly/);
  });

  it('creates and deletes schedules from the CLI; bad options are one line', async () => {
    const made = await weft([
      'schedules',
      'create',
      'weekly',
      '--target',
      'report',
      '--cron',
      '0 6 * * 1',
      '--timezone',
      'America/New_York',
      '--params',
      '{"region":"us"}',
      '--overlap',
      'skip',
      '--db',
      db,
    ]);
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^created weekly: .*America\/New_York.*; next tick /);
    expect(await store.getSchedule('weekly')).toMatchObject({
      source: 'api',
      spec: { cron: '0 6 * * 1', overlap: 'skip', params: { region: 'us' } },
    });
    const through = await weft([
      'schedules',
      'create',
      'often',
      '--target',
      'report',
      '--every',
      '1h',
      '--params',
      '{"region":"eu"}',
      '--server',
      api.url,
      '--json',
    ]);
    expect(through.code).toBe(0);
    expect(JSON.parse(through.stdout)).toMatchObject({
      name: 'often',
      spec: { everyMs: 3_600_000 },
    });

    for (const [args, message] of [
      [['--cron', 'often please', '--params', '{"region":"eu"}'], /cron "often please"/],
      [['--cron', '0 * * * *', '--params', '{"region":"mars"}'], /invalid params: region/],
      [['--cron', '0 * * * *', '--params', '{nope'], /--params is not valid JSON/],
    ] as const) {
      const bad = await weft([
        'schedules',
        'create',
        'bad',
        '--target',
        'report',
        ...args,
        '--db',
        db,
      ]);
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr).toMatch(message);
    }
    const code = await weft(['schedules', 'delete', 'nightly', '--db', db]);
    expect(code.code).toBe(2);
    expect(code.stderr).toMatch(/declared in code/);
    expect((await weft(['schedules', 'delete', 'weekly', '--db', db])).code).toBe(0);
    expect((await weft(['schedules', 'delete', 'often', '--server', api.url])).code).toBe(0);
    expect((await store.listSchedules()).map((s) => s.name)).toEqual(['nightly']);
  });
});
