import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

export default defineConfig([
  baseConfig,
  {
    ...baseConfig,
    entry: { bin: 'src/bin.ts' },
    format: ['esm'],
    // Each subcommand in its own chunk, loaded when it runs (see COMMANDS in src/main.ts).
    splitting: true,
    dts: false,
    clean: false,
    banner: { js: '#!/usr/bin/env node' },
  },
]);
