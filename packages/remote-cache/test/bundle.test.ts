import { cp, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { run, useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { bundleForNode } from './bundle.js';

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
    await bundleForNode(entry, outfile, 'cjs');
    await cp(join(PACKAGE_ROOT, 'protos'), join(dir.path, 'out', 'protos'), { recursive: true });
    const { stdout } = await run(process.execPath, [outfile], { cwd: dir.path });
    expect(stdout.trim()).toBe(join(dir.path, 'out', 'protos'));
  });
});
