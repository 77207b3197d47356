/**
 * The Postgres store: the shared conformance suite, on a real Postgres (see
 * test/support/postgres.ts), plus what only Postgres has. This file gets a database of its own;
 * each test a fresh schema in it, as each SQLite test gets a fresh file.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { encode } from '../../src/core/codec.js';
import { StoreVersionError } from '../../src/core/errors.js';
import { describeStoreConformance } from '../../src/store/contract/conformance.js';
import { describeScheduleConformance } from '../../src/store/contract/conformance-schedules.js';
import { describePartitionConformance } from '../../src/store/contract/conformance-partitions.js';
import type { NewRun } from '../../src/store/contract/types.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { shippedMigrations } from '../../src/store/postgres/pg-migrate.js';
import { Notifier } from '../../src/store/postgres/pg-notify.js';
import { WORK_CHANNEL } from '../../src/store/postgres/pg-statements.js';
import { testDatabase } from '../support/postgres.js';
import { createRaceRun, expectRaceClaimedOnce } from '../support/claim-race.js';

const run = promisify(execFile);

const storeModule = fileURLToPath(new URL('../../src/store/postgres/index.ts', import.meta.url));
/**
 * A child process: `migrate` connects (migrating) to a fresh schema per round; `work` claims
 * and completes until the run is done.
 */
const childScript = `
import { readdirSync, writeFileSync } from 'node:fs';
import { PostgresStore } from ${JSON.stringify(storeModule)};
const [mode, url, schema, barrier, me, total] = process.argv.slice(2);
/** Waits until every process has reached point \`name\`. */
async function together(name) {
  writeFileSync(barrier + '/' + name + '.' + me, '');
  const mine = (f) => f.startsWith(name + '.');
  while (readdirSync(barrier).filter(mine).length < Number(total)) {
    await new Promise((r) => setTimeout(r, 1));
  }
}
if (mode === 'migrate') {
  for (let round = 0; round < 4; round++) {
    await together('round' + round);
    const store = await PostgresStore.connect(url, { schema: schema + '_' + round });
    await store.close();
  }
  process.exit(0);
}
const store = await PostgresStore.connect(url, { schema });
await together('start');
const claimed = [];
const deadline = Date.now() + 20_000;
while (Date.now() < deadline) {
  const got = await store.claimSteps({ workerId: me, limit: 2, now: Date.now(), leaseMs: 60_000 });
  for (const c of got) {
    claimed.push(c.key);
    const r = await store.completeStep({ runId: c.runId, key: c.key, attempt: c.attempt, workerId: me, output: '1', now: Date.now() });
    if (!r.applied) throw new Error('refused ' + c.key);
  }
  if (got.length === 0 && (await store.getRun('run_race'))?.status === 'succeeded') break;
  await new Promise((r) => setTimeout(r, 1));
}
await store.close();
process.stdout.write(JSON.stringify(claimed));
`;

let database: { url: string; drop: () => Promise<void> };
beforeAll(async () => {
  database = await testDatabase(inject('weftPostgresUrl'), 'store');
});
afterAll(async () => {
  await database.drop();
});

let schemas = 0;
let lastSchema = '';
function freshSchema(): string {
  return (lastSchema = `t${++schemas}`);
}

const openStore = async () => PostgresStore.connect(database.url, { schema: freshSchema() });
const conformance = {
  // A second pool on the same schema: another process, as far as Postgres can tell.
  openSecond: async () => PostgresStore.connect(database.url, { schema: lastSchema }),
};
describeStoreConformance('postgres', openStore, (store) => store.close(), conformance);
describeScheduleConformance('postgres', openStore, (store) => store.close(), conformance);
describePartitionConformance('postgres', openStore, (store) => store.close(), conformance);

describe('PostgresStore specifics', () => {
  const allVersions = shippedMigrations().map((m) => m.version);

  async function query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** A pipeline run `id` created at `at`. */
  const baseRun = (id: string, at: number): NewRun => ({
    id,
    kind: 'pipeline',
    definition: 'd',
    input: '{}',
    outputs: [],
    trigger: 't',
    createdAt: at,
  });

  /** Creates the one-node pipeline run `id` (its step `a`) at `at`. */
  const oneNodeRun = (store: PostgresStore, id: string, at: number, extra: Partial<NewRun> = {}) =>
    store.createRun({ ...baseRun(id, at), ...extra }, [{ key: 'a', node: 'a', dependsOn: [] }]);

  async function versions(schema: string): Promise<number[]> {
    const rows = await query<{ version: number }>(
      `SELECT version FROM "${schema}".weft_migrations ORDER BY version`,
    );
    return rows.map((r) => r.version);
  }

  it('migrates on connect; migrating again is a no-op', async () => {
    const schema = freshSchema();
    const a = await PostgresStore.connect(database.url, { schema });
    await a.migrate();
    await a.close();
    await a.close(); // idempotent
    const b = await PostgresStore.connect(database.url, { schema });
    await b.close();
    expect(await versions(schema)).toEqual(allVersions);
    expect(a.dialect).toBe('postgres');
  });

  it('several pools migrating one database at once apply each migration once', async () => {
    // Several rounds, each on a fresh schema, to give a race many chances to show.
    for (let round = 0; round < 5; round++) {
      const schema = freshSchema();
      const stores = await Promise.all(
        Array.from({ length: 4 }, () => PostgresStore.connect(database.url, { schema })),
      );
      await Promise.all(stores.map((s) => s.close()));
      expect(await versions(schema)).toEqual(allVersions);
    }
  });

  it('refuses a database migrated by a newer Weft', async () => {
    const schema = freshSchema();
    await (await PostgresStore.connect(database.url, { schema })).close();
    await query(
      `INSERT INTO "${schema}".weft_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
      [999, '0999_future.sql', Date.now()],
    );
    const error: unknown = await PostgresStore.connect(database.url, { schema }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreVersionError);
    expect((error as StoreVersionError).code).toBe('store_ahead');
    expect((error as Error).message).toMatch(/newer Weft/);
    expect((error as Error).message).toMatch(/[Uu]pgrade/);
  });

  it('a repeated single-statement createRun (a reply lost, the insert sent again) returns the run', async () => {
    const store = await PostgresStore.connect(database.url, { schema: freshSchema() });
    try {
      const run = {
        id: 'run_again',
        kind: 'pipeline' as const,
        definition: 'd',
        input: '{}',
        outputs: [],
        trigger: 't',
        createdAt: Date.UTC(2026, 0, 1),
      };
      const steps = [{ key: 'a', node: 'a', dependsOn: [] }];
      const first = await store.createRun(run, steps);
      // What the pool's retry after a lost reply does: the same insert, whose id is taken.
      const again = await store.createRun(run, steps);
      expect(again).toEqual({ run: first.run, created: true, claimed: [] });
      expect((await store.listSteps('run_again')).map((s) => s.key)).toEqual(['a']);
    } finally {
      await store.close();
    }
  });

  it('reads times as numbers', async () => {
    const store = await PostgresStore.connect(database.url, { schema: freshSchema() });
    try {
      const at = Date.UTC(2026, 0, 1);
      const { run } = await oneNodeRun(store, 'run_1', at);
      expect(run.createdAt).toBe(at);
      const [step] = await store.listSteps('run_1');
      expect(step?.availableAt).toBe(at);
      expect(typeof step?.queuedAt).toBe('number');
    } finally {
      await store.close();
    }
  });

  it('returns a run finished by a batch of results only where its waiter asked for it', async () => {
    const store = await PostgresStore.connect(database.url, { schema: freshSchema() });
    try {
      const now = Date.UTC(2026, 0, 1);
      for (const id of ['run_a', 'run_b', 'run_c']) {
        await oneNodeRun(store, id, now, {
          input: '{"day":"2026-01-01"}',
          tags: ['x', 'with space'],
        });
      }
      const claimed = await store.claimSteps({ workerId: 'w', limit: 3, now, leaseMs: 60_000 });
      expect(claimed).toHaveLength(3);
      const results = await store.completeSteps(
        claimed.map((c, n) => ({
          runId: c.runId,
          key: c.key,
          attempt: c.attempt,
          workerId: 'w',
          output: '1',
          now: now + 5,
          mayFinish: true,
          ...(n !== 1 ? { returnRun: true } : {}),
        })),
      );
      expect(results.map((r) => [r.runStatus, r.finishedRun !== undefined])).toEqual([
        ['succeeded', true],
        ['succeeded', false],
        ['succeeded', true],
      ]);
      for (const [n, c] of claimed.entries()) {
        if (n !== 1) expect(results[n]!.finishedRun, c.runId).toEqual(await store.getRun(c.runId));
      }
    } finally {
      await store.close();
    }
  });

  describe('compact runs: a run of one plain step holds it in its own row', () => {
    const withStore = async (fn: (store: PostgresStore, schema: string) => Promise<void>) => {
      const schema = freshSchema();
      const store = await PostgresStore.connect(database.url, { schema });
      try {
        await fn(store, schema);
      } finally {
        await store.close();
      }
    };
    const rowsOf = async (schema: string, id: string) => ({
      steps: Number(
        (
          await query<{ n: string }>(
            `SELECT count(*) AS n FROM "${schema}".steps WHERE run_id = $1`,
            [id],
          )
        )[0]!.n,
      ),
      compact:
        (
          await query<{ step_key: string | null }>(
            `SELECT step_key FROM "${schema}".runs WHERE id = $1`,
            [id],
          )
        )[0]!.step_key !== null,
    });

    it('is enqueued, claimed and finished without a row of steps, and reads as one step', () =>
      withStore(async (store, schema) => {
        const now = Date.UTC(2026, 0, 1);
        await oneNodeRun(store, 'run_c', now);
        await store.createRuns([
          {
            run: { ...baseRun('run_b1', now) },
            steps: [{ key: 'a', node: 'a', dependsOn: [] }],
          },
          // Two steps, labels, another priority than the run's: a row of steps each.
          {
            run: baseRun('run_b2', now),
            steps: [
              { key: 'a', node: 'a', dependsOn: [] },
              { key: 'b', node: 'b', dependsOn: ['a'] },
            ],
          },
          {
            run: baseRun('run_b3', now),
            steps: [{ key: 'a', node: 'a', dependsOn: [], labels: ['gpu'] }],
          },
          {
            run: baseRun('run_b4', now),
            steps: [{ key: 'a', node: 'a', dependsOn: [], priority: 3 }],
          },
        ]);
        expect(await rowsOf(schema, 'run_c')).toEqual({ steps: 0, compact: true });
        expect(await rowsOf(schema, 'run_b1')).toEqual({ steps: 0, compact: true });
        expect(await rowsOf(schema, 'run_b2')).toEqual({ steps: 2, compact: false });
        expect(await rowsOf(schema, 'run_b3')).toEqual({ steps: 1, compact: false });
        expect(await rowsOf(schema, 'run_b4')).toEqual({ steps: 1, compact: false });
        const [queued] = await store.listSteps('run_c');
        expect(queued).toMatchObject({
          runId: 'run_c',
          key: 'a',
          node: 'a',
          status: 'queued',
          attempt: 0,
          availableAt: now,
          queuedAt: now,
          startedAt: null,
          kind: 'node',
          origin: 'run',
        });
        const claimed = await store.claimSteps({
          workerId: 'w',
          limit: 1,
          now: now + 5,
          leaseMs: 1_000,
          runId: 'run_c',
        });
        expect(claimed).toEqual([
          expect.objectContaining({
            runId: 'run_c',
            key: 'a',
            attempt: 1,
            leaseExpiresAt: now + 1_005,
          }),
        ]);
        expect(await store.getStep('run_c', 'a')).toMatchObject({
          status: 'running',
          leaseOwner: 'w',
          startedAt: now + 5,
        });
        expect((await store.getRun('run_c'))!.status).toBe('running');
        expect(await store.countRunningByWorker()).toEqual(new Map([['w', 1]]));
        expect(await store.renewLeases('w', [{ runId: 'run_c', key: 'a' }], now + 9_000)).toEqual(
          [],
        );
        expect(await store.renewLeases('v', [{ runId: 'run_c', key: 'a' }], now + 9_000)).toEqual([
          { runId: 'run_c', key: 'a' },
        ]);
        expect((await store.getStep('run_c', 'a'))!.leaseExpiresAt).toBe(now + 9_000);
        const done = await store.completeStep({
          runId: 'run_c',
          key: 'a',
          attempt: 1,
          workerId: 'w',
          output: '42',
          now: now + 10,
          mayFinish: true,
        });
        expect(done).toMatchObject({ applied: true, runStatus: 'succeeded' });
        expect(await rowsOf(schema, 'run_c')).toEqual({ steps: 0, compact: true });
        expect(await store.listSteps('run_c')).toEqual([
          expect.objectContaining({
            status: 'succeeded',
            output: '42',
            attempt: 1,
            leaseOwner: null,
            startedAt: now + 5,
            finishedAt: now + 10,
          }),
        ]);
        expect(await store.getOutputs('run_c', ['a', 'b'])).toEqual(new Map([['a', '42']]));
        expect(await store.listAttempts('run_c')).toEqual([
          expect.objectContaining({
            attempt: 1,
            status: 'succeeded',
            workerId: 'w',
            startedAt: now + 5,
          }),
        ]);
        const run = (await store.getRun('run_c'))!;
        expect([run.status, run.startedAt, run.finishedAt]).toEqual([
          'succeeded',
          now + 5,
          now + 10,
        ]);
        // A result that no longer holds the step is refused.
        expect(
          await store.completeStep({
            runId: 'run_c',
            key: 'a',
            attempt: 1,
            workerId: 'w',
            output: '7',
            now: now + 11,
            mayFinish: true,
          }),
        ).toMatchObject({ applied: false });
        expect((await store.getStep('run_c', 'a'))!.output).toBe('42');
      }));

    it('claims compact runs and steps in one priority order', () =>
      withStore(async (store) => {
        const now = Date.UTC(2026, 0, 1);
        await oneNodeRun(store, 'run_1', now, { priority: 0 });
        await store.createRun({ ...baseRun('run_2', now + 1), priority: 5 }, [
          { key: 'a', node: 'a', dependsOn: [] },
          { key: 'b', node: 'b', dependsOn: [] },
        ]);
        await oneNodeRun(store, 'run_3', now + 2, { priority: 9 });
        await oneNodeRun(store, 'run_4', now + 3, { priority: 5 });
        const order = async (limit: number) =>
          (await store.claimSteps({ workerId: 'w', limit, now: now + 10, leaseMs: 1_000 })).map(
            (c) => `${c.runId}/${c.key}`,
          );
        expect(await order(3)).toEqual(['run_3/a', 'run_2/a', 'run_2/b']);
        expect(await order(3)).toEqual(['run_4/a', 'run_1/a']);
        expect(await order(3)).toEqual([]);
      }));

    it('moves its step to a row of steps for a retry, a lease taken back or a cancellation', () =>
      withStore(async (store, schema) => {
        const now = Date.UTC(2026, 0, 1);
        for (const id of ['run_r', 'run_l', 'run_x']) await oneNodeRun(store, id, now);
        await store.claimSteps({ workerId: 'w', limit: 3, now, leaseMs: 1_000 });
        // A retry.
        const retried = await store.failStep({
          runId: 'run_r',
          key: 'a',
          attempt: 1,
          workerId: 'w',
          error: { name: 'Error', message: 'no' },
          retryAt: now + 50,
          now: now + 10,
          failFast: false,
        });
        expect(retried.applied).toBe(true);
        expect(await rowsOf(schema, 'run_r')).toEqual({ steps: 1, compact: false });
        expect(await store.listSteps('run_r')).toEqual([
          expect.objectContaining({ status: 'queued', attempt: 1, availableAt: now + 50 }),
        ]);
        expect((await store.getRun('run_r'))!.status).toBe('running');
        const [again] = await store.claimSteps({
          workerId: 'w',
          limit: 1,
          now: now + 50,
          leaseMs: 1_000,
        });
        expect(again).toMatchObject({ runId: 'run_r', attempt: 2 });
        // A lease taken back (run_r, claimed again, is held until now + 1_050).
        expect(await store.requeueExpired(now + 1_001)).toBe(2);
        expect(await rowsOf(schema, 'run_l')).toEqual({ steps: 1, compact: false });
        expect(await store.getStep('run_l', 'a')).toMatchObject({ status: 'queued', attempt: 1 });
        expect((await store.listAttempts('run_l')).map((a) => a.status)).toEqual(['interrupted']);
        // A cancellation.
        await store.cancelRun('run_l', now + 1_002, 'test');
        expect((await store.getRun('run_l'))!.status).toBe('cancelled');
        expect((await store.getStep('run_l', 'a'))!.status).toBe('cancelled');
        expect(await store.countRunningByWorker()).toEqual(new Map([['w', 1]]));
      }));
  });

  it('a claim commits without waiting for the disk; the result it leads to waits', async () => {
    const schema = freshSchema();
    // The test server may not wait for the disk by default: this store's connections do.
    const store = await PostgresStore.connect(
      { connectionString: database.url, options: '-c synchronous_commit=on' },
      { schema },
    );
    try {
      // A deferred trigger runs as its transaction commits: it sees the durability the commit
      // will have, whatever the statement set along the way.
      await query(`
        CREATE TABLE "${schema}".commit_modes (status TEXT, mode TEXT);
        CREATE FUNCTION "${schema}".note_mode() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO "${schema}".commit_modes VALUES (NEW.status, current_setting('synchronous_commit'));
          RETURN NULL;
        END $$;
        CREATE CONSTRAINT TRIGGER note_mode AFTER UPDATE ON "${schema}".steps
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "${schema}".note_mode();
        CREATE CONSTRAINT TRIGGER note_mode AFTER UPDATE ON "${schema}".runs
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "${schema}".note_mode();`);
      const now = Date.UTC(2026, 0, 1);
      for (const id of ['run_a', 'run_b']) await oneNodeRun(store, id, now);
      const claimed = await store.claimSteps({ workerId: 'w', limit: 2, now, leaseMs: 60_000 });
      expect(claimed).toHaveLength(2);
      // The modes of the commits since the last call (each run's step is held in the run's row,
      // migration 0009, until something other than a success happens to it).
      const modes = async () => {
        const rows = await query<{ status: string; mode: string }>(
          `DELETE FROM "${schema}".commit_modes RETURNING status, mode`,
        );
        return [...new Set(rows.map((r) => `${r.status} ${r.mode}`))].sort();
      };
      expect(await modes()).toEqual(['running off']);
      // The results: one alone, two at once (each path that records a single task's end).
      const complete = (c: (typeof claimed)[number]) => ({
        runId: c.runId,
        key: c.key,
        attempt: c.attempt,
        workerId: 'w',
        output: '1',
        now,
        mayFinish: true,
      });
      await store.completeStep(complete(claimed[0]!));
      expect(await modes()).toEqual(['succeeded on']);
      const { output: _, mayFinish: __, ...ref } = complete(claimed[1]!);
      await store.failStep({
        ...ref,
        error: { name: 'Error', message: 'no' },
        retryAt: now,
        failFast: false,
      });
      // The run stays running; its step, now a row of `steps`, is queued again.
      expect(await modes()).toEqual(['queued on', 'running on']);
      const [again] = await store.claimSteps({ workerId: 'w', limit: 1, now, leaseMs: 60_000 });
      expect(await modes()).toEqual(['running off']);
      await store.completeSteps([complete(again!)]);
      expect(await modes()).toEqual(['succeeded on']);
    } finally {
      await store.close();
    }
  });

  it('tells other stores of new work and finished runs once the write committed', async () => {
    const schema = freshSchema();
    const writer = await PostgresStore.connect(database.url, { schema });
    const reader = await PostgresStore.connect(database.url, { schema });
    const seen: (string | undefined)[] = [];
    let heard: () => void = () => undefined;
    // Each notice is answered with a read: it finds what the notifying write committed.
    const stop = await reader.subscribe(({ own }) => {
      expect(own).toBe(false);
      void reader.getRun('run_told').then((r) => {
        seen.push(r?.status);
        heard();
      });
    });
    const next = () => new Promise<void>((resolve) => (heard = resolve));
    try {
      const now = Date.UTC(2026, 0, 1);
      let told = next();
      await oneNodeRun(writer, 'run_told', now);
      await told;
      expect(seen).toEqual(['queued']);
      const [a] = await writer.claimSteps({ workerId: 'w', limit: 1, now, leaseMs: 60_000 });
      told = next();
      const done = await writer.completeStep({
        runId: 'run_told',
        key: a!.key,
        attempt: a!.attempt,
        workerId: 'w',
        output: '1',
        now,
        mayFinish: true,
      });
      expect(done.runStatus).toBe('succeeded');
      await told;
      expect(seen).toEqual(['queued', 'succeeded']);
    } finally {
      await stop();
      await reader.close();
      await writer.close();
    }
  });

  it('sends one notification more for all asked while one was being sent', async () => {
    const schema = freshSchema();
    // The schema made by a store; notifications name it as their payload.
    await (await PostgresStore.connect(database.url, { schema })).close();
    const pool = new pg.Pool({
      connectionString: database.url,
      options: `-c search_path=${schema}`,
    });
    const listener = new pg.Client({ connectionString: database.url });
    await listener.connect();
    try {
      const payloads: string[] = [];
      let ended: () => void = () => undefined;
      const end = new Promise<void>((resolve) => (ended = resolve));
      listener.on('notification', (m) => {
        if (m.payload === 'end') ended();
        else payloads.push(m.payload ?? '');
      });
      await listener.query(`LISTEN ${WORK_CHANNEL}`);
      const notifier = new Notifier(pool);
      for (let i = 0; i < 10; i++) notifier.notify();
      await notifier.settled();
      notifier.notify();
      await notifier.settled();
      // Delivered in commit order: once the marker is in, every notification before it is.
      await pool.query('SELECT pg_notify($1, $2)', [WORK_CHANNEL, 'end']);
      await end;
      expect(payloads).toEqual([schema, schema, schema]);
    } finally {
      await listener.end();
      await pool.end();
    }
  });

  /**
   * Runs `count` processes of the child script at once: each waits at a file barrier until all
   * are loaded, so they really do hit the database together. Returns their stdout.
   */
  async function processes(
    count: number,
    mode: 'migrate' | 'work',
    schema: string,
  ): Promise<string[]> {
    const dir = mkdtempSync(join(tmpdir(), 'weft-pg-test-'));
    try {
      const barrier = join(dir, 'barrier');
      mkdirSync(barrier);
      const script = join(dir, 'child.mts');
      writeFileSync(script, childScript);
      const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));
      const results = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          run(process.execPath, [
            tsx,
            script,
            mode,
            database.url,
            schema,
            barrier,
            `p${i}`,
            String(count),
          ]),
        ),
      );
      return results.map((r) => r.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('processes migrating one fresh database at once all succeed, applying each migration once', async () => {
    const schema = freshSchema();
    await processes(4, 'migrate', schema);
    for (let round = 0; round < 4; round++) {
      expect(await versions(`${schema}_${round}`)).toEqual(allVersions);
    }
  });

  it('processes claiming from one database at once never claim a step twice', async () => {
    const schema = freshSchema();
    const store = await PostgresStore.connect(database.url, { schema });
    try {
      await createRaceRun(store);
      const outputs = await processes(4, 'work', schema);
      await expectRaceClaimedOnce(store, outputs);
    } finally {
      await store.close();
    }
  });

  describe('two pools racing', () => {
    let a: PostgresStore;
    let b: PostgresStore;
    beforeAll(async () => {
      const schema = freshSchema();
      a = await PostgresStore.connect(database.url, { schema });
      b = await PostgresStore.connect(database.url, { schema });
    });
    afterAll(async () => {
      await a.close();
      await b.close();
    });

    const T = Date.UTC(2026, 0, 1);
    let ids = 0;
    const newRun = (extra: Partial<NewRun> = {}): NewRun => ({
      id: `race_${String(++ids).padStart(6, '0')}`,
      kind: 'workflow',
      definition: 'wf',
      input: '{}',
      outputs: [],
      trigger: 't',
      createdAt: T,
      ...extra,
    });
    const lease = { leaseMs: 60_000 };

    async function claimedRun(id: string, now: number) {
      const [c] = await a.claimSteps({ workerId: 'w', limit: 1, now, runId: id, ...lease });
      expect(c?.key).toBe('$run');
      return c!;
    }

    it('completions of one run on two pools at once finish it exactly once', async () => {
      for (let round = 0; round < 5; round++) {
        const r = newRun({ kind: 'pipeline', definition: 'p' });
        const keys = Array.from({ length: 12 }, (_, i) => `s${i}`);
        await a.createRun(
          r,
          keys.map((key) => ({ key, node: key, dependsOn: [] })),
        );
        const claimed = await a.claimSteps({
          workerId: 'w',
          limit: 100,
          now: T,
          runId: r.id,
          ...lease,
        });
        expect(claimed).toHaveLength(keys.length);
        const results = await Promise.all(
          claimed.map((c, i) =>
            (i % 2 ? a : b).completeStep({
              runId: c.runId,
              key: c.key,
              attempt: c.attempt,
              workerId: 'w',
              output: '1',
              now: T + 1,
            }),
          ),
        );
        expect(results.every((x) => x.applied)).toBe(true);
        expect((await a.getRun(r.id))?.status).toBe('succeeded');
        expect(await a.listAttempts(r.id)).toHaveLength(keys.length);
      }
    });

    it('a park racing the event it waits for never loses the wake-up', async () => {
      for (let round = 0; round < 20; round++) {
        const r = newRun();
        await a.createRun(r, [{ key: '$run', node: 'wf', dependsOn: [], kind: 'run' }]);
        const c = await claimedRun(r.id, T);
        const type = `ping${round}`;
        await Promise.all([
          a.parkRun({
            runId: r.id,
            workerId: 'w',
            runAttempt: c.attempt,
            now: T + 1,
            wakeAt: null,
            exclude: [],
            waitingFor: {
              kind: 'event',
              entry: 'e',
              event: type,
              key: null,
              match: null,
              since: T,
              until: null,
            },
          }),
          b.sendEvent({ id: `ev_${round}`, type, payload: encode(round), sentAt: T + 1 }),
        ]);
        // Whichever committed first, the run is claimable at once.
        await claimedRun(r.id, T + 2);
      }
    });

    it('a park racing its child finishing never loses the wake-up', async () => {
      for (let round = 0; round < 20; round++) {
        const parent = newRun();
        await a.createRun(parent, [{ key: '$run', node: 'wf', dependsOn: [], kind: 'run' }]);
        const p = await claimedRun(parent.id, T);
        const child = newRun({ parentRunId: parent.id });
        await a.createRun(child, [{ key: '$run', node: 'wf', dependsOn: [], kind: 'run' }]);
        const c = await claimedRun(child.id, T);
        await Promise.all([
          a.parkRun({
            runId: parent.id,
            workerId: 'w',
            runAttempt: p.attempt,
            now: T + 1,
            wakeAt: null,
            waitingFor: { kind: 'child', entry: 'c', childRunId: child.id },
          }),
          b.completeStep({
            runId: child.id,
            key: '$run',
            attempt: c.attempt,
            workerId: 'w',
            output: '1',
            now: T + 1,
          }),
        ]);
        await claimedRun(parent.id, T + 2);
      }
    });
  });
});
