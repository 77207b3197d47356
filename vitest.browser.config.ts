import { defineConfig } from 'vitest/config';

// The browser suites: the built UI served by `weft dev`, driven through Debian's Chromium
// (`npm run test:browser`). They start real processes and wait on a real browser, so they run
// one file at a time with generous timeouts.
export default defineConfig({
  resolve: { conditions: ['weft-source', 'import', 'node', 'default'] },
  // As in vitest.config.ts: no 'import' condition for the test processes' Node.
  ssr: { resolve: { conditions: ['weft-source', 'node', 'default'] } },
  test: {
    name: 'browser',
    include: ['test/browser/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 180_000,
    // Builds the UI into dist/ui when it is missing or older than its sources (always in CI).
    globalSetup: ['test/browser/support/build-ui.ts'],
  },
});
