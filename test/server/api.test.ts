/**
 * The HTTP API, through real HTTP, on both stores: runs made by a real engine, read, filtered,
 * paged, cancelled and woken through the API; every error answered as `{ code, message }`.
 */
import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../src/core/clock.js';
import { Engine, type EngineOptions } from '../../src/engine/index.js';
import { pipeline, workflow, type TaskContext } from '../../src/index.js';
import type {
  ErrorBody,
  EventView,
  RunView,
  StepView,
  WorkerView,
} from '../../src/server/index.js';
import type { DefinitionRecord, LogRecord, Store } from '../../src/store/contract/index.js';
import { advanceUntil } from '../engine/helpers.js';
import { startApi, tempStore, type Backend } from './helpers.js';

interface RunsPage {
  runs: RunView[];
  next: string | null;
}
interface RunDetail {
  run: RunView;
  steps: StepView[];
}
interface LogsPage {
  logs: LogRecord[];
  next: number;
}
interface Cancelled {
  run: RunView;
  cancelled: boolean;
}
interface Sent {
  event: EventView;
  created: boolean;
  woken: string[];
}
const idsOf = (page: RunsPage) => page.runs.map((r) => r.id);
const stepOf = (detail: RunDetail, key: string) => detail.steps.find((s) => s.key === key)!;

const double = pipeline(
  'double',
  {
    base: ({ n }: { n: number }) => n,
    twice: ({ base }: { base: number }, ctx: TaskContext) => {
      ctx.log.info('doubling', { base });
      return base * 2;
    },
    extras: ({ twice }: { twice: number }) => ({
      big: BigInt(twice) * 10n,
      byName: new Map([['twice', twice]]),
      tags: new Set(['a', 'b']),
      when: new Date(Date.UTC(2026, 0, 2)),
    }),
  },
  { params: z.object({ n: z.number() }) },
);

const approval = workflow(
  'approval',
  { input: z.object({ id: z.string() }) },
  async (ctx, { id }) => {
    const event = await ctx.waitForEvent<{ ok: boolean }>('decision', {
      event: 'approved',
      key: id,
      timeout: '1h',
    });
    return event ? { ok: event.payload.ok } : 'timed out';
  },
);

const stamped = workflow('stamped', { input: z.object({ at: z.date() }) }, async (_ctx, { at }) =>
  at.getTime(),
);

const definitions = [double, approval, stamped];

describe.each(['sqlite', 'postgres'] as const)('the API on %s', (backend: Backend) => {
  let store: Store;
  const closers: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    const temp = await tempStore(backend);
    store = temp.store;
    closers.push(temp.cleanup);
  });
  afterEach(async () => {
    while (closers.length) await closers.pop()!();
  });

  async function api(options: { token?: string; clock?: ManualClock; leader?: boolean } = {}) {
    const started = await startApi({
      store,
      ...(options.token ? { token: options.token } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      leader: () => options.leader ?? false,
    });
    closers.push(() => started.close());
    return started;
  }

  /** An engine on the test's store: with `worker: false`, runs it submits stay queued. */
  async function engine(options: Partial<EngineOptions> = {}) {
    const e = new Engine({ store, definitions, captureConsole: false, ...options });
    await e.start();
    closers.push(() => e.stop({ graceMs: 1000 }));
    return e;
  }

  it('answers health without the database, naming the dialect and leadership', async () => {
    const a = await api({ leader: true });
    const res = await a.request('/api/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ok: true,
      dialect: backend,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      leader: true,
    });
  });

  it('lists runs newest first, filtered and paged', async () => {
    const client = await engine({ worker: false });
    const ids: string[] = [];
    for (let n = 1; n <= 5; n++) ids.push((await client.submit(double, { params: { n } })).id);
    const flow = await client.submit(approval, { params: { id: 'po-1' } });
    const a = await api();

    const all = await a.request<RunsPage>('/api/runs');
    expect(all.status).toBe(200);
    expect(idsOf(all.body)).toEqual([flow.id, ...ids.reverse()]);
    expect(all.body.next).toBeNull();
    expect(all.body.runs[1]).toMatchObject({
      kind: 'pipeline',
      definition: 'double',
      status: 'queued',
      input: { n: 5 },
    });

    const pipelines = await a.request<RunsPage>('/api/runs?definition=double&limit=2');
    expect(idsOf(pipelines.body)).toEqual(ids.slice(0, 2));
    expect(pipelines.body.next).toBe(ids[1]);
    const page2 = await a.request<RunsPage>(`/api/runs?definition=double&limit=2&before=${ids[1]}`);
    expect(idsOf(page2.body)).toEqual(ids.slice(2, 4));
    const page3 = await a.request<RunsPage>(
      `/api/runs?definition=double&limit=2&before=${page2.body.next!}`,
    );
    expect(idsOf(page3.body)).toEqual(ids.slice(4));
    expect(page3.body.next).toBeNull();

    await a.request(`/api/runs/${ids[0]}/cancel`, { method: 'POST' });
    const cancelled = await a.request<RunsPage>('/api/runs?status=cancelled');
    expect(idsOf(cancelled.body)).toEqual([ids[0]]);
    const none = await a.request('/api/runs?status=succeeded&definition=double');
    expect(none.body).toEqual({ runs: [], next: null });
  });

  it('shows a run with its steps, attempts and logs, values decoded to plain JSON', async () => {
    const worker = await engine();
    const { runId } = await worker.run(double, { params: { n: 21 } });
    const a = await api();

    const detail = await a.request<RunDetail>(`/api/runs/${runId}`);
    expect(detail.status).toBe(200);
    expect(detail.body.run).toMatchObject({ id: runId, status: 'succeeded', input: { n: 21 } });
    expect(detail.body.steps.map((s) => s.key).sort()).toEqual(['base', 'extras', 'twice']);
    expect(stepOf(detail.body, 'twice')).toMatchObject({
      status: 'succeeded',
      output: 42,
      attempt: 1,
    });
    expect(stepOf(detail.body, 'extras').output).toEqual({
      big: '420',
      byName: { twice: 42 },
      tags: ['a', 'b'],
      when: '2026-01-02T00:00:00.000Z',
    });

    const tagged = await a.request<RunDetail>(`/api/runs/${runId}?values=tagged`);
    expect(stepOf(tagged.body, 'extras').output).toMatchObject({
      big: { $t: 'BigInt', v: '420' },
      when: { $t: 'Date', v: '2026-01-02T00:00:00.000Z' },
    });

    const attempts = await a.request<{ attempts: unknown[] }>(`/api/runs/${runId}/attempts`);
    expect(attempts.status).toBe(200);
    expect(attempts.body.attempts).toHaveLength(3);
    expect(attempts.body.attempts[0]).toMatchObject({ runId, attempt: 1, status: 'succeeded' });

    const logs = await a.request<LogsPage>(`/api/runs/${runId}/logs`);
    expect(logs.status).toBe(200);
    const line = logs.body.logs.find((l) => l.message.startsWith('doubling'));
    expect(line).toMatchObject({ runId, stepKey: 'twice', level: 'info' });
    expect(logs.body.next).toBe(logs.body.logs.at(-1)!.seq);
    const later = await a.request<LogsPage>(`/api/runs/${runId}/logs?after=${logs.body.next}`);
    expect(later.body).toEqual({ logs: [], next: logs.body.next });
    const ofBase = await a.request<LogsPage>(`/api/runs/${runId}/logs?step=base`);
    expect(ofBase.body.logs).toEqual([]);
    const first = await a.request<LogsPage>(`/api/runs/${runId}/logs?limit=1`);
    expect(first.body.logs).toHaveLength(1);
  });

  it('decodes a workflow input, or keeps its codec tags with ?values=tagged', async () => {
    const client = await engine({ worker: false });
    const run = await client.submit(stamped, { params: { at: new Date(Date.UTC(2026, 4, 1)) } });
    const a = await api();
    const plain = await a.request<RunDetail>(`/api/runs/${run.id}`);
    expect(plain.body.run.input).toEqual({ at: '2026-05-01T00:00:00.000Z' });
    expect(plain.body.steps).toEqual([
      expect.objectContaining({ key: '$run', kind: 'run', status: 'queued', output: null }),
    ]);
    const tagged = await a.request<RunsPage>(`/api/runs?values=tagged`);
    expect(tagged.body.runs[0]!.input).toEqual({
      at: { $t: 'Date', v: '2026-05-01T00:00:00.000Z' },
    });
  });

  it('cancels a run; cancelling it again, or a finished run, changes nothing', async () => {
    const client = await engine({ worker: false });
    const queued = await client.submit(double, { params: { n: 1 } });
    const a = await api();

    const res = await a.request<Cancelled>(`/api/runs/${queued.id}/cancel`, {
      method: 'POST',
      body: { reason: 'wrong day' },
    });
    expect(res.status).toBe(200);
    expect(res.body.cancelled).toBe(true);
    expect(res.body.run).toMatchObject({ id: queued.id, status: 'cancelled' });
    expect(res.body.run.error?.message).toContain('wrong day');
    const steps = await store.listSteps(queued.id);
    expect(steps.every((s) => s.status === 'cancelled')).toBe(true);

    const again = await a.request<Cancelled>(`/api/runs/${queued.id}/cancel`, { method: 'POST' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ cancelled: false, run: { status: 'cancelled' } });

    const worker = await engine();
    const { runId } = await worker.run(double, { params: { n: 2 } });
    const done = await a.request<Cancelled>(`/api/runs/${runId}/cancel`, {
      method: 'POST',
      body: {},
    });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ cancelled: false, run: { status: 'succeeded' } });
  });

  it('sends an event that wakes a parked workflow, once per idempotency key', async () => {
    const clock = new ManualClock();
    await engine({ clock, pollMs: 1000 });
    const client = await engine({ worker: false, clock });
    const run = await client.submit(approval, { params: { id: 'po-7' } });
    const a = await api({ clock });
    await advanceUntil(clock, async () => (await store.getRun(run.id))?.status === 'waiting', 50);

    const other = await a.request<Sent>('/api/events', {
      method: 'POST',
      body: { type: 'approved', key: 'po-8', payload: { ok: false } },
    });
    expect(other.status).toBe(201);
    expect(other.body.woken).toEqual([]);

    const sent = await a.request<Sent>('/api/events', {
      method: 'POST',
      body: { type: 'approved', key: 'po-7', payload: { ok: true }, idempotencyKey: 'd-1' },
    });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({
      created: true,
      woken: [run.id],
      event: { type: 'approved', key: 'po-7', payload: { ok: true }, idempotencyKey: 'd-1' },
    });
    expect(sent.body.event.id).toMatch(/^evt_/);

    const repeat = await a.request<Sent>('/api/events', {
      method: 'POST',
      body: { type: 'approved', key: 'po-7', payload: { ok: false }, idempotencyKey: 'd-1' },
    });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toMatchObject({
      created: false,
      woken: [],
      event: { id: sent.body.event.id },
    });

    await advanceUntil(clock, async () => (await store.getRun(run.id))?.status === 'succeeded', 50);
    const detail = await a.request<RunDetail>(`/api/runs/${run.id}`);
    expect(stepOf(detail.body, '$run').output).toEqual({ ok: true });
  });

  it('lists workers with whether their heartbeat is recent, and registered definitions', async () => {
    const clock = new ManualClock();
    const worker = await engine({ clock });
    await store.upsertWorker({
      id: 'wkr_gone',
      host: 'elsewhere',
      pid: 1,
      startedAt: clock.now() - 600_000,
      heartbeatAt: clock.now() - 120_000,
      definitions: ['double'],
      labels: [],
    });
    const a = await api({ clock });
    const res = await a.request<{ workers: WorkerView[] }>('/api/workers');
    expect(res.status).toBe(200);
    const byId = Object.fromEntries(res.body.workers.map((w) => [w.id, w]));
    expect(byId[worker.workerId]).toMatchObject({ alive: true });
    expect(byId.wkr_gone).toMatchObject({ alive: false, host: 'elsewhere' });

    await store.registerDefinitions([
      {
        name: 'double',
        kind: 'pipeline',
        graph: { nodes: ['base', 'twice'] },
        inputSchema: { type: 'object' },
        codeHash: 'abc',
        labels: [],
        registeredAt: clock.now(),
      },
    ]);
    const defs = await a.request<{ definitions: DefinitionRecord[] }>('/api/definitions');
    expect(defs.status).toBe(200);
    expect(defs.body.definitions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'double', kind: 'pipeline', codeHash: 'abc' }),
      ]),
    );
  });

  it('answers every error as { code, message } with a 4xx status', async () => {
    const a = await api();
    const expectError = async (
      res: Promise<{ status: number; body: unknown; headers: Headers }>,
      status: number,
      code: string,
      message?: RegExp,
    ) => {
      const r = (await res) as { status: number; body: ErrorBody; headers: Headers };
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(Object.keys(r.body).sort()).toEqual(['code', 'message']);
      expect(r.body.code).toBe(code);
      if (message) expect(r.body.message).toMatch(message);
      return r;
    };
    await expectError(a.request('/api/runs/run_nope'), 404, 'not_found', /run_nope/);
    await expectError(a.request('/api/runs/run_nope/attempts'), 404, 'not_found');
    await expectError(a.request('/api/runs/run_nope/logs'), 404, 'not_found');
    await expectError(a.request('/api/runs/run_nope/cancel', { method: 'POST' }), 404, 'not_found');
    await expectError(a.request('/api/nothing/here'), 404, 'not_found', /GET \/api\/nothing/);
    // Outside /api, a path without a file extension is the web UI's; a missing file is a 404.
    await expectError(a.request('/elsewhere.js'), 404, 'not_found');

    await expectError(a.request('/api/runs?status=done'), 400, 'invalid_query', /status/);
    await expectError(a.request('/api/runs?limit=0'), 400, 'invalid_query', /limit/);
    await expectError(a.request('/api/runs?limit=ten'), 400, 'invalid_query', /limit/);
    await expectError(a.request('/api/runs?limit=100000'), 400, 'invalid_query', /limit/);
    await expectError(a.request('/api/runs?definition='), 400, 'invalid_query', /definition/);
    await expectError(a.request('/api/runs?values=xml'), 400, 'invalid_query', /values/);
    await expectError(a.request('/api/runs/x/logs?after=-1'), 400, 'invalid_query', /after/);

    const wrong = await expectError(
      a.request('/api/runs', { method: 'DELETE' }),
      405,
      'method_not_allowed',
    );
    expect(wrong.headers.get('allow')).toBe('GET, POST');
    const get = await expectError(
      a.request('/api/runs/run_x/cancel'),
      405,
      'method_not_allowed',
      /use POST/,
    );
    expect(get.headers.get('allow')).toBe('POST');

    await expectError(
      a.request('/api/events', { method: 'POST', body: '{"type": "x",' }),
      400,
      'invalid_json',
    );
    await expectError(a.request('/api/events', { method: 'POST' }), 400, 'invalid_body');
    await expectError(
      a.request('/api/events', { method: 'POST', body: [1, 2] }),
      400,
      'invalid_body',
    );
    await expectError(
      a.request('/api/events', { method: 'POST', body: { payload: 1 } }),
      400,
      'invalid_body',
      /type/,
    );
    await expectError(
      a.request('/api/events', { method: 'POST', body: { type: 'x', key: 7 } }),
      400,
      'invalid_body',
      /key/,
    );
    await expectError(
      a.request('/api/runs/run_x/cancel', { method: 'POST', body: { reason: 12 } }),
      400,
      'invalid_body',
      /reason/,
    );

    const big = JSON.stringify({ type: 'x', payload: 'y'.repeat(1024 * 1024) });
    await expectError(
      a.request('/api/events', { method: 'POST', body: big }),
      413,
      'body_too_large',
    );
    // Sent in chunks, with no length announced: refused once the limit is passed.
    const chunked = await new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const req = request(`${a.url}/api/events`, { method: 'POST' }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body: JSON.parse(text) as unknown }),
        );
      });
      req.on('error', reject);
      const chunk = 'z'.repeat(64 * 1024);
      const send = (left: number): void => {
        if (left === 0) return void req.end();
        if (req.write(chunk)) send(left - 1);
        else req.once('drain', () => send(left - 1));
      };
      send(24);
    });
    expect(chunked).toMatchObject({ status: 413, body: { code: 'body_too_large' } });
    // The server goes on serving after refusing a body.
    expect((await a.request('/api/health')).status).toBe(200);
  });

  it('with a token, needs it on every /api route but health', async () => {
    const a = await api({ token: 's3cret' });
    expect((await a.request('/api/health')).status).toBe(200);

    const missing = await a.request<ErrorBody>('/api/runs');
    expect(missing.status).toBe(401);
    expect(missing.body.code).toBe('unauthorized');
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await a.request('/api/runs', { headers: { authorization: 'Bearer s3cre' } });
    expect(wrong.status).toBe(401);
    const basic = await a.request('/api/runs', { headers: { authorization: 'Basic s3cret' } });
    expect(basic.status).toBe(401);
    const unknown = await a.request('/api/secret-route');
    expect(unknown.status).toBe(401);
    const posted = await a.request('/api/events', { method: 'POST', body: { type: 'x' } });
    expect(posted.status).toBe(401);
    expect(await store.listEvents()).toEqual([]);

    const ok = await a.request<RunsPage>('/api/runs', {
      headers: { authorization: 'Bearer s3cret' },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ runs: [], next: null });
    const lower = await a.request('/api/workers', { headers: { authorization: 'bearer s3cret' } });
    expect(lower.status).toBe(200);
  });
});
