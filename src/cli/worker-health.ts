/**
 * `weft worker --health-port`: what a supervisor and a metrics scraper ask a worker.
 *
 * - `GET /health` answers 200 while the worker runs and its heartbeat reached the database
 *   within its lease, and 503 (with the reason) otherwise: a worker that could not record a
 *   heartbeat for a whole lease may have lost its steps to other workers, and one that has
 *   stopped runs nothing. It is what a Kubernetes liveness probe or a process supervisor checks.
 * - `GET /metrics` answers in the Prometheus text format: the worker's state, its running
 *   steps and capacity, the age of its heartbeat, and counters of the steps and runs it saw end.
 *
 * Both answer from memory: a probe never waits on the database.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Engine } from '../engine/engine.js';
import { STEP_STATUSES, RUN_STATUSES } from '../core/states.js';

/** What this module reads of a worker engine. */
export type HealthSource = Pick<
  Engine,
  'workerId' | 'state' | 'activeCount' | 'heartbeatAt' | 'concurrency' | 'leaseMs' | 'on'
> & { clock: { now(): number } };

export interface HealthReport {
  ok: boolean;
  worker: string;
  state: Engine['state'];
  /** Steps running in the worker. */
  running: number;
  concurrency: number;
  /** Milliseconds since the worker last recorded its heartbeat, null before the first. */
  heartbeatAgeMs: number | null;
  leaseMs: number;
  /** Why the worker is not healthy. */
  reason?: string;
}

/** The worker's health as `GET /health` reports it. */
export function healthReport(worker: HealthSource): HealthReport {
  const age = worker.heartbeatAt === null ? null : worker.clock.now() - worker.heartbeatAt;
  const report: HealthReport = {
    ok: false,
    worker: worker.workerId,
    state: worker.state,
    running: worker.activeCount,
    concurrency: worker.concurrency,
    heartbeatAgeMs: age,
    leaseMs: worker.leaseMs,
  };
  if (worker.state !== 'running' && worker.state !== 'stopping') {
    report.reason = `the worker is ${worker.state}`;
  } else if (age === null) {
    report.reason = 'the worker has not recorded a heartbeat yet';
  } else if (age > worker.leaseMs) {
    report.reason =
      `no heartbeat recorded for ${seconds(age)} s, longer than the lease (${seconds(worker.leaseMs)} s): ` +
      'the database may be unreachable, and other workers may take over its steps';
  } else {
    report.ok = true;
  }
  return report;
}

/** Counters of what the worker saw end, fed by its events. */
export class WorkerCounters {
  readonly steps = new Map<string, number>();
  readonly runs = new Map<string, number>();
  retries = 0;

  /** Counts `worker`'s events from now on; returns the function that stops counting. */
  follow(worker: Pick<Engine, 'on'>): () => void {
    return worker.on((event) => {
      if (event.type === 'step') {
        // A step queued again by its own worker with a time to retry at is a retry.
        if (event.status === 'queued' && event.retryAt !== undefined) this.retries++;
        else if (ENDED_STEP.has(event.status)) bump(this.steps, event.status);
      } else if (event.type === 'run' && ENDED_RUN.has(event.status)) {
        bump(this.runs, event.status);
      }
    });
  }
}

const ENDED_STEP = new Set<string>(
  STEP_STATUSES.filter((s) => !['pending', 'queued', 'running'].includes(s)),
);
const ENDED_RUN = new Set<string>(
  RUN_STATUSES.filter((s) => !['queued', 'running', 'waiting'].includes(s)),
);

/** The worker's metrics in the Prometheus text exposition format (version 0.0.4). */
export function metricsText(worker: HealthSource, counters: WorkerCounters): string {
  const health = healthReport(worker);
  const lines: string[] = [];
  const metric = (
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    samples: [labels: string, value: number][],
  ) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  metric('weft_worker_info', 'gauge', 'The worker, by id; always 1.', [
    [`{worker="${label(worker.workerId)}"}`, 1],
  ]);
  metric(
    'weft_worker_up',
    'gauge',
    '1 while the worker runs and its heartbeat reached the database within its lease.',
    [['', health.ok ? 1 : 0]],
  );
  metric('weft_worker_steps_running', 'gauge', 'Steps running in the worker.', [
    ['', worker.activeCount],
  ]);
  metric('weft_worker_concurrency', 'gauge', 'Most steps the worker runs at once.', [
    ['', worker.concurrency],
  ]);
  if (health.heartbeatAgeMs !== null) {
    metric(
      'weft_worker_heartbeat_age_seconds',
      'gauge',
      'Seconds since the worker last recorded its heartbeat in the database.',
      [['', health.heartbeatAgeMs / 1000]],
    );
  }
  metric(
    'weft_worker_steps_total',
    'counter',
    'Steps the worker saw end, by how they ended.',
    [...ENDED_STEP].map((s) => [`{status="${s}"}`, counters.steps.get(s) ?? 0]),
  );
  metric(
    'weft_worker_step_retries_total',
    'counter',
    'Step attempts that failed and were queued to run again.',
    [['', counters.retries]],
  );
  metric(
    'weft_worker_runs_total',
    'counter',
    'Runs the worker saw end, by how they ended.',
    [...ENDED_RUN].map((s) => [`{status="${s}"}`, counters.runs.get(s) ?? 0]),
  );
  return `${lines.join('\n')}\n`;
}

/**
 * Serves `/health` and `/metrics` for `worker` on `host`:`port` (0: a free port). Resolves with
 * the server once it listens; rejects if it cannot (the port taken, the address unknown).
 */
export async function serveHealth(
  worker: HealthSource,
  counters: WorkerCounters,
  host: string,
  port: number,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(
        res,
        405,
        'application/json',
        json('method_not_allowed', `${req.method} is not served here; use GET`),
        {
          allow: 'GET, HEAD',
        },
      );
    } else if (path === '/health') {
      const report = healthReport(worker);
      send(res, report.ok ? 200 : 503, 'application/json', JSON.stringify(report));
    } else if (path === '/metrics') {
      send(res, 200, 'text/plain; version=0.0.4', metricsText(worker, counters));
    } else {
      send(
        res,
        404,
        'application/json',
        json('not_found', `no ${path} here: use /health or /metrics`),
      );
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

function json(code: string, message: string): string {
  return JSON.stringify({ code, message });
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** A label value as the exposition format writes it. */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms < 10_000 ? 1 : 0);
}
