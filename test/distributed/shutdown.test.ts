// `weft worker` shutdown, with real processes on Postgres: the first SIGTERM lets running
// steps finish (up to --grace) and exits 0; a second one aborts them and hands them back.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/engine/index.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { patient, slow } from '../fixtures/distributed/work.js';
import { testDatabase } from '../support/postgres.js';
import { execDir, executions, startWorker, until } from './helpers.js';

const exec = execDir();
let db: Awaited<ReturnType<typeof testDatabase>>;
let store: PostgresStore;
let client: Engine;

beforeAll(async () => {
  db = await testDatabase(inject('weftPostgresUrl'), 'shutdown');
  store = await PostgresStore.connect(db.url);
  // Submits runs; the workers under test run them.
  client = new Engine({ store, definitions: [slow, patient], worker: false });
  await client.start();
});

afterAll(async () => {
  await client?.stop();
  await store?.close();
  await db?.drop();
  exec.cleanup();
});

const env = { WEFT_TEST_EXEC_DIR: exec.dir };

/** Waits until a worker has started a step of `runId`. */
async function started(runId: string): Promise<void> {
  await until('the step to start', () =>
    executions(exec.dir).some((e) => e.runId === runId && e.phase === 'start') ? true : undefined,
  );
}

/** Submits a `slow` run of `ms` and waits until a worker has started its step. */
async function startSlow(ms: number): Promise<string> {
  const run = await client.submit(slow, { params: { ms } });
  await started(run.id);
  return run.id;
}

describe('weft worker --health-port', () => {
  it('answers /health and /metrics while the worker runs, and stops with it', async () => {
    const worker = await startWorker(
      db.url,
      ['--lease', '2s', '--poll', '100ms', '--health-port', '0', '--health-host', '127.0.0.1'],
      env,
    );
    const [, url] = /, health on (http:\/\/127\.0\.0\.1:\d+)\/health$/m.exec(worker.stdout())!;
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, worker: worker.id, state: 'running' });

    const run = await client.submit(slow, { params: { ms: 10 } });
    expect((await client.wait(run.id)).status).toBe('succeeded');
    const metrics = await until('the run counted', async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return text.includes('\nweft_worker_runs_total{status="succeeded"} 1\n') ? text : undefined;
    });
    expect(metrics).toContain(`weft_worker_info{worker="${worker.id}"} 1\n`);
    expect(metrics).toContain('\nweft_worker_up 1\n');
    expect(metrics).toContain('\nweft_worker_steps_total{status="succeeded"} 1\n');

    worker.signal('SIGTERM');
    expect((await worker.done).code).toBe(0);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });
});

describe('weft worker shutdown', () => {
  it('first SIGTERM: the running step finishes and is recorded, exit 0', async () => {
    const worker = await startWorker(db.url, ['--lease', '2s', '--poll', '100ms'], env);
    const runId = await startSlow(1500);
    worker.signal('SIGTERM');
    await worker.waitFor(
      /^stopping: finishing 1 running step \(grace 30s\); send SIGTERM again to abort$/m,
    );
    const result = await worker.done;
    expect(result.code, result.stderr).toBe(0);

    expect((await store.getRun(runId))?.status).toBe('succeeded');
    const attempts = await store.listAttempts(runId);
    expect(attempts.map((a) => [a.status, a.workerId])).toEqual([['succeeded', worker.id]]);
    const ran = executions(exec.dir).filter((e) => e.runId === runId);
    expect(ran.map((e) => e.phase)).toEqual(['start', 'end']);
    // The worker said goodbye: no row of it is left for the reaper.
    expect((await store.listWorkers()).map((w) => w.id)).not.toContain(worker.id);
  });

  it('second SIGTERM: the running step is aborted and handed back, exit 143', async () => {
    const worker = await startWorker(db.url, ['--lease', '2s', '--poll', '100ms'], env);
    const runId = await startSlow(60_000);
    worker.signal('SIGTERM');
    await worker.waitFor(/^stopping: finishing 1 running step/m);
    worker.signal('SIGTERM');
    const result = await worker.done;
    expect(result.code, result.stderr).toBe(143);
    expect(result.stderr).toMatch(/^aborting: handing back 1 running step$/m);

    // Back in the queue at once (not at lease expiry), its attempt closed as interrupted.
    const [step] = await store.listSteps(runId);
    expect(step).toMatchObject({ status: 'queued', leaseOwner: null, attempt: 1 });
    const attempts = await store.listAttempts(runId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ workerId: worker.id });
    expect(['interrupted', 'cancelled']).toContain(attempts[0]!.status);
    expect(executions(exec.dir).filter((e) => e.runId === runId && e.phase === 'end')).toEqual([]);
    await client.cancel(runId);
  });

  it('grace over: the steps still running are handed back, exit 0', async () => {
    const worker = await startWorker(
      db.url,
      ['--lease', '2s', '--poll', '100ms', '--grace', '300ms'],
      env,
    );
    const pipelineRun = await startSlow(60_000);
    const workflowRun = (await client.submit(patient, { params: { ms: 60_000 } })).id;
    await started(workflowRun);
    worker.signal('SIGTERM');
    await worker.waitFor(/^stopping: finishing 2 running steps \(grace 300ms\)/m);
    const result = await worker.done;
    expect(result.code, result.stderr).toBe(0);

    // Neither the node nor the workflow failed: both are queued again for another worker.
    for (const [runId, key] of [
      [pipelineRun, 'long'],
      [workflowRun, '$run'],
    ] as const) {
      expect((await store.getRun(runId))?.status, runId).not.toBe('failed');
      const held = (await store.listSteps(runId)).find((s) => s.key === key);
      expect(held, runId).toMatchObject({ status: 'queued', leaseOwner: null });
      const attempts = await store.listAttempts(runId);
      expect(
        attempts.filter((a) => a.status === 'failed'),
        runId,
      ).toEqual([]);
      await client.cancel(runId);
    }
  });
});
