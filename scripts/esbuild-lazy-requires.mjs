// An esbuild plugin for every bundle of img's sources (the CLI bundle, test bundles).
import { readFile } from 'node:fs/promises';

const LAZY_REQUIRE = /createRequire\(import\.meta\.url\)\((['"][^'"]+['"])\)/g;

/**
 * Sources that load a dependency lazily with `createRequire(import.meta.url)('NAME')` (oci-spec's ajv)
 * hide it from esbuild, and the bundle would look for NAME in node_modules at run time. Rewritten to
 * `require('NAME')`, the module is bundled and still runs only when that line does.
 * @type {import('esbuild').Plugin}
 */
export const lazyRequiresBundled = {
  name: 'lazy-requires-bundled',
  setup(b) {
    b.onLoad({ filter: /[\\/]packages[\\/][^\\/]+[\\/]src[\\/].*\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('createRequire(import.meta.url)(')) return undefined;
      return { contents: source.replace(LAZY_REQUIRE, 'require($1)'), loader: 'ts' };
    });
  },
};
