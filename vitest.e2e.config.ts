import { defineConfig } from 'vitest/config';

// Real-server suite: drives the built CLI against the lab (test/lab). Needs `test/lab/lab up` first.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
