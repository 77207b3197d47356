/**
 * Boots the embedded Postgres of `postgres-server.ts` in a child process and waits for its
 * `READY <url>` line: the tests' global setup and the benchmarks share it. `env` adds to this
 * process's environment (e.g. `WEFT_PG_DURABLE: '1'` for Postgres's default durability).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = fileURLToPath(new URL('./postgres-server.ts', import.meta.url));

export interface SpawnedPostgres {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code once the server process is gone. */
  exited: Promise<number | null>;
  /** Stops the server (it deletes its data folder) and waits for the process to end. */
  stop(): Promise<void>;
}

export async function spawnPostgres(env: Record<string, string> = {}): Promise<SpawnedPostgres> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const ready = /^READY (\S+)$/m.exec(out);
      if (ready) resolve(ready[1]!);
    });
    void exited.then((code) => reject(new Error(`embedded Postgres exited (code ${code})`)));
  });
  return {
    url,
    child,
    exited,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
