import { afterEach, describe, expect, it } from 'vitest';
import { createJournalProgress } from '../../src/cli/journal-progress.js';
import type { ProgressView } from '../../src/cli/progress.js';
import { ManualClock } from '../../src/core/clock.js';
import { workflow } from '../../src/index.js';
import type { RunRecord } from '../../src/store/contract/index.js';
import { startEngine } from '../engine/helpers.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

/** A stream that keeps what is written to it. */
function fakeStream(tty: boolean) {
  let text = '';
  const stream = {
    isTTY: tty,
    columns: 100,
    rows: 30,
    write: (chunk: string) => ((text += chunk), true),
  } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

const stepThenWait = workflow('step-then-wait', {}, async (ctx) => {
  const a = await ctx.step('a', () => 1);
  await ctx.sleep('nap', '1h');
  const go = await ctx.waitForEvent<number>('go', { event: 'go', key: 'k', timeout: '1d' });
  return a + (go?.payload ?? 0);
});

async function setup(options: { tty: boolean }) {
  const clock = new ManualClock();
  const e = await startEngine({ definitions: [stepThenWait], clock, pollMs: 60_000 });
  closers.push(e.close);
  const out = fakeStream(options.tty);
  const views: ProgressView[] = [];
  /** A view of the run as it is now in the store, fed by the engine from here on. */
  const watch = async (runId: string) => {
    const run = (await e.store.getRun(runId))!;
    const view = createJournalProgress({
      run,
      store: e.store,
      steps: await e.store.listSteps(runId),
      out: out.stream,
      live: options.tty,
    });
    e.engine.on((event) => view.onEvent(event));
    views.push(view);
    return view;
  };
  closers.push(async () => views.forEach((v) => v.abort()));
  const until = async (runId: string, check: (run: RunRecord) => boolean) => {
    for (let i = 0; i < 500; i++) {
      const run = await e.store.getRun(runId);
      if (run && check(run)) return run;
      await clock.advance(60_000);
    }
    throw new Error('never got there');
  };
  return { ...e, clock, out, watch, until };
}

/** Text without colour escapes (a fake terminal gets colours). */
// eslint-disable-next-line no-control-regex -- stripping ANSI escapes is the point
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

const parkedOn = (kind: string) => (run: RunRecord) =>
  run.status === 'waiting' && run.waitingFor?.kind === kind;

describe('workflow progress', () => {
  it('prints one plain line per journal entry change, park and resume, in order', async () => {
    const t = await setup({ tty: false });
    const run = await t.engine.submit(stepThenWait);
    const view = await t.watch(run.id);
    await t.until(run.id, parkedOn('event'));
    await t.clock.advance(5 * 60_000);
    const { event } = await t.engine.sendEvent('go', 41, { key: 'k' });
    await t.until(run.id, (r) => r.status === 'succeeded');
    await view.finish(await t.store.listSteps(run.id));

    const TIME = String.raw`\d\d:\d\d:\d\d\.\d{3}`;
    const lines = t.out.text().trimEnd().split('\n');
    const expected = [
      `a running \\(attempt 1\\)`,
      `a succeeded in 0 ms`,
      `nap sleeping until ${TIME} \\(1h 00m\\)`,
      `parked: sleeping until ${TIME} \\(entry "nap"\\)`,
      `resumed after 1h 00m`,
      `nap woke up after 1h 00m`,
      `go waiting for event "go" key=k`,
      `parked: waiting for event "go" key=k until 2026-01-02 ${TIME.slice(0, -9)}.* \\(entry "go"\\)`,
      `resumed after [56]m \\d\\ds`,
      `go succeeded: received event ${event.id} "go" key=k → 41`,
    ];
    expect(lines).toHaveLength(expected.length);
    lines.forEach((line, i) => expect(line).toMatch(new RegExp(`^${TIME} ${expected[i]}$`)));
  });

  it('starts out parked for a run that is waiting when it is resumed', async () => {
    const t = await setup({ tty: false });
    const run = await t.engine.submit(stepThenWait);
    await t.until(run.id, parkedOn('sleep'));
    const view = await t.watch(run.id);
    await view.finish(await t.store.listSteps(run.id));
    expect(t.out.text()).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} parked: sleeping until .* \(entry "nap"\)\n$/,
    );
  });

  it('redraws the journal on a terminal, with what a parked run waits for', async () => {
    const t = await setup({ tty: true });
    const run = await t.engine.submit(stepThenWait);
    const view = await t.watch(run.id);
    await t.until(run.id, parkedOn('event'));
    // Frames are drawn on a timer (ten a second).
    await new Promise((r) => setTimeout(r, 250));
    const frame = plain(t.out.text());
    expect(frame).toMatch(/^✔ {2}a +step +succeeded +0 ms$/m);
    expect(frame).toMatch(/^✔ {2}nap +sleep +succeeded +1h 00m$/m);
    expect(frame).toMatch(/^◷ {2}go +event +waiting +.+ {2}"go" key=k$/m);
    expect(frame).toMatch(/^⏸ parked: waiting for event "go" key=k until .* \(entry "go"\) · .+$/m);
    // What the block cannot show scrolls above it.
    expect(frame).toMatch(/parked: sleeping until .*\n/);
    expect(frame).toMatch(/nap woke up after 1h 00m\n/);
    await t.engine.sendEvent('go', 1, { key: 'k' });
    await t.until(run.id, (r) => r.status === 'succeeded');
    await view.finish(await t.store.listSteps(run.id));
    const last = plain(t.out.text()).slice(frame.length);
    expect(last).toMatch(/^✔ {2}go +event +succeeded .* {2}got evt_\w+$/m);
    expect(last).not.toMatch(/⏸ parked/);
    expect(t.out.text().endsWith('\x1b[?25h')).toBe(true); // the cursor is back
  });
});
