import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bazelChrootProblem, bazelChrootRoot, isCI, run, useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers.js';

// The Bazel chroot (scripts/setup-bazel-chroot.sh) has Debian's nodejs, linked against the system
// zlib: a real "other Node build". It bind-mounts the repo and /tmp at the same paths.
const CHROOT = bazelChrootRoot();
const BIN = join(REPO_ROOT, 'packages/cli/dist/bin.cjs');
const problem = bazelChrootProblem([REPO_ROOT, tmpdir()]);
const available = problem === undefined;
if (problem !== undefined && isCI()) throw new Error(`required under CI=true: ${problem}`);
const tmp = useTempDir('img-cli-distro-node-');

async function layer(node: 'host' | 'distro', format: string, name: string) {
  const out = join(tmp.path, `${name}.blob`);
  const meta = join(tmp.path, `${name}.json`);
  const args = [
    BIN,
    'layer',
    '--add',
    `/data.txt=${join(tmp.path, 'data.txt')}`,
    '--format',
    format,
    '--metadata',
    meta,
    out,
  ];
  const r =
    node === 'host'
      ? await run(process.execPath, args)
      : await run('chroot', [CHROOT, '/usr/bin/node', ...args]);
  return { digest: JSON.parse(await readFile(meta, 'utf8')).digest as string, stderr: r.stderr };
}

describe.skipIf(!available)('layers written by a distribution Node build (system zlib)', () => {
  it('give the same zstd bytes, and warn that gzip bytes differ', async () => {
    await writeFile(join(tmp.path, 'data.txt'), 'layer content that compresses, '.repeat(20000));
    const hostZstd = await layer('host', 'zstd', 'hz');
    const distroZstd = await layer('distro', 'zstd', 'dz');
    expect(distroZstd.digest).toBe(hostZstd.digest);
    expect(distroZstd.stderr).toBe('');

    const hostGzip = await layer('host', 'gzip', 'hg');
    const distroGzip = await layer('distro', 'gzip', 'dg');
    expect(hostGzip.stderr).toBe('');
    expect(distroGzip.stderr).toMatch(
      /warning: this Node \(v\d+.*zlib .*\) compresses gzip differently from official Node\.js builds/,
    );
    expect(distroGzip.digest).not.toBe(hostGzip.digest);
  });
});
