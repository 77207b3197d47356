/**
 * vitest `globalSetup` of the browser suites: builds the web UI into `dist/ui` (Vite, as
 * `npm run build` does) when it is missing or older than any of its sources, and always in CI,
 * so the suites never test a stale bundle.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const BUILT = join(ROOT, 'dist/ui/index.html');

/** The newest modification time of the files under `path` (a file or a folder). */
function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let latest = 0;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

/** Why the UI needs building, or null when `dist/ui` is up to date. */
export function staleReason(): string | null {
  if (process.env.CI) return 'CI builds the UI every time';
  if (!existsSync(BUILT)) return 'dist/ui/index.html is missing';
  const built = statSync(BUILT).mtimeMs;
  const sources = Math.max(
    newest(join(ROOT, 'ui/src')),
    newest(join(ROOT, 'ui/index.html')),
    newest(join(ROOT, 'ui/vite.config.ts')),
  );
  return sources > built ? 'ui/ changed since dist/ui was built' : null;
}

export function buildUi(): void {
  const vite = join(
    dirname(createRequire(import.meta.url).resolve('vite/package.json')),
    'bin/vite.js',
  );
  const result = spawnSync(
    process.execPath,
    [vite, 'build', '--config', 'ui/vite.config.ts', '--logLevel', 'warn'],
    // A production build, as npm run build makes: vitest sets NODE_ENV=test, and Vite would
    // bundle React's development build under it (several times slower to render).
    { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } },
  );
  if (result.status !== 0) {
    throw new Error(
      `building the web UI failed (vite build --config ui/vite.config.ts exited ${result.status ?? result.signal}); fix the build, or run npm run build to see why`,
    );
  }
}

export default function setup(): void {
  const reason = staleReason();
  if (reason === null) return;
  process.stdout.write(`browser tests: building the web UI (${reason})\n`);
  buildUi();
}
