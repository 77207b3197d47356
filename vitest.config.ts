import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['weft-source', 'import', 'node', 'default'] },
  ssr: { resolve: { conditions: ['weft-source', 'import', 'node', 'default'] } },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
