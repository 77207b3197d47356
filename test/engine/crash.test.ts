import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { countLines, runFixture } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runner = (args: string[]) => runFixture('crash-runner.ts', ['crashy', ...args]);
const counts = countLines;

const ALL = ['a', 'b', 'c[0]', 'c[1]', 'c[2]', 'c[3]', 'side', 'd'];
// c = [0, 2, 4, 6] + 1 each = [1, 3, 5, 7] → 16; side = 20 → d = 36.
const EXPECTED_D = 36;

describe('SIGKILL in the middle of a run, then a new process resumes it', () => {
  const cases: [point: string, step: string, ranTwice: string | null][] = [
    ['afterClaim', 'b', null],
    ['beforeAttempt', 'c[1]', null],
    ['beforeCommit', 'a', 'a'],
    ['beforeCommit', 'c[2]', 'c[2]'],
    ['afterCommit', 'b', null],
    ['afterClaim', 'c', null],
    ['beforeCommit', 'd', 'd'],
  ];

  it.each(cases)('killed at %s of %s', async (point, step, ranTwice) => {
    const db = join(dir, `${point}-${step}.db`);
    const effects = join(dir, `${point}-${step}.effects`);
    const first = runner([db, 'start', effects, point, step]);
    expect(first.signal, first.stderr).toBe('SIGKILL');
    const runId = first.stdout.trim().split('\n')[0]!;
    expect(runId).toMatch(/^run_/);

    const store = SqliteStore.open(db);
    const interrupted = await store.getRun(runId);
    expect(interrupted?.status === 'running' || interrupted?.status === 'queued').toBe(true);
    const recorded = new Set(
      (await store.listSteps(runId)).filter((s) => s.status === 'succeeded').map((s) => s.key),
    );
    await store.close();

    const second = runner([db, 'resume', runId]);
    expect(second.status, second.stderr).toBe(0);
    const result = JSON.parse(second.stdout.trim().split('\n').pop()!) as {
      status: string;
      result: { d: number };
    };
    expect(result.status).toBe('succeeded');
    expect(result.result.d).toBe(EXPECTED_D);

    // Nodes whose results were recorded never ran again; the node killed between its work and
    // its commit ran twice (at-least-once around the crash point). So may a node whose commit
    // was on its way when the process died: a worker's slot is free while its result commits,
    // so even one at a time the next node can start, and reach the crash point, meanwhile.
    const ran = counts(effects);
    for (const key of ALL) {
      if (key === ranTwice) expect(ran[key], key).toBe(2);
      else if (recorded.has(key)) expect(ran[key], key).toBe(1);
      else expect([1, 2], key).toContain(ran[key]);
    }
    expect(recorded.has(step), `${step} recorded before the crash`).toBe(point === 'afterCommit');

    // Every step's result is recorded exactly once.
    const check = SqliteStore.open(db);
    const steps = await check.listSteps(runId);
    expect(steps.every((s) => s.status === 'succeeded')).toBe(true);
    const attempts = await check.listAttempts(runId);
    for (const key of ALL) {
      expect(
        attempts.filter((a) => a.stepKey === key && a.status === 'succeeded'),
        key,
      ).toHaveLength(1);
    }
    await check.close();
  });
});

describe('SIGKILL while a chain is run ahead of its commits', () => {
  it('loses nothing: nodes of the uncommitted batch run again, the rest once', async () => {
    const db = join(dir, 'chain.db');
    const effects = join(dir, 'chain.effects');
    const chain = (args: string[]) => runFixture('crash-runner.ts', ['chainy', ...args]);
    const first = chain([db, 'start', effects, 'beforeCommit', 'n10']);
    expect(first.signal, first.stderr).toBe('SIGKILL');
    const runId = first.stdout.trim().split('\n')[0]!;
    const second = chain([db, 'resume', runId]);
    expect(second.status, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout.trim().split('\n').pop()!)).toEqual({
      status: 'succeeded',
      result: { n29: 29 },
    });
    const ran = counts(effects);
    const keys = Array.from({ length: 30 }, (_, i) => `n${i}`);
    // At least once each, at most twice; the node killed before its commit ran twice, and
    // nothing after it ran before the crash.
    for (const k of keys) expect([1, 2], k).toContain(ran[k]);
    expect(ran.n10).toBe(2);
    for (const k of keys.slice(11)) expect(ran[k], k).toBe(1);
    const store = SqliteStore.open(db);
    const attempts = await store.listAttempts(runId);
    for (const k of keys) {
      expect(
        attempts.filter((a) => a.stepKey === k && a.status === 'succeeded'),
        k,
      ).toHaveLength(1);
    }
    await store.close();
  });
});
