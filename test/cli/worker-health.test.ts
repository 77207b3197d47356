// What `weft worker --health-port` answers, from a worker's state (no process, no database).
import { describe, expect, it } from 'vitest';
import type { EngineEvent, EngineListener } from '../../src/engine/events.js';
import {
  healthReport,
  metricsText,
  serveHealth,
  WorkerCounters,
  type HealthSource,
} from '../../src/cli/worker-health.js';

/** A worker's state as the health endpoint reads it, with a clock the test sets. */
function fakeWorker(over: Partial<HealthSource> = {}) {
  const listeners = new Set<EngineListener>();
  const clock = { at: 100_000, now: () => clock.at };
  const worker: HealthSource & { emit(e: EngineEvent): void } = {
    workerId: 'wkr_1',
    state: 'running',
    activeCount: 3,
    heartbeatAt: 95_000,
    concurrency: 16,
    leaseMs: 30_000,
    clock,
    on: (l) => (listeners.add(l), () => void listeners.delete(l)),
    emit: (e) => listeners.forEach((l) => l(e)),
    ...over,
  };
  return { worker, clock };
}

describe('worker health', () => {
  it('is ok while the heartbeat is recorded within the lease', () => {
    const { worker, clock } = fakeWorker();
    expect(healthReport(worker)).toEqual({
      ok: true,
      worker: 'wkr_1',
      state: 'running',
      running: 3,
      concurrency: 16,
      heartbeatAgeMs: 5_000,
      leaseMs: 30_000,
    });
    clock.at = 95_000 + 30_000;
    expect(healthReport(worker).ok).toBe(true);
    clock.at += 1;
    const late = healthReport(worker);
    expect(late.ok).toBe(false);
    expect(late.reason).toBe(
      'no heartbeat recorded for 30 s, longer than the lease (30 s): the database may be unreachable, and other workers may take over its steps',
    );
  });

  it('is not ok before the first heartbeat, nor once the worker stopped', () => {
    expect(healthReport(fakeWorker({ heartbeatAt: null, state: 'created' }).worker)).toMatchObject({
      ok: false,
      reason: 'the worker is created',
      heartbeatAgeMs: null,
    });
    expect(healthReport(fakeWorker({ heartbeatAt: null }).worker)).toMatchObject({
      ok: false,
      reason: 'the worker has not recorded a heartbeat yet',
    });
    expect(healthReport(fakeWorker({ state: 'stopping' }).worker).ok).toBe(true);
    expect(healthReport(fakeWorker({ state: 'stopped' }).worker)).toMatchObject({
      ok: false,
      reason: 'the worker is stopped',
    });
  });

  it('counts the steps and runs it saw end, and writes them for Prometheus', () => {
    const { worker } = fakeWorker({ workerId: 'wkr_"q"' });
    const counters = new WorkerCounters();
    const stop = counters.follow(worker);
    const step = (status: 'running' | 'succeeded' | 'failed' | 'queued', retryAt?: number) =>
      worker.emit({
        type: 'step',
        runId: 'r',
        step: 's',
        node: 's',
        status,
        attempt: 1,
        at: 0,
        ...(retryAt !== undefined ? { retryAt } : {}),
      });
    step('running');
    step('succeeded');
    step('succeeded');
    step('queued', 5);
    step('failed');
    worker.emit({ type: 'run', runId: 'r', definition: 'd', status: 'succeeded', at: 0 });
    worker.emit({ type: 'run', runId: 'r', definition: 'd', status: 'running', at: 0 });
    stop();
    step('succeeded'); // no longer counted
    const text = metricsText(worker, counters);
    const samples = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(samples).toEqual([
      'weft_worker_info{worker="wkr_\\"q\\""} 1',
      'weft_worker_up 1',
      'weft_worker_steps_running 3',
      'weft_worker_concurrency 16',
      'weft_worker_heartbeat_age_seconds 5',
      'weft_worker_steps_total{status="succeeded"} 2',
      'weft_worker_steps_total{status="failed"} 1',
      'weft_worker_steps_total{status="cancelled"} 0',
      'weft_worker_steps_total{status="skipped"} 0',
      'weft_worker_steps_total{status="cached"} 0',
      'weft_worker_step_retries_total 1',
      'weft_worker_runs_total{status="succeeded"} 1',
      'weft_worker_runs_total{status="failed"} 0',
      'weft_worker_runs_total{status="cancelled"} 0',
    ]);
    // Every metric has its HELP and TYPE before its samples.
    expect(text).toMatch(
      /# HELP weft_worker_up .+\n# TYPE weft_worker_up gauge\nweft_worker_up 1\n/,
    );
    expect(text).toContain('# TYPE weft_worker_steps_total counter\n');
  });

  it('serves /health (200 or 503), /metrics, and a JSON error elsewhere', async () => {
    const { worker, clock } = fakeWorker();
    const server = await serveHealth(worker, new WorkerCounters(), '127.0.0.1', 0);
    const { port } = server.address() as { port: number };
    const get = (path: string, method = 'GET') =>
      fetch(`http://127.0.0.1:${port}${path}`, { method });
    try {
      const ok = await get('/health');
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe('application/json');
      expect(await ok.json()).toMatchObject({ ok: true, worker: 'wkr_1' });
      clock.at += 60_000;
      const down = await get('/health?verbose=1');
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ ok: false, heartbeatAgeMs: 65_000 });
      const metrics = await get('/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4');
      expect(await metrics.text()).toContain('\nweft_worker_up 0\n');
      const missing = await get('/nope');
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({
        code: 'not_found',
        message: 'no /nope here: use /health or /metrics',
      });
      const posted = await get('/health', 'POST');
      expect(posted.status).toBe(405);
      expect(posted.headers.get('allow')).toBe('GET, HEAD');
      expect(await posted.json()).toEqual({
        code: 'method_not_allowed',
        message: 'POST is not served here; use GET',
      });
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});
