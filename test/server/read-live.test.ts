/**
 * The read side of the API on both stores — runs filtered and searched, a run's child runs, a
 * step's whole output, events, workers' running steps, definitions — and its live side: the
 * server-sent events of `GET /api/stream`, fed by work done on another connection to the
 * store, as a worker in another process would do it. Also the OpenAPI document, checked
 * against the server's route table.
 */
import { request as httpRequest } from 'node:http';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../../src/core/clock.js';
import { Engine, type EngineOptions } from '../../src/engine/index.js';
import { node, pipeline, workflow, type TaskContext } from '../../src/index.js';
import { createClient } from '../../src/client/index.js';
import type {
  DefinitionResponse,
  DefinitionsResponse,
  ErrorResponse,
  EventsResponse,
  OutputResponse,
  RunDetailResponse,
  RunsResponse,
  StreamMessage,
  WorkersResponse,
} from '../../src/server/api-types.js';
import { OUTPUT_PREVIEW_BYTES } from '../../src/server/api-types.js';
import type { ServerOptions } from '../../src/server/index.js';
import { LiveHub, type LiveChange } from '../../src/server/live.js';
import { openApiPath } from '../../src/server/openapi.js';
import type { LogRecord, Store } from '../../src/store/contract/index.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { freshSchema, postgresDatabase, startApi, tempStore, type Backend } from './helpers.js';

const BIG = 'x'.repeat(OUTPUT_PREVIEW_BYTES + 10);

const shapes = pipeline(
  'shapes',
  {
    small: ({ n }: { n: number }) => ({ n, when: new Date(Date.UTC(2026, 0, 2)) }),
    big: node({ priority: 7 }, ({ small }: { small: { n: number } }) => `${small.n}:${BIG}`),
  },
  { params: z.object({ n: z.number() }) },
);

const leaf = workflow('leaf', { input: z.object({ n: z.number() }) }, async (_ctx, { n }) => n + 1);
const parent = workflow('parent', { input: z.object({ n: z.number() }) }, async (ctx, { n }) => {
  const a = await ctx.run(leaf, { n }, { name: 'first' });
  const b = await ctx.run(leaf, { n: a }, { name: 'second' });
  return b;
});

/** A gate a node waits at, opened by the test. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}
let held = gate();

const slow = pipeline('slow', {
  first: async (_: unknown, ctx: TaskContext) => {
    ctx.log.info('first starts');
    await held.opened;
    ctx.log.info('first ends');
    return 1;
  },
  second: ({ first }: { first: number }, ctx: TaskContext) => {
    ctx.log.warn('second runs');
    return first + 1;
  },
});

const definitions = [shapes, leaf, parent, slow];

/** Polls `check` (real time) until it holds; for delivery only, never for speed. */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(['sqlite', 'postgres'] as const)(
  'the API on %s: reading and following',
  (backend: Backend) => {
    let store: Store;
    let reopen: () => Promise<Store>;
    const closers: (() => Promise<void>)[] = [];

    beforeEach(async () => {
      const temp = await tempStore(backend);
      store = temp.store;
      reopen = temp.reopen;
      closers.push(temp.cleanup);
      held = gate();
    });
    afterEach(async () => {
      held.open();
      while (closers.length) await closers.pop()!();
    });

    async function api(options: Partial<ServerOptions> = {}) {
      const started = await startApi({
        store,
        ui: false,
        live: { runMs: 20, runsMs: 20, pingMs: 50 },
        ...options,
      });
      closers.push(() => started.close());
      return started;
    }

    /** An engine on its own connection to the store, as a worker elsewhere would be. */
    async function engine(options: Partial<EngineOptions> = {}) {
      const own = await reopen();
      const e = new Engine({ store: own, definitions, captureConsole: false, ...options });
      await e.start();
      closers.push(async () => {
        await e.stop({ graceMs: 1000 });
        await own.close();
      });
      return e;
    }

    it('filters runs by kind, creation time and a search of ids and tags', async () => {
      const clock = new ManualClock();
      const client = await engine({ worker: false, clock });
      const p1 = await client.submit(shapes, { params: { n: 1 }, tags: ['nightly', 'eu'] });
      await clock.advance(1000);
      const w1 = await client.submit(leaf, { params: { n: 1 } });
      await clock.advance(1000);
      const p2 = await client.submit(shapes, { params: { n: 2 }, tags: ['eu'] });
      const a = await api();
      const ids = async (query: string) =>
        (await a.request<RunsResponse>(`/api/runs?${query}`)).body.runs.map((r) => r.id);

      expect(await ids('kind=workflow')).toEqual([w1.id]);
      expect(await ids('kind=pipeline')).toEqual([p2.id, p1.id]);
      const t1 = (await store.getRun(w1.id))!.createdAt;
      expect(await ids(`since=${t1}`)).toEqual([p2.id, w1.id]);
      expect(await ids(`until=${t1}`)).toEqual([p1.id]);
      expect(await ids(`since=${t1}&until=${t1 + 1}`)).toEqual([w1.id]);
      expect(await ids('q=eu')).toEqual([p2.id, p1.id]);
      expect(await ids('q=nightly&kind=pipeline')).toEqual([p1.id]);
      expect(await ids(`q=${p2.id.slice(0, -3)}`)).toEqual([p2.id]);
      expect(await ids(`q=${encodeURIComponent(w1.id)}`)).toEqual([w1.id]);
      expect(await ids('q=e')).toEqual([]);
      const page = await a.request<RunsResponse>('/api/runs?q=eu&limit=1');
      expect(page.body.next).toBe(p2.id);
      expect(await ids(`q=eu&limit=1&before=${page.body.next}`)).toEqual([p1.id]);

      for (const [query, name] of [
        ['kind=job', 'kind'],
        ['since=yesterday', 'since'],
        ['until=-5', 'until'],
        ['since=1.5', 'since'],
        ['q=', 'q'],
      ] as const) {
        const res = await a.request<ErrorResponse>(`/api/runs?${query}`);
        expect(res.status, query).toBe(400);
        expect(res.body.code).toBe('invalid_query');
        expect(res.body.message).toContain(`query parameter ${name} `);
      }
    });

    it('shows child runs, previews outputs, and answers a whole output on its own route', async () => {
      await engine({ pollMs: 20 });
      const client = await engine({ worker: false });
      const { runId } = await client.run(parent, { params: { n: 1 } });
      const shaped = await client.run(shapes, { params: { n: 3 } });
      const a = await api();

      const detail = await a.request<RunDetailResponse>(`/api/runs/${runId}`);
      expect(detail.status).toBe(200);
      expect(detail.body.children.map((c) => c.definition)).toEqual(['leaf', 'leaf']);
      expect(detail.body.children.map((c) => c.input)).toEqual([{ n: 1 }, { n: 2 }]);
      expect(detail.body.children.every((c) => c.parentRunId === runId)).toBe(true);
      const $run = detail.body.steps.find((s) => s.key === '$run')!;
      expect($run).toMatchObject({ output: 3, outputBytes: 1, outputOmitted: false });

      const run = await a.request<RunDetailResponse>(`/api/runs/${shaped.runId}`);
      expect(run.body.children).toEqual([]);
      const byKey = Object.fromEntries(run.body.steps.map((s) => [s.key, s]));
      expect(byKey.small).toMatchObject({
        output: { n: 3, when: '2026-01-02T00:00:00.000Z' },
        outputOmitted: false,
      });
      expect(byKey.small!.outputBytes).toBeGreaterThan(0);
      expect(byKey.big).toMatchObject({ output: null, outputOmitted: true });
      expect(byKey.big!.outputBytes).toBeGreaterThan(OUTPUT_PREVIEW_BYTES);

      const whole = await a.request<OutputResponse>(`/api/runs/${shaped.runId}/steps/big/output`);
      expect(whole.status).toBe(200);
      expect(whole.body).toEqual({
        key: 'big',
        output: `3:${BIG}`,
        outputBytes: byKey.big!.outputBytes,
      });
      const tagged = await a.request<OutputResponse>(
        `/api/runs/${shaped.runId}/steps/small/output?values=tagged`,
      );
      expect(tagged.body.output).toEqual({
        n: 3,
        when: { $t: 'Date', v: '2026-01-02T00:00:00.000Z' },
      });
      const ofRun = await a.request<OutputResponse>(
        `/api/runs/${runId}/steps/${encodeURIComponent('$run')}/output`,
      );
      expect(ofRun.body).toEqual({ key: '$run', output: 3, outputBytes: 1 });

      const noRun = await a.request<ErrorResponse>('/api/runs/run_nope/steps/big/output');
      expect(noRun.status).toBe(404);
      expect(noRun.body.message).toContain('run_nope');
      const noStep = await a.request<ErrorResponse>(`/api/runs/${shaped.runId}/steps/huge/output`);
      expect(noStep.status).toBe(404);
      expect(noStep.body).toMatchObject({ code: 'not_found' });
      expect(noStep.body.message).toContain('"huge"');
    });

    it('lists definitions with their node priorities, one by name, and events newest first', async () => {
      const client = await engine();
      await client.sendEvent('approved', { ok: true }, { key: 'po-1' });
      await client.sendEvent('rejected', { why: new Date(Date.UTC(2026, 0, 1)) });
      await client.sendEvent('approved', { ok: false }, { key: 'po-2' });
      const a = await api();

      const defs = await a.request<DefinitionsResponse>('/api/definitions');
      expect(defs.status).toBe(200);
      expect(defs.body.definitions.map((d) => d.name)).toEqual([
        'leaf',
        'parent',
        'shapes',
        'slow',
      ]);
      expect(defs.body.definitions.every((d) => typeof d.triggerable === 'boolean')).toBe(true);
      const one = await a.request<DefinitionResponse>('/api/definitions/shapes');
      expect(one.status).toBe(200);
      const graph = one.body.definition.graph;
      expect(graph.kind).toBe('pipeline');
      if (graph.kind !== 'pipeline') return;
      expect(graph.nodes.map((n) => [n.name, n.priority])).toEqual([
        ['small', 0],
        ['big', 7],
      ]);
      const missing = await a.request<ErrorResponse>('/api/definitions/nope');
      expect(missing.status).toBe(404);
      expect(missing.body.message).toContain('"nope"');

      const events = await a.request<EventsResponse>('/api/events');
      expect(events.status).toBe(200);
      expect(events.body.events.map((e) => e.type)).toEqual(['approved', 'rejected', 'approved']);
      expect(events.body.events[1]!.payload).toEqual({ why: '2026-01-01T00:00:00.000Z' });
      const approved = await a.request<EventsResponse>('/api/events?type=approved&limit=1');
      expect(approved.body.events.map((e) => e.key)).toEqual(['po-2']);
      const tagged = await a.request<EventsResponse>('/api/events?type=rejected&values=tagged');
      expect(tagged.body.events[0]!.payload).toEqual({
        why: { $t: 'Date', v: '2026-01-01T00:00:00.000Z' },
      });
      const bad = await a.request<ErrorResponse>('/api/events?limit=0');
      expect(bad.status).toBe(400);
      expect(bad.body.message).toContain('limit');
    });

    it('tells how many steps each worker is running', async () => {
      const worker = await engine();
      const client = await engine({ worker: false });
      const run = await client.submit(slow, {});
      const a = await api();
      const running = async () =>
        Object.fromEntries(
          (await a.request<WorkersResponse>('/api/workers')).body.workers.map((w) => [
            w.id,
            w.running,
          ]),
        );
      await until(async () => (await running())[worker.workerId] === 1, 'the worker to run a step');
      held.open();
      await until(async () => (await store.getRun(run.id))?.status === 'succeeded', 'the run');
      expect((await running())[worker.workerId]).toBe(0);
    });

    it('streams a run: as it is, then its steps, logs and status as another process moves it', async () => {
      const client = await engine({ worker: false });
      const run = await client.submit(slow, {});
      const a = await api();
      const api2 = createClient({ baseUrl: a.url });
      const messages: StreamMessage[] = [];
      const abort = new AbortController();
      const following = api2.stream({ run: run.id }, (m) => messages.push(m), abort.signal);

      await until(() => messages.some((m) => m.type === 'run'), 'the run as it is');
      expect(messages[0]).toMatchObject({ type: 'run', run: { id: run.id, status: 'queued' } });
      expect(messages).toContainEqual(
        expect.objectContaining({ type: 'step', step: expect.objectContaining({ key: 'first' }) }),
      );

      await engine();
      await until(
        () =>
          messages.some(
            (m) => m.type === 'step' && m.step.key === 'first' && m.step.status === 'running',
          ),
        'the first step to run',
      );
      held.open();
      await until(
        () => messages.some((m) => m.type === 'run' && m.run.status === 'succeeded'),
        'the run to succeed',
      );
      const logs = messages.flatMap((m) => (m.type === 'log' ? [m.log.message] : []));
      expect(logs.filter((l) => l.startsWith('first starts'))).toHaveLength(1);
      await until(
        () =>
          messages.some(
            (m) => m.type === 'step' && m.step.key === 'second' && m.step.status === 'succeeded',
          ),
        'the second step',
      );
      const seqs = messages.flatMap((m) => (m.type === 'log' ? [m.log.seq] : []));
      expect(new Set(seqs).size).toBe(seqs.length);
      const statuses = messages.flatMap((m) =>
        m.type === 'step' && m.step.key === 'first' ? [m.step.status] : [],
      );
      expect(statuses[0]).toBe('queued');
      expect(statuses.at(-1)).toBe('succeeded');

      abort.abort();
      await following;
    });

    it('reads a run only while a client follows it', async () => {
      const client = await engine({ worker: false });
      const run = await client.submit(slow, {});
      let reads = 0;
      const counting = new Proxy(store, {
        get(target, name, receiver) {
          const value = Reflect.get(target, name, receiver) as unknown;
          if (name === 'listSteps') reads++;
          return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
        },
      });
      const a = await api({ store: counting });
      const follow = () => {
        const abort = new AbortController();
        const done = createClient({ baseUrl: a.url }).stream(
          { run: run.id },
          () => {},
          abort.signal,
        );
        return () => {
          abort.abort();
          return done;
        };
      };
      const leaveA = follow();
      const leaveB = follow();
      await until(() => reads >= 5, 'the run to be read');
      await leaveA();
      const before = reads;
      await until(() => reads >= before + 3, 'reads for the client still there');
      await leaveB();
      // Let a read under way finish, then no more come.
      await new Promise((r) => setTimeout(r, 100));
      const after = reads;
      await new Promise((r) => setTimeout(r, 200));
      expect(reads).toBe(after);
    });

    it('streams the transitions of every run', async () => {
      const a = await api();
      const api2 = createClient({ baseUrl: a.url });
      const messages: StreamMessage[] = [];
      const abort = new AbortController();
      const following = api2.stream({}, (m) => messages.push(m), abort.signal);
      // The poller's first read is its starting point: what follows is news.
      await new Promise((r) => setTimeout(r, 200));

      const client = await engine({ worker: false });
      const run = await client.submit(slow, {});
      await until(
        () => messages.some((m) => m.type === 'run' && m.run.id === run.id),
        'the new run',
      );
      await engine();
      held.open();
      await until(
        () =>
          messages.some(
            (m) => m.type === 'run' && m.run.id === run.id && m.run.status === 'succeeded',
          ),
        'the run to succeed',
      );
      expect(messages.every((m) => m.type === 'run')).toBe(true);

      abort.abort();
      await following;
    });

    it('hears an engine in its own process at once, without waiting for a poll', async () => {
      const worker = new Engine({ store, definitions, captureConsole: false });
      await worker.start();
      closers.push(() => worker.stop({ graceMs: 1000 }));
      const run = await worker.submit(slow, {});
      // Polls so far apart that only the engine's word can bring the news in time.
      const a = await api({ engine: worker, live: { runMs: 600_000, runsMs: 600_000 } });
      const messages: StreamMessage[] = [];
      const abort = new AbortController();
      const following = createClient({ baseUrl: a.url }).stream(
        { run: run.id },
        (m) => messages.push(m),
        abort.signal,
      );
      await until(() => messages.some((m) => m.type === 'run'), 'the run as it is');
      held.open();
      await until(
        () => messages.some((m) => m.type === 'run' && m.run.status === 'succeeded'),
        'the run to succeed',
      );
      expect(messages.some((m) => m.type === 'log' && m.log.message === 'second runs')).toBe(true);
      abort.abort();
      await following;
    });

    it('sends retry, pings, 404s an unknown run, and is ended by close()', async () => {
      const client = await engine({ worker: false });
      const run = await client.submit(slow, {});
      const a = await api({ token: 's3cret' });
      const auth = { authorization: 'Bearer s3cret' };

      expect((await a.request('/api/stream')).status).toBe(401);
      const missing = await a.request<ErrorResponse>('/api/stream?run=run_nope', { headers: auth });
      expect(missing.status).toBe(404);
      expect(missing.body.message).toContain('run_nope');

      let text = '';
      let headers: Record<string, unknown> = {};
      const ended = new Promise<void>((resolve, reject) => {
        const req = httpRequest(`${a.url}/api/stream?run=${run.id}`, { headers: auth }, (res) => {
          headers = res.headers;
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', resolve);
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      await until(() => text.includes(': ping'), 'a ping');
      expect(headers['content-type']).toMatch(/^text\/event-stream/);
      expect(text.startsWith('retry: ')).toBe(true);
      expect(text).toMatch(/event: run\ndata: \{"type":"run","run":\{"id":"run_/);
      // A grace period far beyond the test's timeout: close() must end the stream, not wait.
      await a.server.close({ graceMs: 600_000 });
      await ended;
    });

    it('describes every route in its OpenAPI document, served without a token', async () => {
      const a = await api({ token: 's3cret' });
      const res = await a.request<{
        openapi: string;
        paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
        components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
      }>('/api/openapi.json');
      expect(res.status).toBe(200);
      expect(res.body.openapi).toBe('3.1.0');
      expect(res.body.components.securitySchemes.bearer).toMatchObject({ scheme: 'bearer' });
      expect(res.body.components.schemas.ErrorResponse).toBeDefined();
      const documented = Object.entries(res.body.paths)
        .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
        .sort();
      const served = a.server.routes
        .filter((r) => r.path.startsWith('/api/'))
        .map((r) => `${r.method} ${openApiPath(r.path)}`)
        .sort();
      expect(documented).toEqual(served);
      // Every $ref points at a schema the document has.
      const refs = JSON.stringify(res.body).match(/#\/components\/schemas\/\w+/g) ?? [];
      for (const ref of new Set(refs)) {
        expect(res.body.components.schemas[ref.split('/').pop()!], ref).toBeDefined();
      }
    });
  },
);

describe.each(['sqlite', 'postgres'] as const)('the live hub on %s', (backend: Backend) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ store, cleanup } = await tempStore(backend));
  });
  afterEach(() => cleanup());

  it('polls a topic only while someone listens, one poller for all its listeners', async () => {
    const now = Date.now();
    await store.createRun(
      {
        id: 'run_live1',
        kind: 'pipeline',
        definition: 'p',
        input: '{}',
        outputs: [],
        trigger: 'test',
        createdAt: now,
      },
      [{ key: 'a', node: 'a', dependsOn: [] }],
    );
    await store.appendLogs([
      { runId: 'run_live1', stepKey: 'a', attempt: null, at: now, level: 'info', message: 'old' },
    ]);
    const hub = new LiveHub(store, { runMs: 10, runsMs: 10 });
    const seen: [string, LiveChange][] = [];
    const listener = (name: string) => ({
      send: (c: LiveChange) => void seen.push([name, c]),
      end: () => void seen.push([name, { type: 'reset' }]),
    });
    const stopA = hub.subscribe('run_live1', listener('a'));
    const stopB = hub.subscribe('run_live1', listener('b'));
    const stopAll = hub.subscribe(null, listener('all'));
    expect(hub.topics.sort()).toEqual(['*', 'run_live1']);
    await until(
      () => seen.filter(([, c]) => c.type === 'step').length === 2,
      'the steps as they are',
    );
    expect(
      seen
        .filter(([, c]) => c.type === 'run')
        .map(([n]) => n)
        .sort(),
    ).toEqual(['a', 'b']);

    await store.appendLogs([
      { runId: 'run_live1', stepKey: 'a', attempt: null, at: now, level: 'info', message: 'new' },
    ]);
    await until(() => seen.filter(([, c]) => c.type === 'log').length === 2, 'the new line');
    // The lines there were before anyone listened are not sent; the new one once to each.
    expect(
      seen.flatMap(([n, c]) => (c.type === 'log' ? [`${n}:${c.log.message}`] : [])).sort(),
    ).toEqual(['a:new', 'b:new']);

    await store.cancelRun('run_live1', now + 5, 'stop');
    await until(
      () => seen.some(([n, c]) => n === 'all' && c.type === 'run' && c.run.status === 'cancelled'),
      'the cancellation, to every run’s listeners',
    );
    await until(
      () => seen.some(([n, c]) => n === 'b' && c.type === 'step' && c.step.status === 'cancelled'),
      'the step’s cancellation',
    );

    // Many lines at once, more than a poll re-reads behind its cursor: each sent once.
    for (let batch = 0; batch < 5; batch++) {
      await store.appendLogs(
        Array.from({ length: 1000 }, (_, i) => ({
          runId: 'run_live1',
          stepKey: 'a',
          attempt: null,
          at: now,
          level: 'debug' as const,
          message: `line ${batch * 1000 + i}`,
        })),
      );
    }
    const many = () =>
      seen.flatMap(([n, c]) =>
        n === 'a' && c.type === 'log' && c.log.level === 'debug' ? [c.log] : [],
      );
    await until(() => many().length >= 5000, 'the many lines');
    await new Promise((r) => setTimeout(r, 50));
    expect(many().map((l) => l.message)).toEqual(
      Array.from({ length: 5000 }, (_, i) => `line ${i}`),
    );

    stopA();
    expect(hub.topics.sort()).toEqual(['*', 'run_live1']);
    stopB();
    stopAll();
    expect(hub.topics).toEqual([]);
    const stopC = hub.subscribe('run_live1', listener('c'));
    hub.close();
    expect(hub.topics).toEqual([]);
    expect(seen.at(-1)).toEqual(['c', { type: 'reset' }]);
    stopC();
  });
});

describe('the live hub on postgres', () => {
  it('sends a log line that commits after a line numbered after it was sent', async () => {
    const { url } = await postgresDatabase();
    const schema = freshSchema();
    const store = await PostgresStore.connect(url, { schema });
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    const hub = new LiveHub(store, { runMs: 10 });
    try {
      const now = Date.now();
      await store.createRun(
        {
          id: 'run_late',
          kind: 'pipeline',
          definition: 'p',
          input: '{}',
          outputs: [],
          trigger: 'test',
          createdAt: now,
        },
        [{ key: 'a', node: 'a', dependsOn: [] }],
      );
      const lines: LogRecord[] = [];
      let greeted = false;
      const stop = hub.subscribe('run_late', {
        send: (c) => {
          if (c.type === 'log') lines.push(c.log);
          if (c.type === 'run') greeted = true;
        },
        end: () => {},
      });
      await until(() => greeted, 'the run as it is');
      // A line numbered first, committed last.
      await other.query(`SET search_path TO "${schema}"`);
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO logs (run_id, step_key, attempt, at, level, message)
         VALUES ('run_late', 'a', 1, $1, 'info', 'slow')`,
        [now],
      );
      const line = (message: string) => ({
        runId: 'run_late',
        stepKey: 'a',
        attempt: 1,
        at: now,
        level: 'info' as const,
        message,
      });
      await store.appendLogs([line('fast')]);
      await until(() => lines.length === 1, 'the line committed first');
      await other.query('COMMIT');
      await store.appendLogs([line('last')]);
      await until(() => lines.length === 3, 'the line committed late');
      await new Promise((r) => setTimeout(r, 100));
      expect(lines.map((l) => l.message)).toEqual(['fast', 'slow', 'last']);
      expect(lines[1]!.seq).toBeLessThan(lines[0]!.seq);
      stop();
    } finally {
      hub.close();
      await other.end();
      await store.close();
    }
  });
});
