// `npm run bench:peers`: installs bench/ (the peers live in bench/node_modules only) when its
// install is missing or older than bench/package-lock.json, then runs the peer benchmark from
// source with tsx. Flags go through: `npm run bench:peers -- --quick --peers=weft-postgres,pg-boss`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/**
 * path → version of each package a lockfile lists (npm keeps a copy of what it installed in
 * node_modules). Optional ones are left out: those of other platforms are never installed.
 */
const packages = (path) => {
  if (!existsSync(path)) return null;
  const entries = Object.entries(JSON.parse(readFileSync(path, 'utf8')).packages ?? {});
  return new Map(
    entries.filter(([name, p]) => name && !p.optional).map(([name, p]) => [name, p.version]),
  );
};
const wanted = packages('bench/package-lock.json');
const have = packages('bench/node_modules/.package-lock.json');
const stale = !wanted || !have || [...wanted].some(([name, version]) => have.get(name) !== version);
if (stale) {
  console.log('installing bench/ (npm install --prefix bench) …');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const install = spawnSync(npm, ['install', '--prefix', 'bench', '--no-audit', '--no-fund'], {
    stdio: 'inherit',
  });
  if (install.status !== 0) process.exit(install.status ?? 1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', 'bench/peers/run.ts', ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
