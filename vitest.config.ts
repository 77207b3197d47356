import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['weft-source', 'import', 'node', 'default'] },
  // Vitest also hands these to the test processes as Node's --conditions: 'import' there would
  // make require() of a dual package (pg's pg-pool) load its ESM build. Vite adds
  // import/require itself, per import.
  ssr: { resolve: { conditions: ['weft-source', 'node', 'default'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'weft',
          include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
          // The browser suites need Chromium and the built UI: `npm run test:browser`.
          exclude: ['test/browser/**', '**/node_modules/**'],
        },
      },
      {
        // The engine integration suites again, on the Postgres store.
        extends: true,
        test: {
          name: 'engine-on-postgres',
          include: [
            'test/engine/engine.test.ts',
            'test/engine/workflow.test.ts',
            'test/engine/workers.test.ts',
            'test/engine/submit-many.test.ts',
            'test/engine/workflow-journal.test.ts',
          ],
          env: { WEFT_TEST_BACKEND: 'postgres' },
        },
      },
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One Postgres for the whole run (WEFT_TEST_PG_URL, or an embedded one booted here).
    globalSetup: ['test/support/postgres-global.ts'],
  },
});
