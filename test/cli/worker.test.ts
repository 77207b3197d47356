// `weft worker` and `weft migrate` from the command line; and the other commands on Postgres.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testDatabase } from '../support/postgres.js';
import { fixture, runIdOf, tempDir, weft } from './helpers.js';

describe('weft worker: flags', () => {
  const cases: [flags: string[], message: RegExp][] = [
    [['--lease', '0'], /^weft: --lease must be more than 0; e\.g\. --lease 30s$/],
    [['--lease', 'soon'], /^weft: --lease "soon" is not a duration; use e\.g\. --lease 30s/],
    [['--grace', '5 mins'], /^weft: --grace "5 mins" is not a duration/],
    [['--poll', '-1s'], /^weft: --poll "-1s" is not a duration/],
    [['--concurrency', '0'], /^weft: --concurrency "0" is not a whole number >= 1/],
    [['--labels', 'gpu,bad label'], /^weft: --labels: label "bad label" is invalid/],
    [['--name', 'no spaces'], /^weft: --name "no spaces" is not usable in a worker id/],
    [
      ['--health-port', '9x'],
      /^weft: --health-port must be a whole number from 0 to 65535 \(0 picks a free port\), got "9x"$/,
    ],
    [
      ['--health-host', '127.0.0.1'],
      /^weft: --health-host needs --health-port; e\.g\. --health-port 9464$/,
    ],
  ];
  it.each(cases)('%j is a one-line usage error, exit 2', async (flags, message) => {
    const r = await weft(['worker', fixture('basic.ts'), ...flags]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
  });

  it('a health port already taken is a usage error, and the worker does not start', async () => {
    const { dir, cleanup } = tempDir();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as AddressInfo;
      const db = join(dir, 'weft.db');
      const r = await weft([
        'worker',
        fixture('basic.ts'),
        '--db',
        db,
        '--health-port',
        String(port),
        '--health-host',
        '127.0.0.1',
      ]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `weft: port ${port} on 127.0.0.1 is in use; pick another with --health-port (--health-port 0 picks a free one)\n`,
      );
    } finally {
      taken.close();
      cleanup();
    }
  });

  it('a missing file is a usage error', async () => {
    const r = await weft(['worker', 'nope.ts', '--db', 'x.db']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^weft: file nope\.ts not found/);
  });
});

describe('weft migrate on SQLite', () => {
  it('creates and migrates the file, and says its version', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const db = join(dir, 'nested', 'weft.db');
      const r = await weft(['migrate', '--db', db]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^database at ${db} is at version \\d+\\n$`));
    } finally {
      cleanup();
    }
  });
});

describe('the CLI on Postgres', () => {
  let db: Awaited<ReturnType<typeof testDatabase>>;
  beforeAll(async () => {
    db = await testDatabase(inject('weftPostgresUrl'), 'cli_worker');
  });
  afterAll(async () => db?.drop());

  it('weft run --db <url> runs a pipeline; weft runs and weft show read it back', async () => {
    const run = await weft([
      'run',
      fixture('basic.ts'),
      '--db',
      db.url,
      '-p',
      'n=3',
      '-p',
      'label=pg',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const runId = runIdOf(run.stdout);
    // The password is never printed.
    expect(run.stdout).not.toContain(':weft@');

    const runs = await weft(['runs', '--db', db.url]);
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout).toMatch(new RegExp(`${runId}\\s+pipeline\\s+basic\\s+succeeded`));

    const json = await weft(['runs', '--db', db.url, '--json']);
    expect((JSON.parse(json.stdout) as { id: string }[]).map((r) => r.id)).toEqual([runId]);

    const show = await weft(['show', runId, '--db', db.url]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('pg: 12');
  });
});
