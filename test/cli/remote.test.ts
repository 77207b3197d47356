/**
 * `weft trigger`, and `weft runs` / `weft show` with `--server`: the CLI against a remote server
 * through its API (with and without a token), and `weft trigger --db` straight into a database
 * whose workers registered the definitions. A worker engine with the fixture's code runs the
 * runs; the CLI processes never load that code.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { basic } from '../fixtures/cli/basic.js';
import { startApi, type TestApi } from '../server/helpers.js';
import { tempDir, weft } from './helpers.js';

describe('the CLI against a server', () => {
  let dir: string;
  let cleanup: () => void;
  let db: string;
  let store: SqliteStore;
  let worker: Engine;
  let open: TestApi;
  let guarded: TestApi;

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    db = join(dir, 'weft.db');
    store = SqliteStore.open(db);
    await store.migrate();
    worker = new Engine({
      store,
      definitions: [basic],
      scope: 'all',
      pollMs: 20,
      captureConsole: false,
    });
    await worker.start();
    open = await startApi({ store, ui: false });
    guarded = await startApi({ store, ui: false, token: 'sesame' });
  });

  afterAll(async () => {
    await open.close();
    await guarded.close();
    await worker.stop();
    await store.close();
    cleanup();
  });

  it('triggers a run through the API, waits for it, then lists and shows it', async () => {
    const result = await weft([
      'trigger',
      'basic',
      '-p',
      'n=3',
      '-p',
      'label=remote',
      '--tag',
      'cli',
      '--wait',
      '--server',
      open.url,
    ]);
    expect(result.stderr).toMatch(/^triggered run_\w+ \(basic\); waiting/);
    expect(result.code).toBe(0);
    const id = /^(run_\w+) succeeded/.exec(result.stdout)?.[1];
    expect(id).toBeDefined();

    const runs = await weft(['runs', '--server', open.url, '--json']);
    expect(runs.code).toBe(0);
    const listed = JSON.parse(runs.stdout) as { id: string; params: unknown; tags: string[] }[];
    expect(listed.find((r) => r.id === id)).toMatchObject({
      params: { n: 3, label: 'remote', tags: [] },
      tags: ['cli'],
    });

    const shown = await weft(['show', id!, '--server', open.url]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('remote: 12');
    expect(shown.stdout).toContain('report for remote');
    const json = JSON.parse((await weft(['show', id!, '--server', open.url, '--json'])).stdout) as {
      steps: { key: string; output: unknown }[];
    };
    expect(json.steps.find((s) => s.key === 'doubled[2]')?.output).toBe(6);
  });

  it('checks params against the registered schema before sending anything', async () => {
    const result = await weft(['trigger', 'basic', '-p', 'n=0', '--server', open.url]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/n: .*>=1/);
    const unknown = await weft(['trigger', 'basic', '-p', 'nope=1', '--server', open.url]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/has no param "nope"; its params are: n, label, tags/);
  });

  it('asks for the token, and says when the server cannot be reached', async () => {
    const missing = await weft(['runs', '--server', guarded.url]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs a token: pass --token/);
    const ok = await weft(['runs', '--server', guarded.url, '--token', 'sesame']);
    expect(ok.code).toBe(0);
    const env = await weft(['runs', '--server', guarded.url], { env: { WEFT_TOKEN: 'sesame' } });
    expect(env.code).toBe(0);

    const down = await weft(['show', 'run_x', '--server', 'http://127.0.0.1:9']);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/cannot reach the Weft server .*is weft server running there\?/);
    const bad = await weft(['runs', '--server', 'ftp://x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--server must be an http/);
    const notFound = await weft(['show', 'run_nope', '--server', open.url]);
    expect(notFound.code).toBe(2);
    expect(notFound.stderr).toMatch(/run run_nope not found in http/);
  });

  it('triggers into the database by name, with an idempotency key', async () => {
    const args = ['trigger', 'basic', '-p', 'n=2', '-p', 'label=db', '--db', db];
    const first = await weft([...args, '--idempotency-key', 'once', '--json']);
    expect(first.code).toBe(0);
    const { run, created } = JSON.parse(first.stdout) as { run: string; created: boolean };
    expect(created).toBe(true);
    const again = await weft([...args, '--idempotency-key', 'once']);
    expect(again.stdout).toContain(`run ${run} already exists for idempotency key once`);
    expect((await worker.wait(run)).status).toBe('succeeded');

    const unknown = await weft(['trigger', 'nope', '--db', db]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no worker has registered "nope" .*registered: basic/);
  });
});
