import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { fixture, runIdOf, tempDir, weft } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('a task called inside a workflow run by the CLI', () => {
  it('is journaled as a step, although the file loads its own copy of the SDK', async () => {
    const db = join(tmp.dir, 'hook.db');
    const run = await weft(['run', fixture('task-in-workflow.ts'), '--db', db]);
    expect(run.code, run.stderr).toBe(0);
    const store = SqliteStore.open(db);
    const steps = await store.listSteps(runIdOf(run.stdout));
    await store.close();
    expect(steps.filter((s) => s.kind === 'step').map((s) => [s.key, s.status])).toEqual([
      ['shout', 'succeeded'],
    ]);
  });
});
