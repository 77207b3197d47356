import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreVersionError } from '../../src/core/errors.js';
import { describeStoreConformance } from '../../src/store/contract/conformance.js';
import { describeScheduleConformance } from '../../src/store/contract/conformance-schedules.js';
import { describePartitionConformance } from '../../src/store/contract/conformance-partitions.js';
import type { Store } from '../../src/store/contract/store.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { shippedMigrations } from '../../src/store/sqlite/sqlite-connect.js';
import { migrate } from '../../src/store/sqlite/sqlite-migrate.js';
import {
  NEVER,
  claimCandidatesSql,
  prepareStatements,
} from '../../src/store/sqlite/sqlite-statements.js';
import { createRaceRun, expectRaceClaimedOnce } from '../support/claim-race.js';

const run = promisify(execFile);

const storeModule = fileURLToPath(new URL('../../src/store/sqlite/index.ts', import.meta.url));
/** A child process: `migrate` opens the store; `work` claims and completes until the run is done. */
const childScript = `
import { readdirSync, writeFileSync } from 'node:fs';
import { SqliteStore } from ${JSON.stringify(storeModule)};
const [mode, path, barrier, me, total] = process.argv.slice(2);
/** Waits until every process has reached point \`name\`. */
async function together(name) {
  writeFileSync(barrier + '/' + name + '.' + me, '');
  const mine = (f) => f.startsWith(name + '.');
  while (readdirSync(barrier).filter(mine).length < Number(total)) {
    await new Promise((r) => setTimeout(r, 1));
  }
}
if (mode === 'migrate') {
  // Several rounds, each on its own fresh database, to give a race many chances to show.
  for (let round = 0; round < 8; round++) {
    await together('round' + round);
    const store = SqliteStore.open(path + '.' + round);
    await store.migrate();
    await store.close();
  }
  process.exit(0);
}
// Opened (and migrated) before the barrier, so that all start claiming at once.
const store = SqliteStore.open(path);
await together('start');
const claimed = [];
const deadline = Date.now() + 20_000;
while (mode === 'work' && Date.now() < deadline) {
  const got = await store.claimSteps({ workerId: me, limit: 2, now: Date.now(), leaseMs: 60_000 });
  for (const c of got) {
    claimed.push(c.key);
    const r = await store.completeStep({ runId: c.runId, key: c.key, attempt: c.attempt, workerId: me, output: '1', now: Date.now() });
    if (!r.applied) throw new Error('refused ' + c.key);
  }
  if (got.length === 0 && (await store.getRun('run_race'))?.status === 'succeeded') break;
  // Yield the CPU between batches: on a small machine one process could otherwise do all the
  // work before the others are scheduled, and the race would not happen.
  await new Promise((r) => setTimeout(r, 1));
}
await store.close();
process.stdout.write(JSON.stringify(claimed));
`;

/** Temp folders by store, removed when the store closes. */
const dirs = new Map<Store, string>();
let lastPath = '';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'weft-sqlite-'));
}

async function openStore(): Promise<Store> {
  const dir = tempDir();
  lastPath = join(dir, 'weft.db');
  const store = SqliteStore.open(lastPath);
  dirs.set(store, dir);
  return store;
}

async function closeStore(store: Store): Promise<void> {
  await store.close();
  const dir = dirs.get(store);
  dirs.delete(store);
  if (dir) rmSync(dir, { recursive: true, force: true });
}

const conformance = { openSecond: async () => SqliteStore.open(lastPath) };
describeStoreConformance('sqlite', openStore, closeStore, conformance);
describeScheduleConformance('sqlite', openStore, closeStore, conformance);
describePartitionConformance('sqlite', openStore, closeStore, conformance);

describe('SqliteStore specifics', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    while (cleanup.length) cleanup.pop()!();
  });

  function freshDir(): string {
    const dir = tempDir();
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }
  function freshPath(): string {
    return join(freshDir(), 'nested', 'deeper', 'weft.db');
  }

  const allVersions = shippedMigrations().map((m) => m.version);

  function versions(path: string): number[] {
    const db = new Database(path, { readonly: true });
    try {
      return db
        .prepare('SELECT version FROM weft_migrations ORDER BY version')
        .pluck()
        .all() as number[];
    } finally {
      db.close();
    }
  }

  it('creates the folder, turns WAL on and sets the busy timeout', async () => {
    const path = freshPath();
    const store = SqliteStore.open(path, { busyTimeoutMs: 1234 });
    await store.close();
    const db = new Database(path);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
    expect(store.dialect).toBe('sqlite');
  });

  it('works in memory', async () => {
    const store = SqliteStore.open(':memory:');
    const { created } = await store.createRun(
      {
        id: 'run_1',
        kind: 'pipeline',
        definition: 'd',
        input: '{}',
        outputs: [],
        trigger: 't',
        createdAt: 1,
      },
      [{ key: 'a', node: 'a', dependsOn: [] }],
    );
    expect(created).toBe(true);
    expect((await store.claimSteps({ workerId: 'w', limit: 1, now: 2, leaseMs: 10 })).length).toBe(
      1,
    );
    await store.close();
  });

  it('applying the migrations again is a no-op', async () => {
    const path = freshPath();
    const a = SqliteStore.open(path);
    await a.migrate();
    await a.migrate();
    await a.close();
    const b = SqliteStore.open(path);
    await b.migrate();
    await b.close();
    expect(versions(path)).toEqual(allVersions);
  });

  it('refuses a database migrated by a newer Weft', async () => {
    const path = freshPath();
    await SqliteStore.open(path).close();
    const db = new Database(path);
    db.prepare('INSERT INTO weft_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      999,
      '0999_future.sql',
      Date.now(),
    );
    db.close();
    let error: unknown;
    try {
      SqliteStore.open(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreVersionError);
    expect((error as StoreVersionError).code).toBe('store_ahead');
    expect((error as Error).message).toMatch(/newer Weft/);
    expect((error as Error).message).toMatch(/[Uu]pgrade/);
  });

  /**
   * Runs `count` processes of the child script at once: each waits at a file barrier until all
   * are loaded, so they really do hit the database together. Returns their stdout.
   */
  async function processes(
    count: number,
    mode: 'migrate' | 'work',
    path: string,
  ): Promise<string[]> {
    const dir = freshDir();
    const barrier = join(dir, 'barrier');
    mkdirSync(barrier);
    const script = join(dir, 'child.mts');
    writeFileSync(script, childScript);
    const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));
    const results = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        run(process.execPath, [tsx, script, mode, path, barrier, `p${i}`, String(count)]),
      ),
    );
    return results.map((r) => r.stdout);
  }

  it('processes migrating one fresh database at once all succeed, applying each migration once', async () => {
    const path = join(freshDir(), 'weft.db');
    await processes(6, 'migrate', path);
    for (let round = 0; round < 8; round++) {
      expect(versions(`${path}.${round}`)).toEqual(allVersions);
    }
  });

  it('processes claiming from one database at once never claim a step twice', async () => {
    const path = join(freshDir(), 'weft.db');
    const store = SqliteStore.open(path);
    await createRaceRun(store);
    const outputs = await processes(4, 'work', path);
    await expectRaceClaimedOnce(store, outputs);
    await store.close();
  });

  it('uses the partial indexes on the hot path', async () => {
    const path = freshPath();
    await SqliteStore.open(path).close();
    const db = new Database(path);
    try {
      const plan = (sql: string) => {
        const params = Array.from(sql.matchAll(/\?/g), () => null);
        return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[])
          .map((r) => r.detail)
          .join(' | ');
      };
      const statements = prepareStatements(db);
      expect(plan(statements.anyUnfinished.source)).toContain('USING INDEX steps_unfinished');
      expect(plan(statements.runningSteps.source)).toContain('USING INDEX steps_unfinished');
      expect(plan(statements.expired.source)).toContain('USING INDEX steps_leases');
      expect(plan(statements.nextWake.source)).toContain('steps_wake');
      expect(plan(statements.itemOutputs.source)).toContain('USING INDEX steps_items');
      expect(plan(statements.countDownDependents.source)).toMatch(
        /SEARCH e USING PRIMARY KEY .*SEARCH steps USING INDEX sqlite_autoindex_steps_1 \(run_id=\? AND key=\?\)/,
      );
      for (const [definitions, labels] of [
        [false, false],
        [true, false],
        [true, true],
      ] as const) {
        const all = plan(claimCandidatesSql({ runId: false, definitions, labels }));
        expect(all).toContain('SCAN s USING INDEX steps_claim');
        expect(all).not.toContain('TEMP B-TREE');
        const one = plan(claimCandidatesSql({ runId: true, definitions, labels }));
        expect(one).toContain('USING INDEX steps_claim_run');
        expect(one).not.toContain('TEMP B-TREE');
      }
      // Workflows: waits by event, events by key or time, children, idempotency.
      expect(plan(statements.nextWakeOf.source)).toContain('steps_wake');
      expect(plan(statements.keyedWaits.source)).toContain('USING INDEX runs_wait_event');
      expect(plan(statements.unkeyedWaits.source)).toContain('USING INDEX runs_wait_event');
      expect(plan(statements.wakeRun.source)).toContain('USING INDEX sqlite_autoindex_steps_1');
      for (const stmt of [
        statements.keyedEvents,
        statements.eventsSince,
        statements.eventsOfType,
      ]) {
        expect(plan(stmt.source)).toMatch(/USING INDEX events_(key|type)/);
        expect(plan(stmt.source)).not.toContain('TEMP B-TREE');
      }
      expect(plan(statements.keyedEvents.source)).toContain('events_key');
      expect(plan(statements.events.source)).toContain('events_sent');
      expect(plan(statements.events.source)).not.toContain('TEMP B-TREE');
      expect(plan(statements.eventByIdempotency.source)).toContain('events_idempotency');
      expect(plan(statements.childRuns.source)).toContain('USING INDEX runs_parent');
      expect(plan(statements.childIds.source)).toContain('runs_parent');
    } finally {
      db.close();
    }
  });

  it('keeps parked runs and journal entries out of the claim index', async () => {
    const path = freshPath();
    const store = SqliteStore.open(path);
    const run = (id: string, kind: 'pipeline' | 'workflow') => ({
      id,
      kind,
      definition: 'wf',
      input: '{}',
      outputs: [],
      trigger: 't',
      createdAt: 1,
    });
    await store.createRun(run('run_1', 'workflow'), [
      { key: '$run', node: 'wf', dependsOn: [], kind: 'run' },
    ]);
    const [c] = await store.claimSteps({ workerId: 'w', limit: 1, now: 2, leaseMs: 100 });
    const ref = { runId: 'run_1', workerId: 'w', runAttempt: c!.attempt, now: 3 };
    const entry = {
      key: 'e',
      name: 'e',
      kind: 'step' as const,
      seq: 0,
      status: 'queued' as const,
      output: null,
      error: null,
      attempt: 0,
      startedAt: null,
      finishedAt: null,
    };
    await store.recordEntry({ ...ref, entry });
    const wait = { kind: 'child' as const, entry: 'c', childRunId: 'run_2' };
    await store.createRun({ ...run('run_2', 'pipeline'), parentRunId: 'run_1' }, [
      { key: 'a', node: 'a', dependsOn: [] },
    ]);
    await store.parkRun({ ...ref, wakeAt: null, waitingFor: wait });
    await store.close();
    const db = new Database(path, { readonly: true });
    try {
      const inIndex = (index: string) =>
        db
          .prepare(
            `SELECT run_id || '/' || key FROM steps INDEXED BY ${index} WHERE status = 'queued' AND available_at < 9007199254740991`,
          )
          .pluck()
          .all();
      expect(inIndex('steps_claim')).toEqual(['run_2/a']);
      expect(
        db
          .prepare('SELECT count(*) FROM steps WHERE status = ? AND available_at = ?')
          .pluck()
          .get('queued', NEVER),
      ).toBe(2);
    } finally {
      db.close();
    }
  });

  it('upgrades a version 1 database with its runs in place', async () => {
    const path = join(freshDir(), 'weft.db');
    const v1 = new Database(path);
    migrate(
      v1,
      shippedMigrations().filter((m) => m.version === 1),
    );
    v1.prepare(
      `INSERT INTO runs (id, kind, definition, status, input, outputs, trigger, tags, created_at, updated_at)
       VALUES ('run_old', 'pipeline', 'etl', 'queued', '{}', '[]', 'cli', '[]', 1, 1)`,
    ).run();
    v1.prepare(
      `INSERT INTO steps (run_id, key, node, status, available_at, queued_at) VALUES ('run_old', 'a', 'a', 'queued', 1, 1)`,
    ).run();
    v1.close();
    const store = SqliteStore.open(path);
    expect(versions(path)).toEqual(allVersions);
    expect(await store.getRun('run_old')).toMatchObject({ status: 'queued', waitingFor: null });
    expect(await store.getStep('run_old', 'a')).toMatchObject({ kind: 'node', seq: null });
    const claimed = await store.claimSteps({ workerId: 'w', limit: 5, now: 2, leaseMs: 100 });
    expect(claimed.map((c) => c.key)).toEqual(['a']);
    await store.close();
  });
});
