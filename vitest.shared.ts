import { defineConfig } from 'vitest/config';

/** One test configuration for every package: run TypeScript sources through the @img/source condition. */
export const sharedConfig = defineConfig({
  resolve: { conditions: ['@img/source'] },
  ssr: { resolve: { conditions: ['@img/source'] } },
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
});
