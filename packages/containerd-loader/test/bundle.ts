import { cp, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { lazyRequiresBundled } from '../../../scripts/esbuild-lazy-requires.mjs';

export const PACKAGE_ROOT = resolve(import.meta.dirname, '..');

/**
 * Bundle `entry` into one ESM file in `outDir` (as the CLI is bundled for Bazel) and copy the
 * package's proto/ directory next to it, the layout the loader's proto search expects.
 */
export async function bundleWithProtos(entry: string, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const outfile = join(outDir, 'bundle.mjs');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@img/source'],
    logLevel: 'silent',
    plugins: [lazyRequiresBundled],
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  await cp(join(PACKAGE_ROOT, 'proto'), join(outDir, 'proto'), { recursive: true });
  return outfile;
}
