/**
 * Runs created through the API: triggered with the definition's code (as `weft dev` serves) or
 * from what a worker registered (a server without code), retried from their failed nodes and
 * re-run from chosen ones, on both stores.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Engine } from '../../src/engine/index.js';
import { pipeline, workflow } from '../../src/index.js';
import { createServer } from '../../src/server/index.js';
import type {
  ErrorResponse,
  RerunResponse,
  RunDetailResponse,
  TriggerResponse,
  DefinitionsResponse,
} from '../../src/server/api-types.js';
import type { Store } from '../../src/store/contract/index.js';
import { startApi, tempStore, type Backend, type TestApi } from './helpers.js';

/** How often each node ran, and whether `check` fails. */
const ran = new Map<string, number>();
const failing = { check: true };
const count = (name: string) => ran.set(name, (ran.get(name) ?? 0) + 1);

const report = pipeline(
  'report',
  {
    load: ({ day, limit }: { day: string; limit: number }) => {
      count('load');
      return Array.from({ length: limit }, (_, i) => `${day}#${i}`);
    },
    check: ({ load }: { load: string[] }) => {
      count('check');
      if (failing.check) throw new Error('check failed on purpose');
      return load.length;
    },
    summary: ({ check, day }: { check: number; day: string }) => {
      count('summary');
      return `${day}: ${check}`;
    },
    side: ({ load }: { load: string[] }) => {
      count('side');
      return load[0];
    },
  },
  {
    params: z.object({
      day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
      limit: z.number().int().min(1).default(3),
      mode: z.enum(['fast', 'full']).optional(),
    }),
  },
);

/** Params the schema transforms: only the code can check them. */
const dated = pipeline(
  'dated',
  { year: ({ when }: { when: Date }) => when.getUTCFullYear() },
  { params: z.object({ when: z.string().transform((s) => new Date(s)) }) },
);

const greet = workflow('greet', { input: z.object({ name: z.string() }) }, async (ctx, { name }) =>
  ctx.step('hello', () => `hello ${name}`),
);

for (const backend of ['sqlite', 'postgres'] as Backend[]) {
  describe(`runs created through the API (${backend})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let worker: Engine;
    let withCode: TestApi;
    let codeless: TestApi;

    beforeEach(async () => {
      ({ store, cleanup } = await tempStore(backend));
      ran.clear();
      failing.check = true;
      worker = new Engine({
        store,
        definitions: [report, greet, dated],
        scope: 'all',
        pollMs: 20,
        captureConsole: false,
      });
      await worker.start();
      withCode = await startApi({ store, engine: worker, ui: false });
      codeless = await startApi({ store, ui: false });
    });

    afterEach(async () => {
      await withCode.close();
      await codeless.close();
      await worker.stop();
      await cleanup();
    });

    const finished = async (id: string) => (await worker.wait(id)).status;
    const resultOf = async (id: string) => {
      await worker.wait(id);
      return worker.result(id);
    };

    for (const which of ['with the code', 'from the registered definition'] as const) {
      const api = () => (which === 'with the code' ? withCode : codeless);

      it(`triggers a run ${which}, checks its input, and honours idempotency keys`, async () => {
        failing.check = false;
        const bad = await api().request<ErrorResponse>('/api/runs', {
          method: 'POST',
          body: { definition: 'report', params: { day: 'yesterday', limit: 0 } },
        });
        expect(bad.status).toBe(400);
        expect(bad.body.code).toBe('invalid_input');
        expect(bad.body.message).toMatch(/day: /);
        expect(bad.body.message).toMatch(/limit: /);
        expect(bad.body.issues?.map((i) => i.path)).toEqual([['day'], ['limit']]);

        const body = {
          definition: 'report',
          params: { day: '2026-03-01' },
          tags: ['nightly'],
          idempotencyKey: `k-${which}`,
        };
        const first = await api().request<TriggerResponse>('/api/runs', { method: 'POST', body });
        expect(first.status).toBe(201);
        expect(first.body.created).toBe(true);
        expect(first.body.run).toMatchObject({
          definition: 'report',
          trigger: 'api',
          tags: ['nightly'],
          // The schema's default applies whichever way the run was planned.
          input: { day: '2026-03-01', limit: 3 },
        });
        const again = await api().request<TriggerResponse>('/api/runs', { method: 'POST', body });
        expect(again.status).toBe(200);
        expect(again.body).toMatchObject({ created: false, run: { id: first.body.run.id } });

        expect(await finished(first.body.run.id)).toBe('succeeded');
        const detail = await api().request<RunDetailResponse>(`/api/runs/${first.body.run.id}`);
        expect(detail.body.steps.find((s) => s.key === 'summary')?.output).toBe('2026-03-01: 3');
      });

      it(`triggers a workflow ${which}`, async () => {
        const res = await api().request<TriggerResponse>('/api/runs', {
          method: 'POST',
          body: { definition: 'greet', params: { name: 'Ada' } },
        });
        expect(res.status).toBe(201);
        expect(await resultOf(res.body.run.id)).toBe('hello Ada');
      });
    }

    it('answers 404 for a definition no worker registered, 400 for bad fields', async () => {
      const unknown = await codeless.request<ErrorResponse>('/api/runs', {
        method: 'POST',
        body: { definition: 'nope' },
      });
      expect(unknown.status).toBe(404);
      expect(unknown.body.message).toMatch(/"nope" not found/);
      for (const body of [
        {},
        { definition: 'report', tags: 'x' },
        { definition: 'report', priority: 1.5 },
        { definition: 'report', outputs: [''] },
      ]) {
        const res = await codeless.request<ErrorResponse>('/api/runs', { method: 'POST', body });
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.code).toBe('invalid_body');
      }
      const output = await codeless.request<ErrorResponse>('/api/runs', {
        method: 'POST',
        body: { definition: 'report', params: { day: '2026-03-01' }, outputs: ['nope'] },
      });
      expect(output.status).toBe(400);
      expect(output.body.code).toBe('unknown_node');
    });

    it('lists every definition as triggerable when its schema can be checked', async () => {
      const res = await codeless.request<DefinitionsResponse>('/api/definitions');
      expect(res.body.definitions.map((d) => [d.name, d.triggerable, d.workers]).sort()).toEqual([
        ['dated', false, 1],
        ['greet', true, 1],
        ['report', true, 1],
      ]);
      // A definition no live worker runs says so.
      await worker.stop();
      const after = await codeless.request<DefinitionsResponse>('/api/definitions');
      expect(after.body.definitions.map((d) => d.workers)).toEqual([0, 0, 0]);
    });

    it('triggers a definition whose schema transforms its input only with the code', async () => {
      const body = { definition: 'dated', params: { when: '2031-05-01' } };
      const refused = await codeless.request<ErrorResponse>('/api/runs', {
        method: 'POST',
        body,
      });
      expect(refused.status).toBe(400);
      expect(refused.body.code).toBe('needs_code');
      const res = await withCode.request<TriggerResponse>('/api/runs', { method: 'POST', body });
      expect(res.status).toBe(201);
      await worker.wait(res.body.run.id);
      expect(await worker.outputs(res.body.run.id)).toEqual({ year: 2031 });
    });

    it('retries a failed run from its failed nodes, reading the others from it', async () => {
      const { body } = await codeless.request<TriggerResponse>('/api/runs', {
        method: 'POST',
        body: { definition: 'report', params: { day: '2026-03-02', limit: 2 } },
      });
      expect(await finished(body.run.id)).toBe('failed');
      expect(Object.fromEntries(ran)).toEqual({ load: 1, check: 1, side: 1 });

      failing.check = false;
      const retry = await codeless.request<RerunResponse>(`/api/runs/${body.run.id}/retry`, {
        method: 'POST',
      });
      expect(retry.status).toBe(201);
      expect(retry.body.nodes.sort()).toEqual(['check', 'summary']);
      expect(retry.body.run.trigger).toBe(`retry:${body.run.id}`);
      expect(await finished(retry.body.run.id)).toBe('succeeded');
      // `load` and `side` were not computed again: their values came from the failed run.
      expect(Object.fromEntries(ran)).toEqual({ load: 1, check: 2, side: 1, summary: 1 });
      expect(await worker.outputs(retry.body.run.id)).toEqual({
        load: ['2026-03-02#0', '2026-03-02#1'],
        check: 2,
        summary: '2026-03-02: 2',
        side: '2026-03-02#0',
      });

      // Nothing left to retry in the run that succeeded.
      const nothing = await codeless.request<ErrorResponse>(
        `/api/runs/${retry.body.run.id}/retry`,
        { method: 'POST' },
      );
      expect(nothing.status).toBe(400);
      expect(nothing.body.code).toBe('nothing_to_retry');
    });

    it('re-runs chosen nodes and what follows them', async () => {
      failing.check = false;
      const { body } = await withCode.request<TriggerResponse>('/api/runs', {
        method: 'POST',
        body: { definition: 'report', params: { day: '2026-03-03' } },
      });
      expect(await finished(body.run.id)).toBe('succeeded');
      ran.clear();
      const rerun = await withCode.request<RerunResponse>(`/api/runs/${body.run.id}/rerun`, {
        method: 'POST',
        body: { nodes: ['check'] },
      });
      expect(rerun.status).toBe(201);
      expect(rerun.body.nodes.sort()).toEqual(['check', 'summary']);
      expect(await finished(rerun.body.run.id)).toBe('succeeded');
      expect(Object.fromEntries(ran)).toEqual({ check: 1, summary: 1 });

      for (const [payload, code] of [
        [{ nodes: ['nope'] }, 'unknown_node'],
        [{ nodes: [] }, 'invalid_body'],
        [{}, 'invalid_body'],
      ] as const) {
        const res = await withCode.request<ErrorResponse>(`/api/runs/${body.run.id}/rerun`, {
          method: 'POST',
          body: payload,
        });
        expect(res.status).toBe(400);
        expect(res.body.code).toBe(code);
      }
      const missing = await withCode.request<ErrorResponse>('/api/runs/run_nope/rerun', {
        method: 'POST',
        body: { nodes: ['check'] },
      });
      expect(missing.status).toBe(404);
    });

    it('retries a workflow run whole; its nodes cannot be re-run', async () => {
      const { body } = await codeless.request<TriggerResponse>('/api/runs', {
        method: 'POST',
        body: { definition: 'greet', params: { name: 'Grace' } },
      });
      expect(await finished(body.run.id)).toBe('succeeded');
      const retry = await codeless.request<RerunResponse>(`/api/runs/${body.run.id}/retry`, {
        method: 'POST',
      });
      expect(retry.status).toBe(201);
      expect(await resultOf(retry.body.run.id)).toBe('hello Grace');
      const rerun = await codeless.request<ErrorResponse>(`/api/runs/${body.run.id}/rerun`, {
        method: 'POST',
        body: { nodes: ['hello'] },
      });
      expect(rerun.status).toBe(400);
      expect(rerun.body.code).toBe('invalid_rerun');
    });

    it('refuses to run again a run that has not finished', async () => {
      const parked = workflow('parked', {}, async (ctx) =>
        ctx.waitForEvent('go', { event: 'go', key: 'x', timeout: '1d' }),
      );
      await worker.reload([report, greet, dated, parked]);
      const { body } = await withCode.request<TriggerResponse>('/api/runs', {
        method: 'POST',
        body: { definition: 'parked' },
      });
      await expect
        .poll(async () => (await store.getRun(body.run.id))?.status, { timeout: 10_000 })
        .toBe('waiting');
      const res = await withCode.request<ErrorResponse>(`/api/runs/${body.run.id}/retry`, {
        method: 'POST',
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('run_not_finished');
    });
  });
}

describe('actions behind a token', () => {
  it('answer 401 without it', async () => {
    const { store, cleanup } = await tempStore('sqlite');
    const api = await startApi({ store, ui: false, token: 'sesame' });
    try {
      for (const path of ['/api/runs', '/api/runs/run_x/retry', '/api/runs/run_x/rerun']) {
        const res = await api.request<ErrorResponse>(path, {
          method: 'POST',
          body: { definition: 'report', nodes: ['check'] },
        });
        expect(res.status, path).toBe(401);
        expect(res.body.code).toBe('unauthorized');
      }
    } finally {
      await api.close();
      await cleanup();
    }
  });
});

describe('listening without a token', () => {
  it('refuses any address but loopback', async () => {
    const { store, cleanup } = await tempStore('sqlite');
    const server = createServer({ store, ui: false });
    try {
      await expect(server.listen(0, '0.0.0.0')).rejects.toThrow(/without a token/);
      const withToken = createServer({ store, ui: false, token: 't' });
      await withToken.listen(0, '0.0.0.0');
      await withToken.close();
    } finally {
      await server.close();
      await cleanup();
    }
  });
});
