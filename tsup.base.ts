import type { Options } from 'tsup';

/** Shared tsup settings: ESM + CJS + .d.ts, nothing inlined silently. */
export const baseConfig: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
  shims: true,
};
