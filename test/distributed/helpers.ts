/**
 * Real `weft worker` and `weft migrate` processes for the multi-process tests, on a database
 * of the test run's Postgres; and reading what the fixture's steps wrote about their executions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, type CliResult } from '../cli/helpers.js';

export const WORK = join(ROOT, 'test/fixtures/distributed/work.ts');
const MAIN = join(ROOT, 'src/cli/main.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** A `weft` process: its output so far, signals, and its result once it exits. */
export interface WeftProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the match once stdout or stderr matches; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  signal(signal: NodeJS.Signals): void;
  done: Promise<CliResult>;
}

export function spawnCli(args: readonly string[], env: Record<string, string> = {}): WeftProcess {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...env };
  delete childEnv.FORCE_COLOR;
  delete childEnv.WEFT_DB;
  const child = spawn(
    process.execPath,
    ['--conditions=weft-source', '--import', TSX, MAIN, ...args],
    { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  const changed = () => {
    for (const w of [...watchers]) w();
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => ((out += d), changed()));
  child.stderr.setEncoding('utf8').on('data', (d: string) => ((err += d), changed()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    signal: (signal) => void child.kill(signal),
    done,
    waitFor: (pattern, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`timed out waiting for ${pattern}:\n${out}${err}`));
        }, timeoutMs);
        function check(): void {
          const match = pattern.exec(out) ?? pattern.exec(err);
          if (!match) return;
          watchers.delete(check);
          clearTimeout(timer);
          resolve(match);
        }
        watchers.add(check);
        check();
        void done.then((r) => {
          if (!watchers.has(check)) return;
          watchers.delete(check);
          clearTimeout(timer);
          reject(new Error(`weft exited (${r.code ?? r.signal}) before ${pattern}:\n${out}${err}`));
        });
      }),
  };
}

/** A running `weft worker` on the fixture file, once it is ready, with its worker id. */
export async function startWorker(
  db: string,
  flags: readonly string[],
  env: Record<string, string> = {},
): Promise<WeftProcess & { id: string }> {
  const proc = spawnCli(['worker', WORK, '--db', db, ...flags], env);
  const ready = await proc.waitFor(/^weft worker (\S+) ready: /m, 30_000);
  return Object.assign(proc, { id: ready[1]! });
}

/** A temporary folder for the steps' execution records ($WEFT_TEST_EXEC_DIR). */
export function execDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'weft-exec-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One line a fixture step wrote: which process ran which step, and how far it got. */
export interface Execution {
  pid: number;
  runId: string;
  step: string;
  attempt: number;
  phase: 'start' | 'end';
}

/** Every execution record in `dir`, of every process. */
export function executions(dir: string): Execution[] {
  if (!existsSync(dir)) return [];
  const out: Execution[] = [];
  for (const file of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line) continue;
      const [pid, runId, step, attempt, phase] = line.split(' ');
      out.push({
        pid: Number(pid),
        runId: runId!,
        step: step!,
        attempt: Number(attempt),
        phase: phase as Execution['phase'],
      });
    }
  }
  return out;
}

/** Polls `check` every 50 ms until it returns something other than undefined. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
