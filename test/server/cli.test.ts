/** `weft server` as a user starts it: listens, serves, and stops cleanly on SIGTERM. */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { ROOT, tempDir } from '../cli/helpers.js';
import { testDatabase } from '../support/postgres.js';

const MAIN = join(ROOT, 'src/cli/main.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** A `weft server` child process (the shared CLI helper can only SIGKILL; these tests need SIGTERM). */
function spawnServer(args: readonly string[], env: Record<string, string> = {}) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...env };
  delete childEnv.WEFT_DB;
  if (!('WEFT_TOKEN' in env)) delete childEnv.WEFT_TOKEN;
  const child = spawn(
    process.execPath,
    ['--conditions=weft-source', '--import', TSX, MAIN, 'server', ...args],
    { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => ({ stdout, stderr }),
    exited,
    /** The URL from the "listening on" line, once printed. */
    async listening(): Promise<string> {
      for (;;) {
        const match = /^weft server listening on (http:\/\/\S+) \(db (.+)\)$/m.exec(stdout);
        if (match) return match[1]!;
        const done = await Promise.race([
          exited,
          new Promise<null>((r) => setTimeout(() => r(null), 20)),
        ]);
        if (done) throw new Error(`weft server exited (${done.code}):\n${stdout}${stderr}`);
      }
    },
  };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe('weft server', () => {
  it('listens on a free port with --port 0, serves the API, and exits 0 on SIGTERM', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const db = join(dir, 'weft.db');
    const server = spawnServer(['--port', '0', '--db', db]);
    cleanups.push(() => server.child.kill('SIGKILL'));
    const url = await server.listening();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toMatch(/:0$/);
    expect(server.output().stdout).toBe(`weft server listening on ${url} (db ${db})\n`);

    const health = await fetch(`${url}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, dialect: 'sqlite' });
    const runs = await fetch(`${url}/api/runs`);
    expect(await runs.json()).toEqual({ runs: [], next: null });

    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.output().stderr).toBe('');
  });

  it('requires the token from WEFT_TOKEN; a port in use is a usage error (exit 2)', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const db = join(dir, 'weft.db');
    const first = spawnServer(['--port', '0', '--db', db], { WEFT_TOKEN: 'tok' });
    cleanups.push(() => first.child.kill('SIGKILL'));
    const url = await first.listening();
    expect((await fetch(`${url}/api/runs`)).status).toBe(401);
    const authorized = await fetch(`${url}/api/runs`, { headers: { authorization: 'Bearer tok' } });
    expect(authorized.status).toBe(200);

    const port = new URL(url).port;
    const second = spawnServer(['--port', port, '--db', db]);
    cleanups.push(() => second.child.kill('SIGKILL'));
    expect((await second.exited).code).toBe(2);
    const { stdout, stderr } = second.output();
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `weft: port ${port} on 127.0.0.1 is in use; pick another with --port (--port 0 picks a free one)\n`,
    );

    const bad = spawnServer(['--port', 'http', '--db', db]);
    expect((await bad.exited).code).toBe(2);
    expect(bad.output().stderr).toMatch(/^weft: --port must be a whole number/);

    const hook = spawnServer(['--port', '0', '--db', db, '--on-failure', 'ftp://hooks']);
    expect((await hook.exited).code).toBe(2);
    expect(hook.output().stderr).toBe(
      'weft: --on-failure: ftp://hooks must be an http:// or https:// URL\n',
    );

    first.child.kill('SIGINT');
    expect((await first.exited).code).toBe(0);
  });

  it('elects one leader among servers on one Postgres; the other takes over on SIGTERM', async () => {
    const db = await testDatabase(inject('weftPostgresUrl'), 'server_cli');
    try {
      const servers = [
        spawnServer(['--port', '0', '--db', db.url]),
        spawnServer(['--port', '0', '--db', db.url]),
      ];
      for (const s of servers) cleanups.push(() => s.child.kill('SIGKILL'));
      const urls = await Promise.all(servers.map((s) => s.listening()));
      expect(servers[0]!.output().stdout).toMatch(/\(db postgres:\/\/.*\)\n$/);
      const leaderOf = async (url: string) => {
        const res = await fetch(`${url}/api/health`);
        return ((await res.json()) as { leader: boolean; dialect: string }).leader;
      };
      // Both have tried once by the time they print that they listen.
      const leaders = await Promise.all(urls.map(leaderOf));
      expect(leaders.filter(Boolean)).toHaveLength(1);
      const leader = leaders.indexOf(true);
      const follower = 1 - leader;

      servers[leader]!.child.kill('SIGTERM');
      expect((await servers[leader]!.exited).code).toBe(0);
      // The follower tries again every second.
      while (!(await leaderOf(urls[follower]!))) await new Promise((r) => setTimeout(r, 100));
      servers[follower]!.child.kill('SIGTERM');
      expect((await servers[follower]!.exited).code).toBe(0);
      expect(servers.map((s) => s.output().stderr)).toEqual(['', '']);
    } finally {
      await db.drop();
    }
  });
});
