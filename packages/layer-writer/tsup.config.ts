import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

// Two entry points, the public API and ./internal (primitives shared with estargz, oci-layout, cli),
// sharing one copy of each module (splitting), so both see the same classes and module state.
export default defineConfig({ ...baseConfig, entry: ['src/index.ts', 'src/internal.ts'], splitting: true });
