// `weft migrate` racing itself on an empty database, and processes refusing a database that a
// newer Weft migrated.
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { testDatabase } from '../support/postgres.js';
import { spawnCli, WORK } from './helpers.js';

const server = inject('weftPostgresUrl');
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const drop of drops) await drop();
});

async function freshDatabase(label: string): Promise<string> {
  const db = await testDatabase(server, label);
  drops.push(db.drop);
  return db.url;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('weft migrate', () => {
  it('two at once on an empty database: both succeed, each version applied once', async () => {
    const url = await freshDatabase('migrate_race');
    const [a, b] = await Promise.all([
      spawnCli(['migrate', '--db', url]).done,
      spawnCli(['migrate', '--db', url]).done,
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const rows = await query<{ version: number; n: string }>(
      url,
      'SELECT version, COUNT(*) AS n FROM weft_migrations GROUP BY version ORDER BY version',
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.n === '1')).toBe(true);
    const latest = rows.at(-1)!.version;
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: latest }, (_, i) => i + 1));
    for (const r of [a, b]) {
      // The password is never printed.
      expect(r.stdout).toMatch(
        new RegExp(`^database at postgres://postgres:\\*\\*\\*@.* is at version ${latest}\\n$`),
      );
    }
  });

  it('a database migrated by a newer Weft is refused in one line naming the versions', async () => {
    const url = await freshDatabase('migrate_ahead');
    expect((await spawnCli(['migrate', '--db', url]).done).code).toBe(0);
    const [row] = await query<{ v: number }>(url, 'SELECT MAX(version) AS v FROM weft_migrations');
    const latest = row!.v;
    await query(
      url,
      `INSERT INTO weft_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 0)`,
    );

    const worker = await spawnCli(['worker', WORK, '--db', url]).done;
    expect(worker.code).toBe(2);
    expect(worker.stdout).toBe('');
    const lines = worker.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^weft: /);
    expect(lines[0]).toContain('schema version 999');
    expect(lines[0]).toContain(`only knows up to ${latest}`);
    expect(lines[0]).toMatch(/Upgrade Weft/);

    const migrate = await spawnCli(['migrate', '--db', url]).done;
    expect(migrate.code).toBe(2);
    expect(migrate.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
