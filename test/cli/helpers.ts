/** Runs the `weft` CLI from source as a child process, the way a user's shell would. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = resolve(import.meta.dirname, '../..');
export const FIXTURES = join(ROOT, 'test/fixtures/cli');
const MAIN = join(ROOT, 'src/cli/main.ts');
// By absolute URL: `--import tsx` would resolve from the child's cwd, which may be a temp dir.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function weft(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return spawnWeft(args, options).done;
}

/** A `weft` process still running: its output so far, and its result once it exits. */
export interface RunningCli {
  output(): { stdout: string; stderr: string };
  /** Resolves once `stdout` matches `pattern` (with the match), or rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  kill(): void;
  /** Sends a signal (SIGTERM, SIGINT) the way a supervisor or Ctrl-C would. */
  signal(signal: NodeJS.Signals): void;
  done: Promise<CliResult>;
}

export function spawnWeft(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): RunningCli {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...options.env };
  delete env.FORCE_COLOR;
  delete env.WEFT_DB;
  const child = spawn(
    process.execPath,
    ['--conditions=weft-source', '--import', TSX, MAIN, ...args],
    {
      cwd: options.cwd ?? ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  const watchers: (() => void)[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of [...watchers]) w();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<CliResult>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
  return {
    output: () => ({ stdout, stderr }),
    waitFor: (pattern) =>
      new Promise((resolvePromise, reject) => {
        const check = () => {
          const match = pattern.exec(stdout);
          if (!match) return false;
          watchers.splice(watchers.indexOf(check), 1);
          resolvePromise(match);
          return true;
        };
        watchers.push(check);
        if (check()) return;
        void done.then((r) => {
          if (!pattern.exec(stdout)) {
            reject(
              new Error(
                `weft exited (${r.code ?? r.signal}) before printing ${pattern}:\n${stdout}${stderr}`,
              ),
            );
          }
        });
      }),
    kill: () => child.kill('SIGKILL'),
    signal: (signal) => child.kill(signal),
    done,
  };
}

/** A fresh temporary directory; `cleanup` removes it. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'weft-cli-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/** The run id from the first line of `weft run` / `weft resume` output. */
export function runIdOf(output: string): string {
  const match = /\brun (run_\w+)/.exec(output);
  if (!match) throw new Error(`no run id in output:\n${output}`);
  return match[1]!;
}
