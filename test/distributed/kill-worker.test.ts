// Four `weft worker` processes share one Postgres; one is SIGKILLed in the middle of its work.
// Everything still completes, every result is recorded once, and only the work the killed
// worker had in hand runs again — on the other workers, once its leases have expired.
//
// The worker is frozen (SIGSTOP) before it is killed: on one host the others would notice its
// process is gone and give its steps back at once, and the test is about the path a worker on
// another host takes, where only the expiry of its leases tells.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Engine } from '../../src/engine/index.js';
import type { AttemptRecord, RunRecord } from '../../src/store/contract/types.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { chain, spread } from '../fixtures/distributed/work.js';
import { testDatabase } from '../support/postgres.js';
import { execDir, executions, startWorker, until, type WeftProcess } from './helpers.js';

const PIPELINE_RUNS = 20;
const WIDTH = 100; // 20 runs × 100 fan-out items = 2,000 pipeline nodes
const WORKFLOW_RUNS = 200; // × 3 steps

const exec = execDir();
let db: Awaited<ReturnType<typeof testDatabase>>;
let store: PostgresStore;
let client: Engine;
const workers: (WeftProcess & { id: string })[] = [];

beforeAll(async () => {
  db = await testDatabase(inject('weftPostgresUrl'), 'kill_worker');
  store = await PostgresStore.connect(db.url);
  client = new Engine({ store, definitions: [spread, chain], worker: false });
  await client.start();
});

afterAll(async () => {
  for (const w of workers) w.signal('SIGKILL');
  await Promise.all(workers.map((w) => w.done));
  await client?.stop();
  await store?.close();
  await db?.drop();
  exec.cleanup();
});

describe('four workers, one killed mid-step', () => {
  it('completes everything, records each result once, re-runs only what the dead worker held', async () => {
    const flags = ['--concurrency', '8', '--lease', '2s', '--poll', '50ms'];
    const env = { WEFT_TEST_EXEC_DIR: exec.dir };
    workers.push(...(await Promise.all([0, 1, 2, 3].map(() => startWorker(db.url, flags, env)))));
    const victim = workers[0]!;
    const victimPid = victim.child.pid!;

    const runs: RunRecord[] = [
      ...(await Promise.all(
        Array.from({ length: PIPELINE_RUNS }, () =>
          client.submit(spread, { params: { width: WIDTH, ms: 3 } }),
        ),
      )),
      ...(await Promise.all(
        Array.from({ length: WORKFLOW_RUNS }, (_, n) =>
          client.submit(chain, { params: { n, ms: 2 } }),
        ),
      )),
    ];

    // Frozen once it is well into its share of the work, with steps started and not finished.
    // It may finish them between the look and the signal: then it is let go and caught again.
    const midStep = () => {
      const mine = executions(exec.dir).filter((e) => e.pid === victimPid);
      const started = mine.filter((e) => e.phase === 'start').length;
      const ended = mine.filter((e) => e.phase === 'end').length;
      return started >= 50 && started > ended ? true : undefined;
    };
    await until('the victim to be frozen mid-step', async () => {
      if (!midStep()) return undefined;
      victim.signal('SIGSTOP');
      await new Promise((r) => setTimeout(r, 50));
      if (midStep()) return true;
      victim.signal('SIGCONT');
      return undefined;
    });
    // Its leases expire (--lease 2s) and the survivors' reapers put its steps back in the
    // queue; once its heartbeat is stale too, they remove the worker.
    await until(
      'the frozen worker to be given up',
      async () => ((await store.listWorkers()).some((w) => w.id === victim.id) ? undefined : true),
      20_000,
    );
    victim.signal('SIGKILL');
    expect((await victim.done).signal).toBe('SIGKILL');

    const finished = await until(
      'every run to finish',
      async () => {
        const all = await store.listRuns({ limit: runs.length + 1 });
        return all.every((r) => r.status !== 'queued' && r.status !== 'running') ? all : undefined;
      },
      40_000,
    );
    expect(finished).toHaveLength(runs.length);
    expect(finished.filter((r) => r.status !== 'succeeded')).toEqual([]);
    expect(await client.result(runs[0]!.id)).toMatchObject({ total: WIDTH * (WIDTH + 1) });
    expect(await client.result(runs[PIPELINE_RUNS]!.id)).toBe(3);

    const attempts: AttemptRecord[] = (
      await Promise.all(runs.map((r) => store.listAttempts(r.id)))
    ).flat();
    const ran = executions(exec.dir);

    // Every step that ran has exactly one succeeded attempt: no result recorded twice.
    const succeeded = new Map<string, number>();
    for (const a of attempts) {
      if (a.status !== 'succeeded') continue;
      const id = `${a.runId} ${a.stepKey}`;
      succeeded.set(id, (succeeded.get(id) ?? 0) + 1);
    }
    const executed = new Map<string, typeof ran>();
    for (const e of ran) {
      if (e.phase !== 'start') continue;
      const id = `${e.runId} ${e.step}`;
      executed.set(id, [...(executed.get(id) ?? []), e]);
    }
    expect(executed.size).toBe(PIPELINE_RUNS * WIDTH + WORKFLOW_RUNS * 3);
    expect([...succeeded.values()].filter((n) => n !== 1)).toEqual([]);
    for (const id of executed.keys()) expect(succeeded.get(id), id).toBe(1);

    // Only work the killed worker had in hand ran twice: every step executed more than once
    // was executed by the victim, and never finished there.
    const twice = [...executed].filter(([, list]) => list.length > 1);
    for (const [id, list] of twice) {
      expect(
        list.some((e) => e.pid === victimPid),
        id,
      ).toBe(true);
    }
    const unfinishedByVictim = new Set(
      ran
        .filter((e) => e.pid === victimPid && e.phase === 'start')
        .map((e) => `${e.runId} ${e.step}`)
        .filter(
          (id) =>
            !ran.some(
              (e) => e.pid === victimPid && e.phase === 'end' && `${e.runId} ${e.step}` === id,
            ),
        ),
    );
    expect(unfinishedByVictim.size).toBeGreaterThan(0);
    for (const id of unfinishedByVictim) expect(executed.get(id)!.length, id).toBe(2);

    // The steps the victim held were given back (an interrupted attempt of its own), and their
    // final attempt succeeded on another worker.
    const interrupted = attempts.filter(
      (a) => a.status === 'interrupted' && a.workerId === victim.id,
    );
    expect(interrupted.length).toBeGreaterThan(0);
    const steps = (await Promise.all(runs.map((r) => store.listSteps(r.id)))).flat();
    for (const a of interrupted) {
      expect(a.error?.message).toBe(`the lease of worker ${victim.id} expired`);
      const step = steps.find((s) => s.runId === a.runId && s.key === a.stepKey);
      expect(step?.status, `${a.runId} ${a.stepKey}`).toBe('succeeded');
      // A map step held before it expanded: another worker expanded it, and a map step's own
      // work is its items' (it records no attempt of its own once expanded).
      if (steps.some((s) => s.runId === a.runId && s.parentKey === a.stepKey)) continue;
      const last = attempts
        .filter((b) => b.runId === a.runId && b.stepKey === a.stepKey)
        .sort((x, y) => y.attempt - x.attempt)[0]!;
      expect(last.status, `${a.runId} ${a.stepKey}`).toBe('succeeded');
      expect(last.workerId).not.toBe(victim.id);
      expect(
        workers.slice(1).map((w) => w.id),
        `${a.runId} ${a.stepKey}`,
      ).toContain(last.workerId);
    }
    // Nothing else was interrupted: the survivors lost no lease.
    expect(attempts.filter((a) => a.status === 'interrupted' && a.workerId !== victim.id)).toEqual(
      [],
    );

    // The survivors shut down cleanly.
    for (const w of workers.slice(1)) w.signal('SIGTERM');
    for (const w of workers.slice(1)) expect((await w.done).code, w.stderr()).toBe(0);
  }, 60_000);
});
