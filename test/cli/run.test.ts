import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, tempDir, weft } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const TIME = String.raw`\d\d:\d\d:\d\d\.\d{3}`;

describe.concurrent('weft run', () => {
  it('runs a pipeline in .weft/ of the current directory, with plain progress lines and a summary', async () => {
    const cwd = join(tmp.dir, 'project');
    mkdirSync(cwd);
    const r = await weft(
      [
        'run',
        fixture('basic.ts'),
        '--param',
        'n=3',
        '--param',
        'label=2026',
        '--param',
        'tags=["a","b"]',
      ],
      { cwd },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^run run_\w+ pipeline basic · \.weft\/weft\.db$/m);
    expect(r.stdout).toMatch(new RegExp(`^${TIME} numbers running \\(attempt 1\\)$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${TIME} numbers succeeded in \\d+ ms$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${TIME} doubled fanned out to 3 items$`, 'm'));
    expect(r.stdout).toMatch(
      new RegExp(`^${TIME} doubled succeeded in \\d+ ms \\(3/3 items\\)$`, 'm'),
    );
    // Step logs (the logger and console.log) are prefixed with the step key.
    expect(r.stdout).toMatch(new RegExp(`^${TIME} \\[report\\] report for 2026$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${TIME} \\[report\\] tags a\\+b$`, 'm'));
    // Summary: status, counts, and the final nodes' values.
    expect(r.stdout).toMatch(/^✔ run run_\w+ succeeded in \d+ ms \(pipeline basic\)$/m);
    expect(r.stdout).toMatch(/^ {2}nodes {4}5 succeeded {2}· {2}items 3 succeeded$/m);
    expect(r.stdout).toMatch(
      /^ {2}outputs {2}echo = \{ n: 3, label: '2026', tags: \[ 'a', 'b' \] \}$/m,
    );
    expect(r.stdout).toMatch(/^ {11}report = "2026: 12"$/m);
    expect(existsSync(join(cwd, '.weft/weft.db'))).toBe(true);
  });

  it('coerces --param by the schema (strings stay text) and prints --output values as JSON', async () => {
    const db = join(tmp.dir, 'json.db');
    const r = await weft([
      'run',
      fixture('basic.ts'),
      'basic',
      '-p',
      'n=2',
      '-p',
      'label=007',
      '--output',
      'echo,total',
      '--json',
      '--db',
      db,
    ]);
    expect(r.code).toBe(0);
    // stdout holds only the JSON; progress and summary go to stderr.
    expect(JSON.parse(r.stdout)).toEqual({ echo: { n: 2, label: '007', tags: [] }, total: 6 });
    expect(r.stderr).toMatch(/succeeded/);
    expect(r.stderr).not.toMatch(/report/);
  });

  it('exits 1 when the run fails, naming the failed node and its error', async () => {
    const db = join(tmp.dir, 'fail.db');
    const r = await weft(['run', fixture('failing.ts'), '--db', db]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${TIME} \\[flaky\\] warn: attempt 1 over 3 rows$`, 'm'));
    expect(r.stdout).toMatch(
      new RegExp(
        `^${TIME} flaky failed \\(attempt 1/2\\): disk full; retrying at ${TIME} \\(in \\d+ ms\\)$`,
        'm',
      ),
    );
    expect(r.stdout).toMatch(
      new RegExp(`^${TIME} flaky failed in \\d+ ms \\(attempt 2/2\\): disk full$`, 'm'),
    );
    expect(r.stdout).toMatch(/^✖ run run_\w+ failed in [\d.]+ m?s \(pipeline failing\)$/m);
    expect(r.stdout).toMatch(/^ {2}nodes {4}1 succeeded, 1 failed, 1 skipped$/m);
    expect(r.stdout).toMatch(/^ {2}failed {3}flaky: disk full$/m);
    expect(r.stdout).toMatch(/^ {2}details {2}weft show run_\w+ --db /m);
  });
});

describe.concurrent('usage errors: one line on stderr, exit code 2, no stack', () => {
  const db = join(tmp.dir, 'usage.db');
  const cases: [string, string[], RegExp][] = [
    [
      'a param of the wrong type',
      ['run', fixture('basic.ts'), '--param', 'n=abc', '--param', 'label=x'],
      /^weft: pipeline basic: invalid params: n: .*expected number.*; fix with --param n=…$/,
    ],
    [
      'a missing param',
      ['run', fixture('basic.ts'), '--param', 'label=x'],
      /^weft: pipeline basic: invalid params: n: .*--param n=…$/,
    ],
    [
      'an unknown param',
      ['run', fixture('basic.ts'), '--param', 'count=3'],
      /^weft: pipeline basic has no param "count"; its params are: n, label, tags$/,
    ],
    [
      'a --param without =',
      ['run', fixture('basic.ts'), '--param', 'n'],
      /^weft: --param "n" is not key=value; write it as --param name=value/,
    ],
    [
      'a file that does not exist',
      ['run', 'test/fixtures/cli/missing.ts'],
      /^weft: file test\/fixtures\/cli\/missing\.ts not found/,
    ],
    [
      'a file without pipelines or workflows',
      ['run', fixture('empty.ts')],
      /^weft: .*empty\.ts exports no pipeline or workflow; export one/,
    ],
    [
      'an unknown pipeline',
      ['run', fixture('multi.ts'), 'gamma'],
      /^weft: .*multi\.ts has no pipeline "gamma"; available: alpha, beta$/,
    ],
    [
      'several pipelines and none named',
      ['graph', fixture('multi.ts')],
      /^weft: .*multi\.ts has 2 pipelines \(alpha, beta\); name the one to use/,
    ],
    [
      'an unknown output',
      ['run', fixture('multi.ts'), 'beta', '--output', 'helo'],
      /^weft: .*unknown output "helo"; did you mean "hello"\?/,
    ],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const r = await weft([...args, ...(args[0] === 'run' ? ['--db', db] : [])]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
    // Rejected before anything ran: no database was created.
    expect(existsSync(db)).toBe(false);
  });
});
