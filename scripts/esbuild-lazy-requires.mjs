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
      const contents = source.replace(LAZY_REQUIRE, 'require($1)');
      if (contents.includes('createRequire(import.meta.url)(')) {
        // A name that is not a string literal: the bundle could not contain the module.
        throw new Error(`${args.path}: createRequire(import.meta.url)(...) needs a literal module name`);
      }
      return { contents, loader: 'ts' };
    });
  },
};
