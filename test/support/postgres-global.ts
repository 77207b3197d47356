/**
 * vitest `globalSetup`: one Postgres for the whole test run, handed to test files through
 * `provide('weftPostgresUrl')`. Uses `WEFT_TEST_PG_URL` when set; otherwise boots an embedded
 * Postgres in a child process (`postgres-server.ts`) and stops it at teardown.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { PG_URL_ENV } from './postgres.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = fileURLToPath(new URL('./postgres-server.ts', import.meta.url));

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env[PG_URL_ENV];
  if (given) {
    project.provide('weftPostgresUrl', given);
    return async () => undefined;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
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
  project.provide('weftPostgresUrl', url);
  return async () => {
    child.kill('SIGTERM');
    await exited;
  };
}
