import { copyFile, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { bazelChrootRoot, repoRoot, run } from '@img/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { skipWithoutBazel } from './bazel.js';

// A CI machine keeps the chroot between runs while the checkout at the same path is deleted and cloned
// again: the old bind mount then points at a deleted directory, and mounting over it fails with ENOENT
// (what once failed CI with exit 32). The set-up script must replace such a mount.
const skip = skipWithoutBazel();
const SCRIPT = join(repoRoot(), 'scripts', 'setup-bazel-chroot.sh');
let base = '';

/** A checkout of just the set-up script at DIR (outside /tmp, which the chroot shares as a whole). */
async function checkout(dir: string): Promise<string> {
  await mkdir(join(dir, 'scripts'), { recursive: true });
  const script = join(dir, 'scripts', 'setup-bazel-chroot.sh');
  await copyFile(SCRIPT, script);
  return script;
}

async function sameDir(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([stat(a), stat(b)]);
  return x.dev === y.dev && x.ino === y.ino;
}

describe.skipIf(skip)('setup-bazel-chroot.sh', () => {
  afterAll(async () => {
    if (!base) return;
    await run('umount', ['-l', join(bazelChrootRoot(), base, 'repo')], { allowFailure: true });
    await rm(base, { recursive: true, force: true });
  });

  it('replaces the stale mount of a checkout deleted and cloned again at the same path', async () => {
    base = await mkdtemp('/var/tmp/img-chroot-stale-');
    const repo = join(base, 'repo');
    const env = { ...process.env, TMPDIR: '/tmp' };
    await run('bash', [await checkout(repo)], { env });
    expect(await sameDir(repo, join(bazelChrootRoot(), repo))).toBe(true);

    await rm(repo, { recursive: true });
    const again = await run('bash', [await checkout(repo)], { env, allowFailure: true });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).toContain('replacing a stale mount');
    expect(await sameDir(repo, join(bazelChrootRoot(), repo))).toBe(true);
  });
});
