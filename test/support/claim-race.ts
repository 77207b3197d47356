/**
 * The run several processes claim from at once, in the store tests of every backend: 60 roots
 * and 120 joins on two roots each, and the check that every step was claimed exactly once.
 */
import { expect } from 'vitest';
import type { Store } from '../../src/store/contract/index.js';

export const RACE_RUN = 'run_race';
export const RACE_STEPS = 180;

export async function createRaceRun(store: Store): Promise<void> {
  const roots = Array.from({ length: 60 }, (_, i) => ({ key: `r${i}`, node: 'r', dependsOn: [] }));
  const joins = Array.from({ length: 120 }, (_, i) => ({
    key: `j${i}`,
    node: 'j',
    dependsOn: [`r${i % 60}`, `r${(i * 7 + 1) % 60}`],
  }));
  await store.createRun(
    {
      id: RACE_RUN,
      kind: 'pipeline',
      definition: 'race',
      input: '{}',
      outputs: [],
      trigger: 'test',
      createdAt: Date.now(),
    },
    [...roots, ...joins],
  );
}

/** `outputs`: each worker process's printed JSON list of the step keys it claimed. */
export async function expectRaceClaimedOnce(store: Store, outputs: string[]): Promise<void> {
  const claimed = outputs.flatMap((o) => JSON.parse(o) as string[]);
  expect(claimed).toHaveLength(RACE_STEPS);
  expect(new Set(claimed).size).toBe(RACE_STEPS);
  expect((await store.getRun(RACE_RUN))?.status).toBe('succeeded');
  const attempts = await store.listAttempts(RACE_RUN);
  expect(attempts).toHaveLength(RACE_STEPS);
  expect(new Set(attempts.map((a) => a.workerId)).size).toBeGreaterThan(1);
}
