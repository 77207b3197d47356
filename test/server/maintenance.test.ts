/**
 * The elected maintenance loop on real stores: one leader among servers sharing a database, a
 * new one when it stops or loses its connection, and the leader's duties (expired leases back
 * to the queue, dead workers removed) moved by a manual clock.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '../../src/core/codec.js';
import { ManualClock } from '../../src/core/clock.js';
import {
  Maintenance,
  type MaintenanceDuty,
  type MaintenanceOptions,
} from '../../src/engine/maintenance.js';
import type { Store } from '../../src/store/contract/index.js';
import { advanceUntil } from '../engine/helpers.js';
import { postgresDatabase, tempStore, type Backend } from './helpers.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function storeFor(backend: Backend) {
  const temp = await tempStore(backend);
  closers.push(temp.cleanup);
  return {
    store: temp.store,
    /** Another process's connection to the same database (closed after the test). */
    other: async (): Promise<Store> => {
      const s = await temp.reopen();
      closers.push(() => s.close());
      return s;
    },
  };
}

async function startMaintenance(options: MaintenanceOptions) {
  const warnings: string[] = [];
  const m = new Maintenance({ warn: (message) => warnings.push(message), ...options });
  await m.start();
  closers.push(() => m.stop());
  return { m, warnings };
}

/** A queued run of one step, claimed by `workerId` with a lease until `now + leaseMs`. */
async function claimedStep(store: Store, workerId: string, now: number, leaseMs: number) {
  const { run } = await store.createRun(
    {
      id: `run_${Math.random().toString(36).slice(2)}`,
      kind: 'pipeline',
      definition: 'p',
      input: encode({}),
      outputs: [],
      trigger: 'test',
      createdAt: now,
    },
    [{ key: 'a', node: 'a', dependsOn: [] }],
  );
  const claimed = await store.claimSteps({ workerId, limit: 1, now, leaseMs });
  expect(claimed).toHaveLength(1);
  return run.id;
}

async function registerWorker(store: Store, id: string, heartbeatAt: number) {
  // This process's pid: a worker row that names a process gone on this host counts as dead at
  // once, whatever its heartbeat.
  await store.upsertWorker({
    id,
    host: 'other-host',
    pid: process.pid,
    startedAt: heartbeatAt,
    heartbeatAt,
    definitions: ['p'],
    labels: [],
  });
}

describe.each(['sqlite', 'postgres'] as const)('maintenance on %s', (backend: Backend) => {
  it('elects exactly one leader; when it stops, another takes over', async () => {
    const { store, other } = await storeFor(backend);
    const clocks = [new ManualClock(), new ManualClock(), new ManualClock()];
    const servers = [
      await startMaintenance({ store, clock: clocks[0], holderId: 'srv_a' }),
      await startMaintenance({ store: await other(), clock: clocks[1], holderId: 'srv_b' }),
      await startMaintenance({ store: await other(), clock: clocks[2], holderId: 'srv_c' }),
    ];
    // Each retries at every interval: still one leader.
    for (const c of clocks) await c.advance(1000);
    const leaders = servers.filter((s) => s.m.isLeader);
    expect(leaders.map((s) => s.m.holderId)).toEqual(['srv_a']);
    expect(servers.map((s) => s.m.state)).toEqual(['leading', 'following', 'following']);

    await servers[0]!.m.stop();
    expect(servers[0]!.m.state).toBe('stopped');
    await advanceUntil(
      clocks[1]!,
      async () => {
        await clocks[2]!.advance(1000);
        return servers.some((s) => s.m.isLeader);
      },
      1000,
      50,
    );
    expect(servers.filter((s) => s.m.isLeader)).toHaveLength(1);
    for (const s of servers) expect(s.warnings).toEqual([]);
  });

  it('requeues a step whose lease expired, and removes a dead worker after giving back its steps', async () => {
    const { store } = await storeFor(backend);
    const clock = new ManualClock();
    const t0 = clock.now();
    await registerWorker(store, 'wkr_live', t0);
    await registerWorker(store, 'wkr_dead', t0 - 10 * 60_000);
    const expiring = await claimedStep(store, 'wkr_live', t0, 5_000);
    const heldByDead = await claimedStep(store, 'wkr_dead', t0, 3_600_000);

    const { m, warnings } = await startMaintenance({
      store,
      clock,
      intervalMs: 1000,
      staleAfterMs: 60_000,
    });
    expect(m.isLeader).toBe(true);
    // The first round ran at start: the dead worker's step is back though its lease runs on.
    expect((await store.getStep(heldByDead, 'a'))?.status).toBe('queued');
    expect((await store.listWorkers()).map((w) => w.id)).toEqual(['wkr_live']);
    expect((await store.getStep(expiring, 'a'))?.status).toBe('running');

    await registerWorker(store, 'wkr_live', t0 + 4_000);
    await advanceUntil(
      clock,
      async () => (await store.getStep(expiring, 'a'))?.status === 'queued',
      1000,
      30,
    );
    expect(clock.now() - t0).toBeGreaterThan(5_000);
    const attempts = await store.listAttempts(expiring);
    expect(attempts).toEqual([expect.objectContaining({ stepKey: 'a', status: 'interrupted' })]);
    // Its worker still beats: it stays.
    expect((await store.listWorkers()).map((w) => w.id)).toEqual(['wkr_live']);
    expect(warnings).toEqual([]);
  });

  it('keeps going through store errors, reporting each once, and runs extra duties', async () => {
    const { store } = await storeFor(backend);
    const clock = new ManualClock();
    let failures = 2;
    // The store as another process sees it while the database is down: its calls fail.
    const requeueExpired: Store['requeueExpired'] = async (now, owners) => {
      if (failures > 0) {
        failures--;
        throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      }
      return store.requeueExpired(now, owners);
    };
    const flaky = new Proxy(store, {
      get(target, prop) {
        if (prop === 'requeueExpired') return requeueExpired;
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    const ticks: number[] = [];
    const tick: MaintenanceDuty = {
      name: 'tick',
      async run({ now }) {
        ticks.push(now);
      },
    };
    const { m, warnings } = await startMaintenance({
      store: flaky,
      clock,
      intervalMs: 1000,
      duties: [tick],
    });
    await advanceUntil(clock, async () => ticks.length >= 4, 1000, 50);
    expect(m.isLeader).toBe(true);
    // Reported once though it failed twice; later duties ran every time regardless.
    expect(warnings).toEqual(['maintenance duty "requeue expired leases" failed (retrying)']);
    expect(failures).toBe(0);
  });
});

describe('maintenance on postgres, losing the connection', () => {
  it('goes back to following when its session ends, and leads again once it can', async () => {
    const { store, other } = await storeFor('postgres');
    const clock = new ManualClock();
    const { m, warnings } = await startMaintenance({ store, clock, holderId: 'srv_cut' });
    expect(m.isLeader).toBe(true);
    const rivalClock = new ManualClock();
    const rival = {
      clock: rivalClock,
      ...(await startMaintenance({
        store: await other(),
        clock: rivalClock,
        holderId: 'srv_rival',
      })),
    };
    expect(rival.m.isLeader).toBe(false);

    const { url } = await postgresDatabase();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'weft srv_cut'`,
      );
      expect(rowCount).toBe(1);
    } finally {
      await admin.end();
    }
    // The lock went with the session: the rival takes it at its next try…
    await advanceUntil(rival.clock, async () => rival.m.isLeader, 1000, 50);
    // …and the cut server, at its next round, finds out and follows.
    await clock.advance(1000);
    expect(m.state).toBe('following');
    expect(m.isLeader).toBe(false);
    expect(warnings).toEqual([
      'lost the maintenance leadership (its database connection ended); trying to lead again',
    ]);
    // It leads again once the rival is gone.
    await rival.m.stop();
    await advanceUntil(clock, async () => m.isLeader, 1000, 50);
    expect(m.isLeader).toBe(true);
  });
});
