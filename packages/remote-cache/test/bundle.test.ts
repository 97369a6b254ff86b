import { cp, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { run, useTempDir } from '@img/test-utils';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const PACKAGE_ROOT = resolve(import.meta.dirname, '..');
const dir = useTempDir('remote-cache-bundle-');

describe('bundled into one file (as the img CLI is)', () => {
  it('finds protos/ beside the bundle and parses them', async () => {
    const entry = join(dir.path, 'entry.ts');
    await writeFile(
      entry,
      `import { connectRemoteCache, findProtoDir } from ${JSON.stringify(join(PACKAGE_ROOT, 'src', 'index.ts'))};\n` +
        `connectRemoteCache('grpc://127.0.0.1:1').close();\nconsole.log(findProtoDir());\n`,
    );
    const outfile = join(dir.path, 'out', 'bundle.cjs');
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      conditions: ['@img/source'],
      logLevel: 'silent',
      // As packages/cli/scripts/bundle.mjs does: import.meta.url becomes the bundle's own URL.
      define: { 'import.meta.url': '__bundleUrl' },
      banner: { js: "var __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    });
    await cp(join(PACKAGE_ROOT, 'protos'), join(dir.path, 'out', 'protos'), { recursive: true });
    const { stdout } = await run(process.execPath, [outfile], { cwd: dir.path });
    expect(stdout.trim()).toBe(join(dir.path, 'out', 'protos'));
  });
});
