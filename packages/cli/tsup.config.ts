import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

// The library only: the `img` bin is ONE bundled file, dist/bin.cjs, written by scripts/bundle.mjs.
export default defineConfig(baseConfig);
