import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { workflow } from '../../src/index.js';
import { engineScope, interceptStore, tempStore } from './helpers.js';

const scope = engineScope();
afterEach(() => scope.closeAll());

/** A door the test opens once. */
function door() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/**
 * The real store, whose journal writes the test can see (how many entries each carried), hold
 * (the first one waits for `firstWrite`), or fail (the one numbered `failWrite`, from 1).
 */
async function watchedStore(options: { firstWrite?: Promise<void>; failWrite?: number } = {}) {
  const { store, cleanup } = await tempStore();
  scope.track(cleanup);
  const writes: number[] = [];
  /** Entries committed with the run's completion. */
  const withCompletion: number[] = [];
  const write = async <T>(n: number, original: () => Promise<T>): Promise<T> => {
    writes.push(n);
    if (writes.length === 1 && options.firstWrite) await options.firstWrite;
    if (writes.length === options.failWrite) throw new Error('the disk is on fire');
    return original();
  };
  const watched = interceptStore(store, {
    completeStep: (original, input) => {
      if (input.journal) withCompletion.push(input.journal.length);
      return original(input);
    },
    recordEntry: (original, input) => write(1, () => original(input)),
    recordEntries: (original, inputs) => write(inputs.length, () => original(inputs)),
  });
  return { store: watched, writes, withCompletion };
}

/** Lets real I/O happen until `check` holds. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

describe("a workflow's journal", () => {
  it("per step (the default): a step starts only once the previous one's result committed", async () => {
    const first = door();
    const started: string[] = [];
    const steady = workflow('steady', {}, async (ctx) => {
      let total = 0;
      for (let i = 1; i <= 4; i++)
        total += await ctx.step(`s${i}`, () => (started.push(`s${i}`), i));
      return total;
    });
    expect(steady.journal).toBe('per-step');
    const { store, writes } = await watchedStore({ firstWrite: first.opened });
    const { engine } = await scope.engineFor({ store, definitions: [steady] });
    const run = await engine.submit(steady);
    await until(() => writes.length > 0);
    // s1's result is held on its way to the store: s2 must wait for it.
    await new Promise((r) => setTimeout(r, 50));
    expect(started).toEqual(['s1']);
    first.open();
    expect((await engine.wait(run.id)).status).toBe('succeeded');
    expect(await engine.result(run.id)).toBe(10);
    expect(writes).toEqual([1, 1, 1, 1]);
  });

  /**
   * Four runs of a 3-step workflow on a store whose first two journal writes wait for `held`;
   * `shared` fails every write shared by several runs when given.
   */
  async function fourRunsSharing(options: { sharedFails?: boolean } = {}) {
    const held = door();
    const started: string[] = [];
    const steady = workflow('steady', {}, async (ctx) => {
      let total = 0;
      for (let i = 1; i <= 3; i++)
        total += await ctx.step(`s${i}`, () => (started.push(`s${i}`), i));
      return total;
    });
    const { store, cleanup } = await tempStore();
    scope.track(cleanup);
    let writes = 0;
    const shared: number[] = [];
    const hold = async <T>(original: () => Promise<T>): Promise<T> => {
      if (++writes <= 2) await held.opened;
      return original();
    };
    const watched = interceptStore(store, {
      recordEntry: (original, input) => hold(() => original(input)),
      recordEntries: (original, inputs) => hold(() => original(inputs)),
      recordEntryGroups: async (original, groups) => {
        shared.push(groups.length);
        if (options.sharedFails) throw new Error('the shared write broke');
        return original(groups);
      },
    });
    const { engine } = await scope.engineFor({ store: watched, definitions: [steady] });
    const runs = await Promise.all([1, 2, 3, 4].map(() => engine.submit(steady)));
    // Every run's first step ran; two results are held on their way, the others wait behind.
    await until(() => started.length === 4);
    await new Promise((r) => setTimeout(r, 50));
    expect(started).toEqual(['s1', 's1', 's1', 's1']);
    held.open();
    for (const run of runs) {
      expect((await engine.wait(run.id)).status).toBe('succeeded');
      expect(await engine.result(run.id)).toBe(6);
    }
    return { shared, started };
  }

  it('per step: runs stepping at once share commits, each step still after its own result', async () => {
    const { shared, started } = await fourRunsSharing();
    // The two results that waited behind the held ones went in one write.
    expect(shared.some((n) => n >= 2)).toBe(true);
    expect(started).toHaveLength(12);
  });

  it('per step: when a shared write fails, each run writes its own and goes on', async () => {
    const { shared, started } = await fourRunsSharing({ sharedFails: true });
    expect(shared.length).toBeGreaterThan(0);
    expect(started).toHaveLength(12);
  });

  it('batched: the next steps run while a result commits, and commit together, in order', async () => {
    const first = door();
    const started: string[] = [];
    const quick = workflow('quick', { journal: 'batched' }, async (ctx) => {
      let total = 0;
      for (let i = 1; i <= 6; i++) {
        total += await ctx.step(`s${i}`, async () => {
          started.push(`s${i}`);
          // Some I/O: the results before it are written meanwhile.
          await new Promise((r) => setTimeout(r, 2));
          // The first result is still being written when the fifth step runs.
          if (i === 5) first.open();
          return i;
        });
      }
      return total;
    });
    const { store, writes, withCompletion } = await watchedStore({ firstWrite: first.opened });
    const { engine, events } = await scope.engineFor({ store, definitions: [quick] });
    const run = await engine.submit(quick);
    expect((await engine.wait(run.id)).status).toBe('succeeded');
    expect(await engine.result(run.id)).toBe(21);
    expect(started).toEqual(['s1', 's2', 's3', 's4', 's5', 's6']);
    // s1 alone, then what queued while it was held (s2–s4 at least); the rest, if any, with the
    // run's completion: every result once, in fewer commits than steps.
    expect(writes[0]).toBe(1);
    expect(Math.max(...writes.slice(1), ...withCompletion)).toBeGreaterThanOrEqual(3);
    expect([...writes, ...withCompletion].reduce((a, b) => a + b, 0)).toBe(6);
    expect(writes.length + 1).toBeLessThan(6);
    const journal = (await store.listSteps(run.id)).filter((s) => s.kind === 'step');
    expect(journal.map((s) => [s.seq, s.key, s.status, s.output])).toEqual(
      [1, 2, 3, 4, 5, 6].map((i) => [i - 1, `s${i}`, 'succeeded', String(i)]),
    );
    const attempts = await store.listAttempts(run.id);
    expect(attempts.filter((a) => a.status === 'succeeded').map((a) => a.stepKey)).toEqual(
      expect.arrayContaining(['s1', 's2', 's3', 's4', 's5', 's6']),
    );
    // Each step's success is told once its result has committed, in order.
    const done = events.filter(
      (e) => e.type === 'step' && e.runId === run.id && e.status === 'succeeded',
    );
    expect(done.map((e) => (e.type === 'step' ? e.step : ''))).toEqual([
      's1',
      's2',
      's3',
      's4',
      's5',
      's6',
    ]);
  });

  it("batched: steps that do no I/O commit with the run's completion, in one transaction", async () => {
    const pure = workflow('pure', { journal: 'batched' }, async (ctx) => {
      let total = 0;
      for (let i = 1; i <= 10; i++) total += await ctx.step(`s${i}`, () => i);
      return total;
    });
    const { store, writes, withCompletion } = await watchedStore();
    const { engine } = await scope.engineFor({ store, definitions: [pure] });
    const run = await engine.submit(pure);
    expect((await engine.wait(run.id)).status).toBe('succeeded');
    expect(await engine.result(run.id)).toBe(55);
    expect(writes).toEqual([]);
    expect(withCompletion).toEqual([10]);
    const journal = (await store.listSteps(run.id)).filter((s) => s.kind === 'step');
    expect(journal.map((s) => [s.key, s.status])).toEqual(
      Array.from({ length: 10 }, (_, i) => [`s${i + 1}`, 'succeeded']),
    );
  });

  it('batched: every result commits before the run parks, and the run resumes from them', async () => {
    const calls: string[] = [];
    const napper = workflow('napper', { journal: 'batched' }, async (ctx) => {
      const a = await ctx.step('a', () => (calls.push('a'), 1));
      const b = await ctx.step('b', () => (calls.push('b'), 2));
      await ctx.sleep('nap', '10ms');
      const c = await ctx.step('c', () => (calls.push('c'), 3));
      return a + b + c;
    });
    const { store } = await watchedStore();
    const { engine } = await scope.engineFor({ store, definitions: [napper], pollMs: 5 });
    const run = await engine.submit(napper);
    expect((await engine.wait(run.id)).status).toBe('succeeded');
    expect(await engine.result(run.id)).toBe(6);
    // The resume replayed a and b from the journal: each ran once.
    expect(calls).toEqual(['a', 'b', 'c']);
  });

  it('batched: a result that fails to commit fails the run at its next step', async () => {
    const ran: string[] = [];
    const doomed = workflow('doomed', { journal: 'batched' }, async (ctx) => {
      for (let i = 1; i <= 5; i++) {
        await ctx.step(`s${i}`, async () => {
          ran.push(`s${i}`);
          await new Promise((r) => setTimeout(r, 2));
          return i;
        });
      }
      return 'unreachable';
    });
    const { store } = await watchedStore({ failWrite: 1 });
    const { engine } = await scope.engineFor({ store, definitions: [doomed] });
    const run = await engine.submit(doomed);
    const finished = await engine.wait(run.id);
    expect(finished.status).toBe('failed');
    expect(finished.error?.message).toMatch(/the disk is on fire/);
    expect(ran.length).toBeLessThan(5);
  });

  it('refuses an unknown journal mode, naming the workflow', () => {
    expect(() => workflow('odd', { journal: 'sometimes' as never }, async () => 1)).toThrow(
      ConfigError,
    );
    expect(() => workflow('odd', { journal: 'sometimes' as never }, async () => 1)).toThrow(
      /workflow odd: journal must be 'per-step' or 'batched'/,
    );
  });
});
