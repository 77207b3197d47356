/**
 * Partitions, backfills and sensors through the API, as `weft dev` serves them: an engine with
 * the code of a partitioned pipeline and a sensor behind the server, the backfill launcher run
 * as the maintenance duty the elected server runs, and a worker running what it launches.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../src/core/clock.js';
import { advanceBackfills } from '../../src/engine/backfills.js';
import { Engine } from '../../src/engine/index.js';
import { partitions, pipeline, sensor } from '../../src/index.js';
import type {
  BackfillDetailResponse,
  BackfillsResponse,
  BackfillView,
  ErrorResponse,
  PartitionsResponse,
  RunsResponse,
  SensorsResponse,
  SensorView,
} from '../../src/server/api-types.js';
import { openApiDocument, openApiPath } from '../../src/server/openapi.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { createClient } from '../../src/client/index.js';
import { tempDir } from '../cli/helpers.js';
import { startApi, type TestApi } from './helpers.js';

/** 2026-01-06 12:00 UTC: five daily partitions from 2026-01-01 are complete. */
const NOW = Date.UTC(2026, 0, 6, 12);

const daily = pipeline(
  'daily_sales',
  { total: ({ day, region }: { day: string; region: string }) => `${region}:${day}` },
  {
    params: z.object({ day: z.string(), region: z.string().default('eu') }),
    partitions: partitions.daily({ param: 'day', start: '2026-01-01' }),
  },
);
const plain = pipeline(
  'plain',
  { one: ({ n }: { n: number }) => n },
  { params: z.object({ n: z.number() }) },
);
const watcher = sensor(daily, {
  name: 'new_files',
  every: '1m',
  evaluate: () => ({ runs: [] }),
});

describe('partitions, backfills and sensors through the API', () => {
  let cleanup: () => void;
  let store: SqliteStore;
  let clock: ManualClock;
  let engine: Engine;
  let worker: Engine;
  let api: TestApi;

  beforeAll(async () => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    store = SqliteStore.open(join(dir, 'weft.db'));
    await store.migrate();
    clock = new ManualClock(NOW);
    engine = new Engine({
      store,
      definitions: [daily, plain],
      clock,
      worker: false,
      captureConsole: false,
    });
    await engine.start();
    worker = new Engine({
      store,
      definitions: [daily, plain],
      // A worker registers what its code declares: the definitions and the sensor.
      sensors: [watcher],
      clock,
      worker: true,
      pollMs: 20,
      captureConsole: false,
    });
    await worker.start();
    api = await startApi({ store, engine, clock, ui: false });
  });

  afterAll(async () => {
    await api.close();
    await worker.stop();
    await engine.stop();
    await store.close();
    cleanup();
  });

  /** One pass of the launcher, as the elected server's maintenance runs it. */
  async function launch(): Promise<void> {
    await advanceBackfills({ engine }).run({
      store,
      now: clock.now(),
      signal: new AbortController().signal,
    });
  }

  async function settle(id: string): Promise<void> {
    const runs = (await store.listRuns({ definition: 'daily_sales' })).filter(
      (r) => r.trigger === `backfill:${id}`,
    );
    for (const run of runs) await engine.wait(run.id);
  }

  const post = <T>(path: string, body?: unknown) =>
    api.request<T>(path, { method: 'POST', ...(body !== undefined ? { body } : {}) });

  it('shows the status of each partition', async () => {
    const { status, body } = await api.request<PartitionsResponse>(
      '/api/definitions/daily_sales/partitions',
    );
    expect(status).toBe(200);
    expect(body.definition).toBe('daily_sales');
    expect(body.description).toBe('daily from 2026-01-01 (UTC)');
    expect(body.spec).toMatchObject({ kind: 'time', granularity: 'daily', param: 'day' });
    expect(body.total).toBe(5);
    expect(body.counts).toEqual({ missing: 5 });
    expect(body.partitions.map((p) => p.key)).toEqual([
      '2026-01-01',
      '2026-01-02',
      '2026-01-03',
      '2026-01-04',
      '2026-01-05',
    ]);
    expect(body.partitions[0]).toEqual({
      key: '2026-01-01',
      status: 'missing',
      runId: null,
      finishedAt: null,
    });

    const latest = await api.request<PartitionsResponse>(
      '/api/definitions/daily_sales/partitions?limit=2',
    );
    expect(latest.body.partitions.map((p) => p.key)).toEqual(['2026-01-04', '2026-01-05']);
    expect(latest.body.total).toBe(5);
    expect(latest.body.counts).toEqual({ missing: 5 });
  });

  it('refuses partitions of an unknown or unpartitioned definition, and a bad limit', async () => {
    const unknown = await api.request<ErrorResponse>('/api/definitions/nope/partitions');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('not_found');
    const unpartitioned = await api.request<ErrorResponse>('/api/definitions/plain/partitions');
    expect(unpartitioned.status).toBe(400);
    expect(unpartitioned.body.code).toBe('not_partitioned');
    const limit = await api.request<ErrorResponse>(
      '/api/definitions/daily_sales/partitions?limit=0',
    );
    expect(limit.status).toBe(400);
    expect(limit.body.code).toBe('invalid_query');
  });

  it('refuses a backfill whose body is malformed, naming the field', async () => {
    const cases: [unknown, string][] = [
      [undefined, 'request body'],
      [{}, 'target'],
      [{ target: 'daily_sales', partitions: 'a,b' }, 'partitions'],
      [{ target: 'daily_sales', partitions: [1] }, 'partitions'],
      [{ target: 'daily_sales', params: [1] }, 'params'],
      [{ target: 'daily_sales', maxConcurrent: '2' }, 'maxConcurrent'],
      [{ target: 'daily_sales', from: 3 }, 'from'],
    ];
    for (const [body, field] of cases) {
      const res = await post<ErrorResponse>('/api/backfills', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('invalid_body');
      expect(res.body.message).toContain(field);
    }
  });

  it('refuses a backfill the pipeline cannot have', async () => {
    const badKey = await post<ErrorResponse>('/api/backfills', {
      target: 'daily_sales',
      partitions: ['2026-01-02', 'yesterday'],
    });
    expect(badKey.status).toBe(400);
    expect(badKey.body.message).toContain('yesterday');

    const reversed = await post<ErrorResponse>('/api/backfills', {
      target: 'daily_sales',
      from: '2026-01-04',
      to: '2026-01-02',
    });
    expect(reversed.status).toBe(400);

    const partitionParam = await post<ErrorResponse>('/api/backfills', {
      target: 'daily_sales',
      params: { day: '2026-01-01' },
    });
    expect(partitionParam.status).toBe(400);
    expect(partitionParam.body.code).toBe('invalid_input');
    expect(partitionParam.body.issues).toEqual([
      { path: ['params', 'day'], message: expect.stringContaining('partition param') },
    ]);

    const zero = await post<ErrorResponse>('/api/backfills', {
      target: 'daily_sales',
      maxConcurrent: 0,
    });
    expect(zero.status).toBe(400);
    expect(zero.body.issues).toEqual([
      { path: ['maxConcurrent'], message: expect.stringContaining('1 to 1000') },
    ]);

    const badParams = await post<ErrorResponse>('/api/backfills', {
      target: 'daily_sales',
      params: { region: 7 },
    });
    expect(badParams.status).toBe(400);
    expect(badParams.body.code).toBe('invalid_input');

    const both = await post<ErrorResponse>('/api/backfills', {
      target: 'daily_sales',
      from: '2026-01-01',
      partitions: ['2026-01-02'],
    });
    expect(both.status).toBe(400);

    const unknown = await post<ErrorResponse>('/api/backfills', { target: 'nope' });
    expect(unknown.status).toBe(404);
    const unpartitioned = await post<ErrorResponse>('/api/backfills', { target: 'plain' });
    expect(unpartitioned.status).toBe(400);
    expect(unpartitioned.body.code).toBe('not_partitioned');

    expect((await api.request<BackfillsResponse>('/api/backfills')).body.backfills).toEqual([]);
  });

  it('starts a backfill, launches its runs a few at a time, and finishes it', async () => {
    const created = await post<BackfillView>('/api/backfills', {
      target: 'daily_sales',
      from: '2026-01-02',
      to: '2026-01-04',
      params: { region: 'us' },
      maxConcurrent: 2,
    });
    expect(created.status).toBe(201);
    const backfill = created.body;
    expect(backfill).toMatchObject({
      id: expect.stringMatching(/^bf_/),
      target: 'daily_sales',
      partitions: ['2026-01-02', '2026-01-03', '2026-01-04'],
      params: { region: 'us' },
      maxConcurrent: 2,
      status: 'running',
      launched: 0,
      counts: { missing: 3 },
      total: 3,
      finishedAt: null,
    });

    await launch();
    const detail = await api.request<BackfillDetailResponse>(`/api/backfills/${backfill.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.backfill.launched).toBe(2);
    expect(detail.body.partitions.map((p) => p.key)).toEqual([
      '2026-01-02',
      '2026-01-03',
      '2026-01-04',
    ]);
    expect(detail.body.partitions[2]).toMatchObject({ status: 'missing', runId: null });
    const first = detail.body.partitions[0]!.runId!;
    expect(first).toMatch(/^run_/);

    // The runs carry their partition, and the backfill as trigger.
    const runs = await api.request<RunsResponse>('/api/runs?definition=daily_sales');
    expect(runs.body.runs).toHaveLength(2);
    for (const run of runs.body.runs) {
      expect(run.trigger).toBe(`backfill:${backfill.id}`);
      expect(run.held).toBe(false);
      expect(['2026-01-02', '2026-01-03']).toContain(run.partition);
    }

    await settle(backfill.id);
    await launch();
    await settle(backfill.id);
    await launch();
    const done = await api.request<BackfillDetailResponse>(`/api/backfills/${backfill.id}`);
    expect(done.body.backfill).toMatchObject({
      status: 'succeeded',
      launched: 3,
      counts: { succeeded: 3 },
    });
    expect(done.body.partitions.every((p) => p.status === 'succeeded')).toBe(true);

    const grid = await api.request<PartitionsResponse>('/api/definitions/daily_sales/partitions');
    expect(grid.body.counts).toEqual({ missing: 2, succeeded: 3 });
    expect(grid.body.partitions.map((p) => p.status)).toEqual([
      'missing',
      'succeeded',
      'succeeded',
      'succeeded',
      'missing',
    ]);
  });

  it('pauses, resumes and cancels a backfill; a change its status refuses is a 409', async () => {
    const { body: backfill } = await post<BackfillView>('/api/backfills', {
      target: 'daily_sales',
      partitions: ['2026-01-05', '2026-01-01'],
      maxConcurrent: 1,
    });
    expect(backfill.partitions).toEqual(['2026-01-05', '2026-01-01']);

    const paused = await post<BackfillView>(`/api/backfills/${backfill.id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ status: 'paused', counts: { missing: 2 }, total: 2 });
    // A paused backfill launches nothing.
    await launch();
    expect((await store.getBackfill(backfill.id))!.launched).toBe(0);

    const again = await post<ErrorResponse>(`/api/backfills/${backfill.id}/pause`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('invalid_backfill_state');

    const resumed = await post<BackfillView>(`/api/backfills/${backfill.id}/resume`);
    expect(resumed.body.status).toBe('running');
    const cancelled = await post<BackfillView>(`/api/backfills/${backfill.id}/cancel`);
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    expect(cancelled.body.finishedAt).not.toBeNull();
    expect((await post<ErrorResponse>(`/api/backfills/${backfill.id}/resume`)).status).toBe(409);

    // Listed newest first, filtered by status and target.
    const all = await api.request<BackfillsResponse>('/api/backfills');
    expect(all.body.backfills.map((b) => b.status)).toEqual(['cancelled', 'succeeded']);
    expect(all.body.backfills[1]!.counts).toEqual({ succeeded: 3 });
    const succeeded = await api.request<BackfillsResponse>('/api/backfills?status=succeeded');
    expect(succeeded.body.backfills).toHaveLength(1);
    const other = await api.request<BackfillsResponse>('/api/backfills?target=plain');
    expect(other.body.backfills).toEqual([]);
    const badStatus = await api.request<ErrorResponse>('/api/backfills?status=done');
    expect(badStatus.status).toBe(400);
  });

  it('answers 404 for an unknown backfill', async () => {
    for (const path of ['', '/pause', '/resume', '/cancel']) {
      const res = await api.request<ErrorResponse>(`/api/backfills/bf_nope${path}`, {
        method: path ? 'POST' : 'GET',
      });
      expect(res.status, path).toBe(404);
      expect(res.body.code).toBe('not_found');
    }
  });

  it('lists, pauses and resumes sensors', async () => {
    const { status, body } = await api.request<SensorsResponse>('/api/sensors');
    expect(status).toBe(200);
    expect(body.sensors).toEqual([
      expect.objectContaining({
        name: 'new_files',
        target: 'daily_sales',
        intervalMs: 60_000,
        paused: false,
        cursor: null,
        evaluatedAt: null,
        lastError: null,
      }),
    ]);
    const paused = await post<SensorView>('/api/sensors/new_files/pause');
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ name: 'new_files', paused: true });
    const resumed = await post<SensorView>('/api/sensors/new_files/resume');
    expect(resumed.body.paused).toBe(false);
    const unknown = await post<ErrorResponse>('/api/sensors/nope/pause');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('not_found');
  });

  it('is reached through the typed client', async () => {
    const client = createClient({ baseUrl: api.url });
    const grid = await client.partitions('daily_sales', { limit: 1 });
    expect(grid.partitions.map((p) => p.key)).toEqual(['2026-01-05']);
    const created = await client.createBackfill({
      target: 'daily_sales',
      partitions: ['2026-01-01'],
    });
    expect(created.total).toBe(1);
    expect((await client.backfill(created.id)).partitions).toHaveLength(1);
    expect((await client.pauseBackfill(created.id)).status).toBe('paused');
    expect((await client.resumeBackfill(created.id)).status).toBe('running');
    expect((await client.cancelBackfill(created.id)).status).toBe('cancelled');
    expect((await client.backfills({ status: 'cancelled' })).backfills).toHaveLength(2);
    expect((await client.sensors()).sensors).toHaveLength(1);
    expect((await client.pauseSensor('new_files')).paused).toBe(true);
    expect((await client.resumeSensor('new_files')).paused).toBe(false);
    await expect(client.backfill('bf_nope')).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
  });

  it('documents every new route in the OpenAPI document', () => {
    const paths = openApiDocument('test').paths as Record<string, Record<string, unknown>>;
    for (const route of api.server.routes) {
      if (!/backfills|sensors|partitions/.test(route.path)) continue;
      expect(
        paths[openApiPath(route.path)]?.[route.method.toLowerCase()],
        route.path,
      ).toBeDefined();
    }
  });
});
