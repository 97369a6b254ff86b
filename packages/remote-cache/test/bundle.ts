import { build } from 'esbuild';
import { lazyRequiresBundled } from '../../../scripts/esbuild-lazy-requires.mjs';

/**
 * Bundle a TypeScript entry into one file for Node, as packages/cli/scripts/bundle.mjs bundles the CLI:
 * sources through the @img/source condition; in CJS, import.meta.url becomes the bundle's own URL.
 */
export async function bundleForNode(entry: string, outfile: string, format: 'esm' | 'cjs'): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format,
    target: 'node20',
    conditions: ['@img/source'],
    logLevel: 'silent',
    plugins: [lazyRequiresBundled],
    ...(format === 'cjs'
      ? {
          define: { 'import.meta.url': '__bundleUrl' },
          banner: { js: "var __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
        }
      : {
          banner: {
            js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
          },
        }),
  });
}
