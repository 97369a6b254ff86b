import { defineProject, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

// Bazel builds share output bases (and their servers) between test files: run the files one after
// another, and give each up to 10 minutes.
export default mergeConfig(
  sharedConfig,
  defineProject({
    test: {
      name: 'bazel-rules',
      testTimeout: 600_000,
      hookTimeout: 600_000,
      fileParallelism: false,
      globalSetup: ['test/global-setup.ts'],
    },
  }),
);
