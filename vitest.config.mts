import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Race tests start their own processes; two test files at a time keep a 2-core machine honest.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
