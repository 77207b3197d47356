/**
 * A child process of the peer benchmark (`run.ts`), forked with an IPC channel. Its first
 * message says what to be:
 *
 * - `enqueue`: queue `n` no-op tasks, answer `enqueued` with the time it took, exit;
 * - `worker`: prepare a drain worker, answer `ready`; on `start` consume, reporting finished
 *   tasks in `progress` messages (counts since the last one); on `stop` stop and exit;
 * - `local`: run one of workloads 2–5 (caller and worker in this process), answer `measured`.
 */
import { peers } from './adapters/index.js';
import { inFlight, wallNow, type Local, type PeerConfig } from './adapter.js';

export interface LocalPlan {
  reps: number;
  warmup: number;
  /** Workload 2: round trips per repetition. */
  roundTrips: number;
  /** Workload 3: runs per repetition (10 in flight), and runs alone per repetition. */
  workflowRuns: number;
  aloneRuns: number;
  /** Workload 4: runs per repetition. */
  fanRuns: number;
  /** Most time one repetition's sampling may take before it stops early, ms. */
  budgetMs: number;
}

export type Job =
  | { role: 'enqueue'; peer: string; config: PeerConfig; n: number }
  | { role: 'worker'; peer: string; config: PeerConfig }
  | { role: 'local'; peer: string; config: PeerConfig; workload: number; plan: LocalPlan };

export interface Measured {
  /** Per repetition, by metric name. */
  values: Record<string, number[]>;
  notes: string[];
}

const send = (message: unknown) =>
  new Promise<void>((resolve) => {
    if (process.send) process.send(message, () => resolve());
    else resolve();
  });

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

/** Calls `fn` up to `count` times in sequence, stopping early past the budget. */
async function sampled(
  count: number,
  budgetMs: number,
  fn: () => Promise<void>,
): Promise<{ done: number; early: boolean }> {
  const t0 = performance.now();
  let done = 0;
  while (done < count) {
    await fn();
    done++;
    if (performance.now() - t0 > budgetMs && done < count) return { done, early: true };
  }
  return { done, early: false };
}

async function measureLocal(local: Local, workload: number, plan: LocalPlan): Promise<Measured> {
  const values: Record<string, number[]> = {};
  const notes: string[] = [];
  const put = (name: string, value: number) => (values[name] ??= []).push(value);
  const timed = async (fn: () => Promise<void>) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  switch (workload) {
    case 2: {
      for (let i = 0; i < plan.warmup * 10; i++) await local.roundTrip();
      for (let r = 0; r < plan.reps; r++) {
        const starts: number[] = [];
        const results: number[] = [];
        const run = await sampled(plan.roundTrips, plan.budgetMs, async () => {
          const trip = await local.roundTrip();
          starts.push(trip.start);
          results.push(trip.result);
        });
        if (run.early) notes.push(`rep ${r + 1}: stopped after ${run.done} round trips (budget)`);
        for (const p of [50, 95, 99]) {
          put(`start p${p}`, percentile(starts, p));
          put(`result p${p}`, percentile(results, p));
        }
      }
      break;
    }
    case 3: {
      for (let i = 0; i < plan.warmup * 5; i++) await local.workflow10();
      for (let r = 0; r < plan.reps; r++) {
        const ms = await timed(() => inFlight(plan.workflowRuns, 10, () => local.workflow10()));
        put('runs/s', (plan.workflowRuns * 1000) / ms);
        put('steps/s', (plan.workflowRuns * 10 * 1000) / ms);
        const alone: number[] = [];
        const run = await sampled(plan.aloneRuns, plan.budgetMs, async () => {
          alone.push(await timed(() => local.workflow10()));
        });
        if (run.early) notes.push(`rep ${r + 1}: ${run.done} runs alone (budget)`);
        put('alone p50', percentile(alone, 50));
      }
      break;
    }
    case 4: {
      for (let i = 0; i < plan.warmup; i++) await local.fan();
      for (let r = 0; r < plan.reps; r++) {
        const times: number[] = [];
        const run = await sampled(plan.fanRuns, plan.budgetMs, async () => {
          times.push(await timed(() => local.fan()));
        });
        if (run.early) notes.push(`rep ${r + 1}: ${run.done} runs (budget)`);
        put('p50 per run', percentile(times, 50));
      }
      break;
    }
    case 5: {
      for (let i = 0; i < plan.warmup; i++) await local.seq40();
      for (let r = 0; r < plan.reps; r++) put('total', await timed(() => local.seq40()));
      break;
    }
    default:
      throw new Error(`no local workload ${workload}`);
  }
  return { values, notes };
}

async function main(job: Job): Promise<void> {
  const peer = peers.find((p) => p.id === job.peer);
  if (!peer) throw new Error(`unknown peer ${job.peer}`);
  if (job.role === 'enqueue') {
    const result = await peer.enqueue(job.config, job.n);
    await send({ type: 'enqueued', ...result });
    process.exit(0);
  }
  if (job.role === 'local') {
    const local = await peer.local(job.config);
    const measured = await measureLocal(local, job.workload, job.plan);
    await local.close();
    await send({ type: 'measured', ...measured });
    process.exit(0);
  }
  const worker = await peer.worker(job.config);
  let pending = 0;
  let last = 0;
  const flush = () => {
    if (pending === 0) return;
    void send({ type: 'progress', count: pending, at: last });
    pending = 0;
  };
  const timer = setInterval(flush, 5);
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      clearInterval(timer);
      flush();
      await worker.stop();
      await send({ type: 'stopped' });
      process.exit(0);
    })());
  process.on('disconnect', () => void stop());
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stop') void stop();
    if (message.type === 'start') {
      void worker
        .start(() => {
          pending++;
          last = wallNow();
          if (pending >= 200) flush();
        })
        .then(() => send({ type: 'started' }));
    }
  });
  await send({ type: 'ready' });
}

process.once('message', (job: Job) => {
  main(job).catch(async (error: unknown) => {
    await send({ type: 'error', message: error instanceof Error ? error.stack : String(error) });
    process.exit(1);
  });
});
