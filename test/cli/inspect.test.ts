import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, runIdOf, tempDir, weft } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('weft runs and weft show', () => {
  it('list runs, and show a run with its steps, fan-out items, logs and error stack', async () => {
    const db = join(tmp.dir, 'inspect.db');
    const failed = await weft(['run', fixture('failing.ts'), '--db', db]);
    expect(failed.code).toBe(1);
    const ok = await weft(['run', fixture('basic.ts'), '-p', 'n=2', '-p', 'label=x', '--db', db]);
    expect(ok.code).toBe(0);
    const failedId = runIdOf(failed.stdout);
    const okId = runIdOf(ok.stdout);

    const [table, json, showFailed, showOk, missing] = await Promise.all([
      weft(['runs', '--db', db]),
      weft(['runs', '--db', db, '--status', 'failed', '--json']),
      weft(['show', failedId, '--db', db]),
      weft(['show', okId, '--db', db]),
      weft(['show', 'run_nope', '--db', db]),
    ]);

    expect(table.code).toBe(0);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^ID +KIND +NAME +STATUS +STARTED +DURATION$/);
    // Newest first.
    expect(rows[1]).toMatch(
      new RegExp(
        `^${okId} +pipeline +basic +succeeded +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +\\d+ ms$`,
      ),
    );
    expect(rows[2]).toMatch(new RegExp(`^${failedId} +pipeline +failing +failed +`));

    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as { id: string; status: string; params: unknown }[];
    expect(listed.map((r) => [r.id, r.status])).toEqual([[failedId, 'failed']]);

    expect(showFailed.code).toBe(0);
    const f = showFailed.stdout;
    expect(f).toMatch(new RegExp(`^run ${failedId} {2}failed$`, 'm'));
    expect(f).toMatch(/^ {2}pipeline +failing$/m);
    expect(f).toMatch(/^ {2}trigger +cli$/m);
    expect(f).toMatch(/^ {2}✖ {2}flaky +failed +2 attempts/m);
    expect(f).toMatch(/^ {6}attempt 1 failed after \d+ ms: disk full$/m);
    expect(f).toMatch(/^ {6}Error: disk full$/m);
    // The stack points into the user's file, indented under the step.
    expect(f).toMatch(/^ {8}at .*test\/fixtures\/cli\/failing\.ts:\d+:\d+\)?$/m);
    expect(f).toMatch(/^ {6}\d\d:\d\d:\d\d\.\d{3} warn {2}attempt 2 over 3 rows$/m);
    expect(f).toMatch(/^ {2}- {2}after +skipped$/m);

    expect(showOk.code).toBe(0);
    const o = showOk.stdout;
    expect(o).toMatch(/^ {2}params +\{ n: 2, label: 'x', tags: \[\] \}$/m);
    expect(o).toMatch(/^ {2}✔ {2}doubled +succeeded .* 2 items: 2 succeeded$/m);
    // Items are listed under their map node, indented further.
    expect(o).toMatch(
      /^ {2}✔ {2}doubled .*\n {4}✔ {2}doubled\[0\] +succeeded .*→ 2\n {4}✔ {2}doubled\[1\] +succeeded .*→ 4$/m,
    );
    expect(o).toMatch(/^ {6}\d\d:\d\d:\d\d\.\d{3} info {2}report for x$/m);

    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /^weft: run run_nope not found in .*inspect\.db; list runs with weft runs\n$/,
    );
  });
});

describe('weft resume', () => {
  it('finishes a run whose process died mid-run, and says when a run already finished', async () => {
    const db = join(tmp.dir, 'resume.db');
    const env = { WEFT_CRASH_MARKER: join(tmp.dir, 'crashed') };
    const crashed = await weft(['run', fixture('crash.ts'), '--db', db], { env });
    expect(crashed.signal).toBe('SIGKILL');
    expect(crashed.stdout).toMatch(/first succeeded/);
    expect(crashed.stdout).toMatch(/second running \(attempt 1\)/);
    const runId = runIdOf(crashed.stdout);

    const resumed = await weft(['resume', runId, fixture('crash.ts'), '--db', db], { env });
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`^resuming run ${runId} pipeline crashy`, 'm'));
    expect(resumed.stdout).not.toMatch(/first running/);
    expect(resumed.stdout).toMatch(/second running \(attempt 2\)/);
    expect(resumed.stdout).toMatch(/third succeeded/);
    expect(resumed.stdout).toMatch(new RegExp(`^✔ run ${runId} succeeded`, 'm'));
    expect(resumed.stdout).toMatch(/^ {2}outputs {2}third = "one\+two\+three"$/m);

    const [again, show] = await Promise.all([
      weft(['resume', runId, fixture('crash.ts'), '--db', db]),
      weft(['show', runId, '--db', db]),
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^run ${runId} already finished: succeeded`));
    // The attempt lost with the dead process is on record.
    expect(show.stdout).toMatch(/^ {6}attempt 1 interrupted after [\d.]+ m?s/m);
  });
});
