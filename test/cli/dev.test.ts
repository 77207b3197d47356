/**
 * `weft dev`: one process with the store, a worker, the API and the UI; saving the file (or a
 * file it imports) loads the new code without a restart, and a broken save keeps the old code.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  DefinitionsResponse,
  RunDetailResponse,
  RunsResponse,
  TriggerResponse,
} from '../../src/server/api-types.js';
import { ROOT, spawnWeft, tempDir, weft, type RunningCli } from './helpers.js';

/** A project folder of its own whose `weft` import is this repository. */
function project(dir: string): void {
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules/weft'), 'dir');
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
}

const words = (word: string) => `export const word = ${JSON.stringify(word)};\n`;

const defs = (extra = '') => `import { pipeline } from 'weft';
import { word } from './words.js';

export const hello = pipeline('hello', {
  greeting: () => {
    console.log('saying', word);
    return word;
  },
});
${extra}`;

async function trigger(url: string, definition: string): Promise<string> {
  const res = await fetch(`${url}/api/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ definition }),
  });
  expect(res.status).toBe(201);
  const { run } = (await res.json()) as TriggerResponse;
  let detail: RunDetailResponse;
  await expect
    .poll(
      async () => {
        detail = (await (await fetch(`${url}/api/runs/${run.id}`)).json()) as RunDetailResponse;
        return detail.run.status;
      },
      { timeout: 15_000, interval: 50 },
    )
    .toBe('succeeded');
  return detail!.steps.find((s) => s.key === 'greeting')!.output as string;
}

describe('weft dev', () => {
  let dir: string;
  let cleanup: () => void;
  let dev: RunningCli | null = null;

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    project(dir);
  });

  afterEach(async () => {
    if (dev) {
      dev.kill();
      await dev.done;
      dev = null;
    }
    cleanup();
  });

  it('serves the API and the UI, runs the file, and reloads it when it changes', async () => {
    writeFileSync(join(dir, 'words.ts'), words('v1'));
    writeFileSync(join(dir, 'defs.ts'), defs());
    dev = spawnWeft(['dev', 'defs.ts', '--port', '0'], { cwd: dir });
    const [, url] = await dev.waitFor(/UI and API on (http:\/\/127\.0\.0\.1:\d+)/);
    await dev.waitFor(/1 definition \(hello\) from defs\.ts; db .*\.weft\/weft\.db/);
    expect(await trigger(url!, 'hello')).toBe('v1');
    const page = await fetch(`${url}/runs`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);

    // A file the definitions import changed: the next run runs the new code.
    writeFileSync(join(dir, 'words.ts'), words('v2'));
    await dev.waitFor(/reloaded 1 definition \(hello\)/);
    expect(await trigger(url!, 'hello')).toBe('v2');

    // A save that doesn't load keeps the code that did.
    writeFileSync(join(dir, 'defs.ts'), `${defs()}\nexport const broken = ;\n`);
    await expect.poll(() => dev!.output().stderr, { timeout: 10_000 }).toMatch(/reload failed/);
    expect(await trigger(url!, 'hello')).toBe('v2');

    // A new definition shows up in the catalog and runs.
    writeFileSync(
      join(dir, 'defs.ts'),
      defs(`export const bye = pipeline('bye', { greeting: () => 'bye ' + word });\n`),
    );
    await dev.waitFor(/reloaded 2 definitions \(bye, hello\)/);
    const { definitions } = (await (
      await fetch(`${url}/api/definitions`)
    ).json()) as DefinitionsResponse;
    expect(definitions.map((d) => d.name).sort()).toEqual(['bye', 'hello']);
    expect(await trigger(url!, 'bye')).toBe('bye v2');

    dev.signal('SIGTERM');
    const result = await dev.done;
    dev = null;
    expect(result.code).toBe(0);
  });

  it('starts a run per event for an event trigger, once per webhook delivery', async () => {
    writeFileSync(join(dir, 'words.ts'), words('v1'));
    writeFileSync(
      join(dir, 'defs.ts'),
      defs(`import { onEvent } from 'weft';
export const onPing = onEvent(hello, { event: 'ping' });
`),
    );
    dev = spawnWeft(['dev', 'defs.ts', '--port', '0'], { cwd: dir });
    const [, url] = await dev.waitFor(/UI and API on (http:\/\/127\.0\.0\.1:\d+)/);
    const runs = async () =>
      ((await (await fetch(`${url}/api/runs?definition=hello`)).json()) as RunsResponse).runs;
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${url}/api/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'ping', payload: {}, idempotencyKey: 'delivery-1' }),
      });
      expect(res.status).toBe(i === 0 ? 201 : 200);
    }
    await expect
      .poll(async () => (await runs()).map((r) => r.status), { timeout: 15_000, interval: 100 })
      .toEqual(['succeeded']);
    expect((await runs())[0]!.trigger).toBe('event:ping');
  });

  it('refuses to listen beyond this machine without a token', async () => {
    writeFileSync(join(dir, 'words.ts'), words('v1'));
    writeFileSync(join(dir, 'defs.ts'), defs());
    const result = await weft(['dev', 'defs.ts', '--host', '0.0.0.0'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/--host 0\.0\.0\.0 .* --token/);
  });
});
