/**
 * A private Postgres a test may stop and start (`postgres-server.ts` with `WEFT_PG_COMMANDS`,
 * in a child process): never the shared one of `postgres-global.ts`, which other test files use at the
 * same time.
 *
 * ```ts
 * const server = await startRestartablePostgres();
 * await server.stop(); // a fast shutdown: every connection is cut
 * await server.start(); // same data, same port
 * await server.close(); // stopped, data deleted, child gone
 * ```
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = fileURLToPath(new URL('./postgres-server.ts', import.meta.url));

export interface RestartablePostgres {
  /** The maintenance database (`postgres`) of the server. */
  url: string;
  /** Stops the server (fast shutdown); resolves once it is down. */
  stop(): Promise<void>;
  /** Starts it again on the same data directory and port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it for good and deletes its data; safe to call twice. */
  close(): Promise<void>;
}

export async function startRestartablePostgres(): Promise<RestartablePostgres> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, WEFT_PG_COMMANDS: '1' },
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const waiting: { line: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  let onReady: ((url: string) => void) | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const ready = /^READY (\S+)$/.exec(line);
    if (ready) return onReady?.(ready[1]!);
    const next = waiting[0];
    if (next?.line === line) {
      waiting.shift();
      next.resolve();
    }
  });
  void exited.then(() => {
    for (const w of waiting.splice(0)) w.reject(new Error('embedded Postgres exited'));
  });
  const url = await new Promise<string>((resolve, reject) => {
    onReady = resolve;
    void exited.then(() => reject(new Error('embedded Postgres exited before it was ready')));
  });
  const command = (name: string, answer: string) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ line: answer, resolve, reject });
      child.stdin.write(`${name}\n`);
    });
  let closing: Promise<void> | null = null;
  return {
    url,
    stop: () => command('stop', 'STOPPED'),
    start: () => command('start', 'STARTED'),
    close: () =>
      (closing ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.stdin.end();
        await exited;
      })()),
  };
}
