/**
 * vitest `globalSetup`: one Postgres for the whole test run, handed to test files through
 * `provide('weftPostgresUrl')`. Uses `WEFT_TEST_PG_URL` when set; otherwise boots an embedded
 * Postgres in a child process (`postgres-server.ts`) and stops it at teardown.
 */
import type { TestProject } from 'vitest/node';
import { PG_URL_ENV } from './postgres.js';
import { spawnPostgres } from './spawn-postgres.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env[PG_URL_ENV];
  if (given) {
    project.provide('weftPostgresUrl', given);
    return async () => undefined;
  }
  const server = await spawnPostgres();
  project.provide('weftPostgresUrl', server.url);
  return () => server.stop();
}
