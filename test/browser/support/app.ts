/**
 * The app under test, started the way a user starts it: `weft dev <fixture> --port 0 --db
 * <tmp>/weft.db` as a child process, its URL read from the line it prints. `WEFT_BROWSER_APP=
 * in-process` starts the same pieces in this process instead (a SQLite store, an engine that
 * runs the fixture's definitions, and the API server over both), which is quicker to debug.
 *
 * The fixture's runs are steered with files in `gates` (see `fixtures/app.ts`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type WeftClient } from '../../../src/client/index.js';
import { spawnWeft, type RunningCli } from '../../cli/helpers.js';
import { gateName } from '../fixtures/app.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/app.ts', import.meta.url));

/** What `weft dev` prints once it serves: the URL of the UI and the API. */
const READY = /^weft dev: UI and API on (http:\/\/\S+)$/m;

export interface App {
  /** The UI's origin, e.g. `http://127.0.0.1:43121`. */
  url: string;
  /** The API, through the typed client. */
  api: WeftClient;
  /** Lets the `report` run titled `title` finish its `render` node. */
  openGate(title: string): void;
  /** Makes the `fragile` runs named `name` pass their `check` node. */
  fix(name: string): void;
  /** What the app printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export async function startApp(): Promise<App> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-browser-'));
  const gates = join(dir, 'gates');
  mkdirSync(gates);
  const touch = (file: string) => writeFileSync(join(gates, file), '');
  const started =
    process.env.WEFT_BROWSER_APP === 'in-process'
      ? await startInProcess(dir, gates)
      : await startWeftDev(dir, gates);
  return {
    url: started.url,
    api: createClient({ baseUrl: started.url }),
    openGate: (title) => touch(`${gateName(title)}.open`),
    fix: (name) => touch(`${gateName(name)}.fixed`),
    output: () => started.output(),
    async stop() {
      await started.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Started {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

async function startWeftDev(dir: string, gates: string): Promise<Started> {
  const cli: RunningCli = spawnWeft(['dev', FIXTURE, '--port', '0', '--db', join(dir, 'weft.db')], {
    cwd: dir,
    env: { WEFT_BROWSER_GATES: gates },
  });
  const text = () => {
    const { stdout, stderr } = cli.output();
    return stdout + stderr;
  };
  let url: string;
  try {
    url = (
      await withTimeout(
        cli.waitFor(READY),
        60_000,
        () => `weft dev did not print its URL:\n${text()}`,
      )
    )[1]!;
  } catch (error) {
    cli.kill();
    await cli.done;
    throw error;
  }
  return {
    url,
    output: text,
    async stop() {
      cli.kill();
      await cli.done;
    },
  };
}

async function startInProcess(dir: string, gates: string): Promise<Started> {
  process.env.WEFT_BROWSER_GATES = gates;
  const [{ SqliteStore }, { Engine }, { createServer }, fixture] = await Promise.all([
    import('../../../src/store/sqlite/index.js'),
    import('../../../src/engine/engine.js'),
    import('../../../src/server/index.js'),
    import('../fixtures/app.js'),
  ]);
  const store = SqliteStore.open(join(dir, 'weft.db'));
  await store.migrate();
  const engine = new Engine({
    store,
    definitions: [fixture.report, fixture.fragile, fixture.approval],
    pollMs: 200,
    captureConsole: false,
  });
  await engine.start();
  // Triggers go through the engine that holds the definitions' code.
  const options = { store, engine };
  const api = createServer(options);
  const { url } = await api.listen(0, '127.0.0.1');
  return {
    url,
    output: () => '',
    async stop() {
      await api.close({ graceMs: 500 });
      await engine.stop({ graceMs: 0 });
      await store.close();
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message())), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
