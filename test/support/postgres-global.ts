/**
 * vitest `globalSetup`: one Postgres for the whole test run, handed to test files through
 * `provide('weftPostgresUrl')`. Uses `WEFT_TEST_PG_URL` when set; otherwise boots an embedded
 * Postgres and stops it at teardown.
 */
import type { TestProject } from 'vitest/node';
import { PG_URL_ENV, startPostgres } from './postgres.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env[PG_URL_ENV];
  if (given) {
    project.provide('weftPostgresUrl', given);
    return async () => undefined;
  }
  const server = await startPostgres();
  project.provide('weftPostgresUrl', server.url);
  return () => server.stop();
}
