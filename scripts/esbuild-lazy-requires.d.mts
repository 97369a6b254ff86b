import type { Plugin } from 'esbuild';

/** Bundles the modules img's sources load lazily with `createRequire(import.meta.url)('NAME')`. */
export declare const lazyRequiresBundled: Plugin;
