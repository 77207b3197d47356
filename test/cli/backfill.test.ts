/**
 * `weft backfill`, `weft backfills`, `weft partitions` and `weft sensors`, spawned as a user
 * would, on a SQLite file whose worker registered a partitioned pipeline and a sensor — straight
 * on the database (`--db`) and through a server (`--server`). The test process plays the
 * elected server's maintenance (the backfill launcher) and a worker runs the runs; the CLI
 * processes never load the pipeline's code.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { advanceBackfills } from '../../src/engine/backfills.js';
import { Engine } from '../../src/engine/index.js';
import { partitions, pipeline, sensor } from '../../src/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { startApi, type TestApi } from '../server/helpers.js';
import { tempDir, weft } from './helpers.js';

/** Ten daily partitions, 2026-01-01 to 2026-01-10; the 9th fails. */
const daily = pipeline(
  'daily_sales',
  {
    total: ({ day, region }: { day: string; region: string }) => {
      if (day === '2026-01-09') throw new Error(`no data for ${day}`);
      return `${region}:${day}`;
    },
  },
  {
    params: z.object({ day: z.string(), region: z.string().default('eu') }),
    partitions: partitions.daily({ param: 'day', start: '2026-01-01', end: '2026-01-11' }),
  },
);
const watcher = sensor(daily, { name: 'new_files', every: '30s', evaluate: () => ({ runs: [] }) });

const BACKFILL_ID = /started backfill (bf_\w+)/;

describe('weft backfill, backfills, partitions and sensors', () => {
  let dir: string;
  let cleanup: () => void;
  let db: string;
  let store: SqliteStore;
  let worker: Engine;
  let api: TestApi;
  let launcher: ReturnType<typeof setInterval>;

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    db = join(dir, 'weft.db');
    store = SqliteStore.open(db);
    await store.migrate();
    worker = new Engine({
      store,
      definitions: [daily],
      sensors: [watcher],
      pollMs: 20,
      captureConsole: false,
    });
    await worker.start();
    api = await startApi({ store, ui: false });
  });

  afterAll(async () => {
    clearInterval(launcher);
    await api.close();
    await worker.stop();
    await store.close();
    cleanup();
  });

  /** Launches backfills' runs from now on, as the elected server's maintenance does. */
  function startLauncher(): void {
    const duty = advanceBackfills({ engine: worker, warn: () => {} });
    let busy = false;
    launcher = setInterval(() => {
      if (busy) return;
      busy = true;
      void duty
        .run({ store, now: Date.now(), signal: new AbortController().signal })
        .finally(() => (busy = false));
    }, 50);
  }

  it('shows the partitions of a pipeline as a grid', async () => {
    const result = await weft(['partitions', 'daily_sales', '--db', db]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'daily_sales: daily from 2026-01-01 to 2026-01-10 (UTC), param day',
    );
    expect(result.stdout).toContain('2026-01-01  ··········');
    expect(result.stdout).toContain('10 partitions: 10 with no run');

    const latest = await weft(['partitions', 'daily_sales', '--limit', '3', '--db', db]);
    expect(latest.stdout).toContain('the latest 3 of 10 partitions');
    expect(latest.stdout).toContain('2026-01-08  ···');

    const json = await weft(['partitions', 'daily_sales', '--json', '--server', api.url]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { total: number; partitions: unknown[] };
    expect(parsed.total).toBe(10);
    expect(parsed.partitions).toHaveLength(10);
  });

  it('refuses what it cannot do with one line and exit 2', async () => {
    const cases: string[][] = [
      ['partitions', 'nope', '--db', db],
      ['partitions', 'daily_sales', '--limit', '0', '--db', db],
      ['backfill', 'daily_sales', '--from', '2026-01-05', '--to', '2026-01-02', '--db', db],
      ['backfill', 'daily_sales', '--partitions', '2026-01-02,someday', '--db', db],
      ['backfill', 'daily_sales', '--params', '{"day":"2026-01-01"}', '--db', db],
      ['backfill', 'daily_sales', '--params', '[1]', '--db', db],
      ['backfill', 'daily_sales', '--max-concurrent', '0', '--db', db],
      ['backfill', 'daily_sales', '--partitions', '2026-01-02', '--from', '2026-01-01', '--db', db],
      ['backfill', 'nope', '--db', db],
      ['backfill', 'daily_sales', '--max-concurrent', '0', '--server', api.url],
      ['backfill', 'daily_sales', '--from', 'yesterday', '--server', api.url],
      ['backfills', 'show', 'bf_nope', '--db', db],
      ['backfills', 'pause', 'bf_nope', '--server', api.url],
      ['backfills', '--status', 'done', '--db', db],
      ['sensors', 'pause', 'nope', '--db', db],
      ['sensors', 'resume', 'nope', '--server', api.url],
    ];
    for (const args of cases) {
      const result = await weft(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stderr).toMatch(/^weft: /);
    }
    expect(await store.listBackfills()).toEqual([]);
  });

  it('starts a backfill on the database, lists it, shows it, pauses, resumes and cancels it', async () => {
    const started = await weft([
      'backfill',
      'daily_sales',
      '--from',
      '2026-01-02',
      '--to',
      '2026-01-04',
      '--params',
      '{"region":"us"}',
      '--max-concurrent',
      '2',
      '--db',
      db,
    ]);
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(
      /^started backfill bf_\w+ of daily_sales: 3 partitions \(2026-01-02 … 2026-01-04\), at most 2 at once\n$/,
    );
    expect(started.stderr).toContain('its runs start when weft server or weft dev runs on');
    const id = BACKFILL_ID.exec(started.stdout)![1]!;
    expect(await store.getBackfill(id)).toMatchObject({
      target: 'daily_sales',
      partitions: ['2026-01-02', '2026-01-03', '2026-01-04'],
      params: { region: 'us' },
      maxConcurrent: 2,
      status: 'running',
    });

    const list = await weft(['backfills', '--db', db]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/ID\s+TARGET\s+STATUS\s+FINISHED\s+PARTITIONS\s+CREATED/);
    expect(list.stdout).toMatch(
      new RegExp(`${id}\\s+daily_sales\\s+running\\s+0/3\\s+2026-01-02 … 2026-01-04`),
    );

    const show = await weft(['backfills', 'show', id, '--server', api.url]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`${id}  daily_sales  running`);
    expect(show.stdout).toContain('with params {"region":"us"}, at most 2 at once; 0 launched');
    expect(show.stdout).toContain('2026-01-02  ···');
    expect(show.stdout).toContain('0/3 finished: 3 not launched');

    const paused = await weft(['backfills', 'pause', id, '--db', db]);
    expect(paused.stdout).toBe(`${id} paused: no more runs start (those started go on)\n`);
    expect((await store.getBackfill(id))!.status).toBe('paused');
    const again = await weft(['backfills', 'pause', id, '--server', api.url]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('is paused');
    const resumed = await weft(['backfills', 'resume', id, '--server', api.url, '--json']);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ id, status: 'running', total: 3 });
    const cancelled = await weft(['backfills', 'cancel', id, '--db', db]);
    expect(cancelled.stdout).toBe(`${id} cancelled, with its unfinished runs\n`);
    expect((await store.getBackfill(id))!.status).toBe('cancelled');

    const filtered = await weft(['backfills', 'list', '--status', 'running', '--db', db]);
    expect(filtered.stdout).toContain('no backfills');
  });

  it('follows a backfill with --wait until its runs have run', async () => {
    startLauncher();
    const ok = await weft([
      'backfill',
      'daily_sales',
      '--partitions',
      '2026-01-01,2026-01-02',
      '--wait',
      '--server',
      api.url,
    ]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const lines = ok.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^started backfill bf_\w+ of daily_sales: 2 partitions/);
    expect(lines.at(-1)).toMatch(/^bf_\w+ succeeded: 2\/2 finished \(2 succeeded\)$/);

    const failing = await weft([
      'backfill',
      'daily_sales',
      '--from',
      '2026-01-08',
      '--to',
      '2026-01-09',
      '--wait',
      '--db',
      db,
    ]);
    expect(failing.code).toBe(1);
    expect(failing.stdout.trim().split('\n').at(-1)).toMatch(
      /^bf_\w+ failed: 2\/2 finished \(1 succeeded, 1 failed\)$/,
    );
    const id = BACKFILL_ID.exec(failing.stdout)![1]!;
    const show = await weft(['backfills', 'show', id, '--db', db]);
    expect(show.stdout).toContain('2026-01-08  ✔✖');
    expect(show.stdout).toMatch(/failed 2026-01-09 {2}run_\w+/);

    const grid = await weft(['partitions', 'daily_sales', '--server', api.url]);
    expect(grid.stdout).toContain('2026-01-01  ✔✔·····✔✖·');
    expect(grid.stdout).toContain('10 partitions: 3 succeeded, 1 failed, 6 with no run');
  });

  it('lists sensors, pauses and resumes them', async () => {
    const list = await weft(['sensors', '--db', db]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/new_files\s+daily_sales\s+30s\s+active\s+–\s+–/);
    const paused = await weft(['sensors', 'pause', 'new_files', '--server', api.url]);
    expect(paused.stdout).toBe('new_files paused: it is not evaluated until resumed\n');
    expect((await store.getSensor('new_files'))!.paused).toBe(true);
    const listed = await weft(['sensors', 'list', '--json', '--server', api.url]);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ name: 'new_files', paused: true }),
    ]);
    const resumed = await weft(['sensors', 'resume', 'new_files', '--db', db]);
    expect(resumed.stdout).toBe('new_files resumed\n');
    expect((await store.getSensor('new_files'))!.paused).toBe(false);
  });
});
