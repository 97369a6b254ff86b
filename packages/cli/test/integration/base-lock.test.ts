import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ciRequires, startRegistry, type TestRegistry, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BinRun, runImg } from '../bin.js';

const tools = ciRequires('docker-registry');
const tmp = useTempDir('img-cli-base-lock-');

const env = () => ({ IMG_CACHE_DIR: tmp.join('cache') });

async function ok(...args: string[]): Promise<BinRun> {
  const r = await runImg(args, env());
  expect(r.code, r.stderr).toBe(0);
  return r;
}

/** Push a one-file base image under `ref`; resolves to its manifest digest. */
async function pushBase(ref: string, content: string): Promise<string> {
  const dir = tmp.join(`base-${content}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'os-release'), `${content}\n`);
  await writeFile(
    join(dir, 'base.json'),
    JSON.stringify({ platform: 'linux/amd64', layers: [{ files: { '/etc/os-release': 'os-release' } }] }),
  );
  const r = await ok('build', join(dir, 'base.json'), '--push', ref, '--json');
  return JSON.parse(r.stdout).digest;
}

/** The base digest an image built from the spec records (org.opencontainers.image.base.digest). */
async function builtBaseDigest(layout: string): Promise<string | undefined> {
  const info = JSON.parse((await ok('inspect', `oci:${layout}`, '--json')).stdout);
  return info.images[0].manifest.annotations?.['org.opencontainers.image.base.digest'];
}

describe.skipIf(tools.skip)('img build: a base by registry reference, pinned in image.lock.json', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'none' });
  });
  afterAll(() => registry?.stop());

  it('locks the digest, reports a moved tag without following it, and --update-lock follows it', async () => {
    const baseRef = `${registry.url}/base/os:stable`;
    const first = await pushBase(baseRef, 'v1');
    const app = tmp.join('app');
    await mkdir(app, { recursive: true });
    await writeFile(join(app, 'app.txt'), 'app\n');
    const spec = join(app, 'image.json');
    await writeFile(
      spec,
      JSON.stringify({
        platform: 'linux/amd64',
        base: baseRef,
        layers: [{ files: { '/app.txt': 'app.txt' } }],
      }),
    );
    const lockPath = join(app, 'image.lock.json');

    // --locked without a lock: nothing resolved silently in CI.
    const frozen = await runImg(['build', spec, '--output', `oci:${tmp.join('out0')}`, '--locked'], env());
    expect(frozen.code).toBe(1);
    expect(frozen.stderr).toMatch(/not in .*image\.lock\.json.*--locked/);

    const built = JSON.parse(
      (await ok('build', spec, '--output', `oci:${tmp.join('out1')}`, '--json')).stdout,
    );
    expect(built.bases).toEqual([{ reference: baseRef, digest: first, from: 'resolved' }]);
    const lock = JSON.parse(await readFile(lockPath, 'utf8'));
    expect(lock).toMatchObject({ lockfileVersion: 1, bases: { [baseRef]: { digest: first } } });
    expect(await builtBaseDigest(tmp.join('out1'))).toBe(first);

    // The tag moves in the registry: the next build stays on the locked digest and says so.
    const second = await pushBase(baseRef, 'v2');
    expect(second).not.toBe(first);
    const again = await runImg(['build', spec, '--output', `oci:${tmp.join('out2')}`, '--json'], env());
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`base ${baseRef}: the tag now names ${second}`);
    expect(JSON.parse(again.stdout).bases).toEqual([
      { reference: baseRef, digest: first, from: 'locked', moved: second },
    ]);
    expect(await builtBaseDigest(tmp.join('out2'))).toBe(first);
    expect(JSON.parse(await readFile(lockPath, 'utf8')).bases[baseRef].digest).toBe(first);
    // Same inputs, same image: the build is reproducible from the lock.
    const digestOf = async (dir: string) =>
      JSON.parse((await ok('inspect', `oci:${dir}`, '--json')).stdout).root.digest;
    expect(await digestOf(tmp.join('out2'))).toBe(await digestOf(tmp.join('out1')));

    // --update-lock follows the tag and rewrites the lock.
    const updated = await runImg(
      ['build', spec, '--output', `oci:${tmp.join('out3')}`, '--update-lock'],
      env(),
    );
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stderr).toContain(`base ${baseRef}: ${first} -> ${second} (lock updated)`);
    expect(JSON.parse(await readFile(lockPath, 'utf8')).bases[baseRef].digest).toBe(second);
    expect(await builtBaseDigest(tmp.join('out3'))).toBe(second);
    // --locked now passes: the lock matches.
    await ok('build', spec, '--output', `oci:${tmp.join('out4')}`, '--locked');

    // The built image is shallow (base layers stay in the registry) and pushes by mounting them.
    const pushed = JSON.parse(
      (await ok('push', `oci:${tmp.join('out3')}`, `${registry.url}/team/app:1`, '--json')).stdout,
    );
    expect(pushed.blobsMounted).toBe(1);
  });
});
