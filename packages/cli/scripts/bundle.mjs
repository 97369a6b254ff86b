// Bundles the img CLI into ONE CommonJS file: packages/cli/src/bin.ts, every @img/* package from source
// and every npm dependency inlined, zstd's wasm embedded, containerd's and REAPI's .proto files copied beside it.
// `pnpm build` in this package writes dist/bin.cjs (the `img` bin: one file to read and compile, no
// module resolution at start-up); packages/bazel-rules/scripts/bundle.mjs writes the ruleset's copy.
import { cp, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { lazyRequiresBundled } from '../../../scripts/esbuild-lazy-requires.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const packages = join(here, '..', '..');
const zstdWasmModule = createRequire(join(packages, 'layer-writer', 'package.json')).resolve(
  '@bokuweb/zstd-wasm',
);

// The bundle is a program (the img CLI) and, when layer-writer's zstd worker threads require it, the
// zstd wasm module: one file serves both, so nothing has to be resolved from node_modules at run time.
const entry = `if (require.main === module) {
  require(${JSON.stringify(join(packages, 'cli', 'src', 'bin.ts'))});
} else {
  module.exports = require(${JSON.stringify(zstdWasmModule)});
}
`;

/** layer-writer's zstd worker threads require the wasm module by path: point them at this bundle. */
const zstdWorkersUseBundle = {
  name: 'zstd-workers-use-bundle',
  setup(b) {
    b.onLoad({ filter: /layer-writer[\\/]src[\\/]zstd-backend\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const call = "require.resolve('@bokuweb/zstd-wasm')";
      if (!source.includes(call)) return undefined; // zstd no longer loaded by path: nothing to redirect
      return { contents: source.replaceAll(call, '__filename'), loader: 'ts' };
    });
  },
};

/** @bokuweb/zstd-wasm reads zstd.wasm beside its own file at run time; embed the bytes instead. */
const inlineZstdWasm = {
  name: 'inline-zstd-wasm',
  setup(b) {
    b.onLoad({ filter: /@bokuweb[\\/]zstd-wasm[\\/]dist[\\/]common[\\/]index\.node\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const wasm = await readFile(join(dirname(args.path), 'zstd.wasm'));
      const pattern = /yield readFile\(resolve\(__dirname, '\.\/zstd\.wasm'\)\)/;
      if (!pattern.test(source))
        throw new Error(
          `${args.path}: the zstd.wasm loader changed; update ${fileURLToPath(import.meta.url)}`,
        );
      return {
        contents: source.replace(
          pattern,
          `Buffer.from(${JSON.stringify(wasm.toString('base64'))}, 'base64')`,
        ),
        loader: 'js',
      };
    });
  },
};

/**
 * undici's index also loads fetch, WebSocket, EventSource, caches, mocks and proxies: about 40 ms of
 * CPU at every start of the CLI, which uses none of them. In the bundle, `undici` is this module
 * instead: the same Agent, Dispatcher (with its request() API installed as the index does) and
 * redirect interceptor. It exports names, so a registry-client import of anything else fails the
 * build ("No matching export") rather than the CLI at run time; so does an undici that moves a file.
 */
const registryClientDir = join(packages, 'registry-client');
const undiciEssentials = {
  name: 'undici-essentials',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: 'undici', namespace: 'img-undici' }));
    b.onLoad({ filter: /.*/, namespace: 'img-undici' }, () => ({
      resolveDir: registryClientDir,
      loader: 'js',
      contents: `
        import Agent from 'undici/lib/dispatcher/agent.js';
        import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
        import api from 'undici/lib/api/index.js';
        import redirect from 'undici/lib/interceptor/redirect.js';
        Object.assign(Dispatcher.prototype, api);
        export const interceptors = { redirect };
        export { Agent, Dispatcher };
      `,
    }));
  },
};

/** Copies `from` to `to` through a staging directory, replacing what was there. */
async function replaceDir(from, to) {
  const staging = `${to}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await cp(from, staging, { recursive: true });
  await rm(to, { recursive: true, force: true });
  await rename(staging, to);
}

/**
 * The .proto files go beside the bundle: containerd's (for `img load --daemon containerd`) in DIR/proto,
 * the REAPI ones (for `img registry serve --reapi-endpoint`) in DIR/protos, the Build Event Service
 * and Bazel's build event ones (for `img bes serve`) in DIR/bes-protos.
 */
async function copyProtos(dir) {
  await replaceDir(join(packages, 'containerd-loader', 'proto'), join(dir, 'proto'));
  await replaceDir(join(packages, 'remote-cache', 'protos'), join(dir, 'protos'));
  await replaceDir(join(packages, 'bes-listener', 'protos'), join(dir, 'bes-protos'));
}

/**
 * Write the img CLI bundle to `outfile` (atomically) and the protos beside it (`proto/`, `protos/`, `bes-protos/`).
 * Resolves to the bundle's size in bytes.
 */
export async function bundleCli(outfile) {
  const temp = `${outfile}.tmp-${process.pid}`;
  try {
    const result = await build({
      stdin: { contents: entry, resolveDir: here, sourcefile: 'img-bundle-entry.cjs', loader: 'js' },
      outfile: temp,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      conditions: ['@img/source'],
      mainFields: ['module', 'main'],
      minify: true,
      keepNames: true,
      legalComments: 'none',
      logLevel: 'warning',
      // Modules that find files beside themselves (containerd's .proto directory) use import.meta.url:
      // in the CommonJS bundle it becomes the bundle's own URL, so such files go next to the bundle.
      define: { 'import.meta.url': '__imgBundleUrl' },
      banner: {
        js: [
          '#!/usr/bin/env node',
          '// img CLI bundle; generated by packages/cli/scripts/bundle.mjs - do not edit.',
          "var __imgBundleUrl = require('node:url').pathToFileURL(__filename).href;",
        ].join('\n'),
      },
      plugins: [inlineZstdWasm, zstdWorkersUseBundle, lazyRequiresBundled, undiciEssentials],
      metafile: true,
    });
    await rename(temp, outfile);
    await copyProtos(dirname(outfile));
    return Object.values(result.metafile.outputs)[0]?.bytes ?? 0;
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outfile = join(here, '..', 'dist', 'bin.cjs');
  const bytes = await bundleCli(outfile);
  process.stdout.write(`bundled packages/cli/src/bin.ts -> ${outfile} (${(bytes / 1024).toFixed(0)} KiB)\n`);
}
