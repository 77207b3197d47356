import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { Store } from '../../src/store/contract/index.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { testDatabase } from '../support/postgres.js';
import { countLines, runFixture } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-wf-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runner = (args: string[]) => runFixture('crash-runner.ts', ['twenty', ...args]);
const counts = countLines;

const STEPS = Array.from({ length: 20 }, (_, i) => `s${i + 1}`);

/** Each step's result is recorded exactly once: one entry, one successful attempt. */
async function expectRecordedOnce(store: Store, runId: string): Promise<void> {
  const journal = (await store.listSteps(runId)).filter((e) => e.kind === 'step');
  expect(journal.map((e) => e.key).sort()).toEqual([...STEPS].sort());
  expect(journal.every((e) => e.status === 'succeeded')).toBe(true);
  const attempts = await store.listAttempts(runId);
  for (const s of STEPS) {
    expect(
      attempts.filter((a) => a.stepKey === s && a.status === 'succeeded'),
      s,
    ).toHaveLength(1);
  }
}

describe('SIGKILL at many points of a 20-step workflow, then a new process resumes it', () => {
  const cases: [point: string, step: string, ranTwice: string | null][] = [
    ['afterClaim', '$run', null], // killed as soon as the run is claimed
    ['beforeAttempt', 's1', null], // before the first step's work
    ['beforeAttempt', 's7', null],
    ['beforeCommit', 's3', 's3'], // after the work, before its result commits
    ['beforeCommit', 's12', 's12'],
    ['afterCommit', 's5', null], // after the commit, before the next step
    ['afterCommit', 's10', null], // right before the durable sleep
    ['beforeAttempt', 's11', null], // right after the sleep
    ['beforeCommit', 's20', 's20'], // the last step
  ];

  it.each(cases)('killed at %s of %s', async (point, step, ranTwice) => {
    const db = join(dir, `${point}-${step}.db`);
    const effects = join(dir, `${point}-${step}.effects`);
    const first = runner([db, 'start', effects, point, step]);
    expect(first.signal, first.stderr).toBe('SIGKILL');
    const runId = first.stdout.trim().split('\n')[0]!;

    const second = runner([db, 'resume', runId]);
    expect(second.status, second.stderr).toBe(0);
    const result = JSON.parse(second.stdout.trim().split('\n').pop()!) as {
      status: string;
      result: number;
    };
    expect(result).toEqual({ status: 'succeeded', result: 210 });

    // A step's side effect runs at most twice, and twice only around the crash point.
    const ran = counts(effects);
    for (const s of STEPS) expect(ran[s], s).toBe(s === ranTwice ? 2 : 1);

    const store = SqliteStore.open(db);
    await expectRecordedOnce(store, runId);
    await store.close();
  });
});

describe('SIGKILL of a 20-step workflow with a batched journal (Postgres), then a resume', () => {
  // Results commit behind the steps: a crash re-runs the steps whose results had not
  // committed — a contiguous stretch — and still records each result exactly once.
  const database = testDatabase(inject('weftPostgresUrl'), 'wf_crash');
  afterAll(async () => (await database).drop());
  const cases: [point: string, step: string][] = [
    ['beforeCommit', 's4'],
    ['afterCommit', 's6'],
    ['beforeCommit', 's17'],
    ['beforeAttempt', 's20'],
  ];

  it.each(cases)('killed at %s of %s', async (point, step) => {
    const { url } = await database;
    const schema = `c_${point}_${step}`.toLowerCase();
    const db = `${url}#${schema}`;
    const effects = join(dir, `batched-${point}-${step}.effects`);
    const runner = (args: string[]) => runFixture('crash-runner.ts', ['twenty-batched', ...args]);
    const first = runner([db, 'start', effects, point, step]);
    expect(first.signal, first.stderr).toBe('SIGKILL');
    const runId = first.stdout.trim().split('\n')[0]!;
    const second = runner([db, 'resume', runId]);
    expect(second.status, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout.trim().split('\n').pop()!)).toEqual({
      status: 'succeeded',
      result: 210,
    });

    const ran = counts(effects);
    const twice = STEPS.map((s, i) => [s, i] as const).filter(([s]) => ran[s] === 2);
    for (const s of STEPS) expect([1, 2], s).toContain(ran[s]);
    // Those that ran twice are consecutive, and lie at or before the crash point.
    const at = STEPS.indexOf(step);
    twice.forEach(([, i], n) => i === twice[0]![1] + n || expect.fail(`${JSON.stringify(twice)}`));
    for (const [, i] of twice) expect(i).toBeLessThanOrEqual(at);
    if (point === 'beforeCommit') expect(ran[step]).toBe(2);
    if (point === 'afterCommit') expect(ran[step]).toBe(1);

    const store = await PostgresStore.connect(url, { schema });
    try {
      await expectRecordedOnce(store, runId);
    } finally {
      await store.close();
    }
  });
});

describe('a durable sleep survives a process restart', () => {
  it('kills the process during a 1 s sleep; a new process resumes when it is due', async () => {
    const { spawn } = await import('node:child_process');
    const db = join(dir, 'sleep.db');
    const effects = join(dir, 'sleep.effects');
    const child = spawn(
      process.execPath,
      [
        '--conditions=weft-source',
        '--import',
        'tsx',
        'test/fixtures/sleep-runner.ts',
        db,
        'start',
        effects,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => child.on('exit', r));
    // Wait until the run is parked in its sleep, then kill the process.
    let runId = '';
    const store = SqliteStore.open(db);
    for (let i = 0; i < 400; i++) {
      runId = out.trim().split('\n')[0] ?? '';
      if (runId && (await store.getRun(runId))?.status === 'waiting') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect((await store.getRun(runId))?.waitingFor).toMatchObject({ kind: 'sleep', entry: 'nap' });
    child.kill('SIGKILL');
    await exited;
    await store.close();

    const resumed = runFixture('sleep-runner.ts', [db, 'resume', runId]);
    expect(resumed.status, resumed.stderr).toBe(0);
    const result = JSON.parse(resumed.stdout.trim().split('\n').pop()!) as {
      status: string;
      result: number;
    };
    expect(result.status).toBe('succeeded');
    expect(result.result).toBeGreaterThanOrEqual(1000);
    expect(counts(effects)).toEqual({ before: 1, after: 1 });
  });
});
