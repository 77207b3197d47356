// Compiles src/ to dist/, copies the SQL migrations beside the compiled stores, and builds the
// web UI (ui/, with Vite) into dist/ui, which the server serves.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
rmSync('dist', { recursive: true, force: true });
execFileSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  {
    stdio: 'inherit',
  },
);
for (const dialect of ['sqlite', 'postgres']) {
  const from = `src/store/${dialect}/migrations`;
  if (existsSync(from)) cpSync(from, `dist/store/${dialect}/migrations`, { recursive: true });
}

if (existsSync('ui/vite.config.ts')) {
  // React's production build, whatever NODE_ENV the caller runs with (Vite bundles the
  // development build under NODE_ENV=development or test).
  process.env.NODE_ENV = 'production';
  const { build } = await import('vite');
  await build({ configFile: 'ui/vite.config.ts', logLevel: 'warn' });
}
