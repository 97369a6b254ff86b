import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isCI, run } from '@img/test-utils';
import { describe, expect, it } from 'vitest';

const dist = join(resolve(import.meta.dirname, '..'), 'dist');
// `pnpm test` builds first; a bare `vitest run` on a fresh checkout has no dist to check.
const built = existsSync(join(dist, 'index.js'));
if (!built && isCI()) throw new Error(`${dist} is missing: CI builds before testing`);

describe.skipIf(!built)('the built package', () => {
  it('finds its protos in dist/protos from both the ESM and the CJS entry, and parses them', async () => {
    const probe = (loader: string) =>
      `${loader}.then((m) => { m.connectRemoteCache('grpc://127.0.0.1:1').close(); console.log(m.findProtoDir()); })`;
    const env = { ...process.env, IMG_REAPI_PROTO_DIR: '' };
    const esm = await run(
      process.execPath,
      ['--input-type=module', '-e', probe(`import(${JSON.stringify(join(dist, 'index.js'))})`)],
      { env },
    );
    expect(esm.stdout.trim()).toBe(join(dist, 'protos'));
    const cjs = await run(
      process.execPath,
      ['-e', probe(`Promise.resolve(require(${JSON.stringify(join(dist, 'index.cjs'))}))`)],
      { env },
    );
    expect(cjs.stdout.trim()).toBe(join(dist, 'protos'));
  });
});
