import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isCI, run } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from './bundle.js';

const dist = join(PACKAGE_ROOT, 'dist');
// `pnpm test` builds first; a bare `vitest run` on a fresh checkout has no dist to check.
const built = existsSync(join(dist, 'index.js'));
if (!built && isCI()) throw new Error(`${dist} is missing: CI builds before testing`);

describe.skipIf(!built)('the built package', () => {
  it('finds its protos in dist/proto from both the ESM and the CJS entry, and parses them', async () => {
    const probe = (loader: string) =>
      `${loader}.then((m) => { const c = new m.ContainerdClient({ address: '/nonexistent.sock', namespace: 'x' }); c.close(); console.log(m.findProtoDir()); })`;
    const esm = await run(process.execPath, [
      '--input-type=module',
      '-e',
      probe(`import(${JSON.stringify(join(dist, 'index.js'))})`),
    ]);
    expect(esm.stdout.trim()).toBe(join(dist, 'proto'));
    const cjs = await run(process.execPath, [
      '-e',
      probe(`Promise.resolve(require(${JSON.stringify(join(dist, 'index.cjs'))}))`),
    ]);
    expect(cjs.stdout.trim()).toBe(join(dist, 'proto'));
  });
});
