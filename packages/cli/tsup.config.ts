import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

export default defineConfig([
  baseConfig,
  {
    ...baseConfig,
    entry: { bin: 'src/bin.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
    banner: { js: '#!/usr/bin/env node' },
  },
]);
