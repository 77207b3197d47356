#!/usr/bin/env node
// The `weft` command: runs the compiled CLI. `dist/` is built by `npm run build` (and on install,
// by `prepare`).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'weft: the CLI is not built (dist/cli/main.js is missing); run `npm run build` first\n',
  );
  process.exit(1);
}
await import(main.href);
