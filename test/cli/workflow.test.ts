import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { fixture, runIdOf, spawnWeft, tempDir, weft } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const TIME = String.raw`\d\d:\d\d:\d\d\.\d{3}`;
const RUN_ID = String.raw`run_\w+`;
const lines = (pattern: string) => new RegExp(pattern, 'm');

describe.concurrent('weft run with a workflow', () => {
  it('parks on a sleep and a child run, resumes in-process, and prints the result', async () => {
    const db = join(tmp.dir, 'greeter.db');
    const r = await weft([
      'run',
      fixture('workflow.ts'),
      'greeter',
      '-p',
      'name=ada',
      '-p',
      'n=21',
      '--db',
      db,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout;
    const runId = runIdOf(out);
    expect(out).toMatch(lines(`^run ${runId} workflow greeter · .*greeter\\.db$`));
    expect(out).toMatch(lines(`^${TIME} greet running \\(attempt 1\\)$`));
    expect(out).toMatch(lines(`^${TIME} \\[greet\\] greeting ada$`));
    expect(out).toMatch(lines(`^${TIME} greet succeeded in \\d+ ms$`));
    expect(out).toMatch(lines(`^${TIME} pause sleeping until ${TIME} \\(50 ms\\)$`));
    expect(out).toMatch(lines(`^${TIME} parked: sleeping until ${TIME} \\(entry "pause"\\)$`));
    expect(out).toMatch(lines(`^${TIME} pause woke up after \\d+ ms$`));
    const child = new RegExp(`run:double started child run (${RUN_ID}) \\(double\\)`).exec(out);
    expect(child).not.toBeNull();
    const childId = child![1]!;
    expect(out).toMatch(lines(`^${TIME} parked: waiting for child run ${childId} \\(double\\)$`));
    expect(out).toMatch(lines(`^${TIME} run:double child run ${childId} succeeded in \\d+ ms$`));
    expect(out).toMatch(lines(`^${TIME} \\[\\$run\\] all done$`));
    // Each park is followed by a resume, in order.
    const order = out
      .split('\n')
      .map((l) => /^\S+ (parked|resumed)\b/.exec(l)?.[1])
      .filter(Boolean);
    expect(order).toEqual(['parked', 'resumed', 'parked', 'resumed']);
    expect(out).toMatch(lines(`^✔ run ${runId} succeeded in \\d+ ms \\(workflow greeter\\)$`));
    expect(out).toMatch(/^ {2}journal {2}1 step, 1 sleep, 1 child run: 3 succeeded$/m);
    expect(out).toMatch(/^ {2}result {3}\{ greeting: 'hello ada', doubled: 42 \}$/m);

    const [show, runs, json] = await Promise.all([
      weft(['show', runId, '--db', db]),
      weft(['runs', '--db', db]),
      weft(['show', runId, '--db', db, '--json']),
    ]);
    expect(show.code).toBe(0);
    const s = show.stdout;
    expect(s).toMatch(lines(`^run ${runId} {2}succeeded$`));
    expect(s).toMatch(/^ {2}workflow +greeter$/m);
    expect(s).toMatch(/^ {2}input +\{ name: 'ada', n: 21 \}$/m);
    expect(s).toMatch(/^ {2}result +\{ greeting: 'hello ada', doubled: 42 \}$/m);
    expect(s).not.toMatch(/^ {2}parked/m);
    // The journal in order, each entry with its kind and what it did.
    const journal = s.split('\n').filter((l) => /^ {2}#\d/.test(l));
    expect(journal).toHaveLength(3);
    expect(journal[0]).toMatch(/^ {2}#0 +✔ +step +greet +succeeded +1 attempt .*→ "hello ada"$/);
    expect(journal[1]).toMatch(new RegExp(`^ {2}#1 +✔ +sleep +pause +succeeded .* until ${TIME}$`));
    expect(journal[2]).toMatch(
      new RegExp(
        `^ {2}#2 +✔ +child +run:double +succeeded .* child run ${childId} \\(double\\) → 42$`,
      ),
    );
    expect(s).toMatch(lines(`^ {6}${TIME} info {2}greeting ada$`));
    expect(s).toMatch(/^child runs {2}1 succeeded$/m);
    expect(s).toMatch(lines(`^ {2}✔ {2}${childId} {2}workflow double {2}succeeded`));
    expect(s).toMatch(/^workflow function \(\$run\)$/m);
    expect(s).toMatch(lines(`^ {6}${TIME} info {2}all done$`));

    expect(runs.code).toBe(0);
    expect(runs.stdout).toMatch(/^ID +KIND +NAME +STATUS +STARTED +DURATION$/m);
    expect(runs.stdout).toMatch(lines(`^${runId} +workflow +greeter +succeeded `));
    expect(runs.stdout).toMatch(lines(`^${childId} +workflow +double +succeeded `));

    const data = JSON.parse(json.stdout) as {
      run: { input: unknown };
      steps: { key: string; kind: string; seq: number | null }[];
      children: { id: string; parentRunId: string }[];
    };
    expect(data.run.input).toEqual({ name: 'ada', n: 21 });
    expect(data.steps.filter((x) => x.seq !== null).map((x) => [x.seq, x.kind, x.key])).toEqual([
      [0, 'step', 'greet'],
      [1, 'sleep', 'pause'],
      [2, 'child', 'run:double'],
    ]);
    expect(data.children).toEqual([expect.objectContaining({ id: childId, parentRunId: runId })]);
  });

  it('takes the whole input as JSON with --input and prints the result as JSON with --json', async () => {
    const db = join(tmp.dir, 'json.db');
    const r = await weft([
      'run',
      fixture('workflow.ts'),
      'greeter',
      '--input',
      '{"name":"bo","n":1}',
      '--json',
      '--db',
      db,
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ greeting: 'hello bo', doubled: 2 });
    expect(r.stderr).toMatch(/parked: sleeping until/);
  });
});

describe.concurrent('weft event send', () => {
  it('wakes a workflow another process runs, which then finishes', async () => {
    const db = join(tmp.dir, 'events.db');
    const running = spawnWeft([
      'run',
      fixture('workflow.ts'),
      'approval',
      '-p',
      'id=po-7',
      '--db',
      db,
    ]);
    try {
      const runId = (await running.waitFor(new RegExp(`^run (${RUN_ID}) `, 'm')))[1]!;
      await running.waitFor(/parked: waiting for event/);
      // The store says so too.
      const store = SqliteStore.open(db);
      try {
        expect((await store.getRun(runId))?.status).toBe('waiting');
      } finally {
        await store.close();
      }

      const show = await weft(['show', runId, '--db', db]);
      expect(show.stdout).toMatch(lines(`^run ${runId} {2}waiting$`));
      expect(show.stdout).toMatch(
        lines(
          `^ {2}parked +waiting for event "approved" key=po-7 until ${TIME} \\(entry "decision"\\)$`,
        ),
      );
      expect(show.stdout).toMatch(
        lines(`^ {2}#0 +◷ +event +decision +waiting .* for "approved" key=po-7 until ${TIME}$`),
      );

      const sent = await weft([
        'event',
        'send',
        'approved',
        '--key',
        'po-7',
        '--data',
        '{"ok":true}',
        '--idempotency-key',
        'decision-po-7',
        '--db',
        db,
      ]);
      expect(sent.stderr).toBe('');
      expect(sent.code).toBe(0);
      const eventId = /^sent event (evt_\w+) "approved" key=po-7 to /m.exec(sent.stdout)?.[1];
      expect(eventId).toBeDefined();
      expect(sent.stdout).toMatch(lines(`^woke 1 run: ${runId}$`));

      const finished = await running.done;
      expect(finished.stderr).toBe('');
      expect(finished.code).toBe(0);
      const out = finished.stdout;
      expect(out).toMatch(lines(`^${TIME} decision waiting for event "approved" key=po-7$`));
      expect(out).toMatch(
        lines(
          `^${TIME} parked: waiting for event "approved" key=po-7 until ${TIME} \\(entry "decision"\\)$`,
        ),
      );
      expect(out).toMatch(lines(`^${TIME} resumed after \\d`));
      expect(out).toMatch(
        lines(
          `^${TIME} decision succeeded: received event ${eventId} "approved" key=po-7 → \\{ ok: true \\}$`,
        ),
      );
      expect(out).toMatch(/^ {2}result {3}\{ id: 'po-7', ok: true \}$/m);

      // The same idempotency key again: one event, nothing woken.
      const again = await weft([
        'event',
        'send',
        'approved',
        '--key',
        'po-7',
        '--idempotency-key',
        'decision-po-7',
        '--db',
        db,
        '--json',
      ]);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toEqual({ event: eventId, created: false, woken: [] });
    } finally {
      running.kill();
    }
  });
});

describe('weft resume with a workflow', () => {
  it('follows a parked run whose process died, and finishes it when the event comes', async () => {
    const db = join(tmp.dir, 'resume.db');
    const first = spawnWeft([
      'run',
      fixture('workflow.ts'),
      'approval',
      '-p',
      'id=po-9',
      '--db',
      db,
    ]);
    let runId: string;
    try {
      runId = (await first.waitFor(new RegExp(`^run (${RUN_ID}) `, 'm')))[1]!;
      await first.waitFor(/parked: waiting for event/);
    } finally {
      first.kill();
    }
    expect((await first.done).signal).toBe('SIGKILL');

    const resumed = spawnWeft(['resume', runId, fixture('workflow.ts'), '--db', db]);
    try {
      // A run resumed while parked starts out parked.
      await resumed.waitFor(/parked: waiting for event "approved" key=po-9/);
      const sent = await weft([
        'event',
        'send',
        'approved',
        '--key',
        'po-9',
        '--data',
        '{"ok":false}',
        '--db',
        db,
      ]);
      expect(sent.stdout).toMatch(lines(`^woke 1 run: ${runId}$`));
      const r = await resumed.done;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(lines(`^resuming run ${runId} workflow approval · `));
      expect(r.stdout).toMatch(/^1 journal entry recorded \(0 done\)/m);
      expect(r.stdout).toMatch(
        lines(`^${TIME} decision succeeded: received event evt_\\w+ "approved" key=po-9`),
      );
      expect(r.stdout).toMatch(/^ {2}result {3}\{ id: 'po-9', ok: false \}$/m);
    } finally {
      resumed.kill();
    }
  });
});

describe.concurrent('workflow usage errors: one line on stderr, exit code 2', () => {
  const db = join(tmp.dir, 'usage.db');
  const cases: [string, string[], RegExp][] = [
    [
      'event send with --data that is not JSON',
      ['event', 'send', 'approved', '--data', '{ok:true}', '--db', db],
      /^weft: --data is not valid JSON \(.*\); quote it for the shell, e\.g\. --data '\{"approved":true\}'$/,
    ],
    [
      'event send to a database that does not exist',
      ['event', 'send', 'approved', '--db', join(tmp.dir, 'missing.db')],
      /^weft: no Weft database at .*missing\.db; start a run with weft run/,
    ],
    [
      'graph of a workflow',
      ['graph', fixture('workflow.ts'), 'greeter'],
      /^weft: workflow greeter has no static graph: the steps of a workflow are decided as it runs; run it and see its journal with weft show <runId>$/,
    ],
    [
      'an unknown input field',
      ['run', fixture('workflow.ts'), 'approval', '-p', 'po=1', '--db', db],
      /^weft: workflow approval has no input field "po"; its input fields are: id$/,
    ],
    [
      'invalid input',
      ['run', fixture('workflow.ts'), 'greeter', '-p', 'name=x', '-p', 'n=abc', '--db', db],
      /^weft: workflow greeter: invalid input: n: .*; fix with --param n=…$/,
    ],
    [
      '--output with a workflow',
      ['run', fixture('workflow.ts'), 'approval', '-p', 'id=1', '--output', 'x', '--db', db],
      /^weft: --output applies to pipelines; workflow approval returns one result: remove --output$/,
    ],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const r = await weft(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
  });
});
