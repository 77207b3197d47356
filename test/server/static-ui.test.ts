/** The web UI's files served next to the API: assets, the app for its own routes, nothing else. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/contract/index.js';
import { startApi, tempStore, type TestApi } from './helpers.js';

describe('the web UI', () => {
  let dir: string;
  let store: Store;
  let cleanup: () => Promise<void>;
  let api: TestApi;
  let bare: TestApi;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-ui-'));
    mkdirSync(join(dir, 'ui/assets'), { recursive: true });
    writeFileSync(join(dir, 'ui/index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(dir, 'ui/assets/app-1234.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'not served');
    ({ store, cleanup } = await tempStore('sqlite'));
    api = await startApi({ store, ui: join(dir, 'ui'), token: 't' });
    bare = await startApi({ store, ui: join(dir, 'missing') });
  });

  afterAll(async () => {
    await api.close();
    await bare.close();
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the app for its own routes, and its assets, without a token', async () => {
    for (const path of ['/', '/runs', '/runs/run_0123', '/catalog/daily']) {
      const res = await fetch(`${api.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(await res.text()).toContain('id="root"');
    }
    const asset = await fetch(`${api.url}/assets/app-1234.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    expect(await asset.text()).toBe('console.log(1)');
  });

  it('answers 404 for a missing file, and serves nothing outside its folder', async () => {
    const missing = await fetch(`${api.url}/assets/nope.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'not_found' });
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const res = await fetch(`${api.url}${path}`);
      expect(await res.text(), path).not.toContain('not served');
    }
  });

  it('keeps the API behind the token', async () => {
    expect((await fetch(`${api.url}/api/runs`)).status).toBe(401);
  });

  it('says how to build the UI when it is not built', async () => {
    const res = await fetch(`${bare.url}/runs`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('npm run build');
  });
});
