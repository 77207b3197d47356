import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { countLines, runFixture } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-wf-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runner = (args: string[]) => runFixture('crash-runner.ts', ['twenty', ...args]);
const counts = countLines;

const STEPS = Array.from({ length: 20 }, (_, i) => `s${i + 1}`);

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

    // Each step's result is recorded exactly once.
    const store = SqliteStore.open(db);
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
    await store.close();
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
