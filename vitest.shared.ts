import { defineConfig } from 'vitest/config';

// `pnpm test` puts pnpm's hoisted store (node_modules/.pnpm/node_modules) on NODE_PATH, where every
// dependency of every package resolves: a bundle or packed CLI spawned by a test would find modules a
// user's machine does not have. Tests spawn children with the environment a user has.
// biome-ignore lint/suspicious/noUndeclaredEnvVars: removed for child processes, never read
delete process.env.NODE_PATH;

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
