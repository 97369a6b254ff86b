import { chmod, cp, readdir, readFile, readlink, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { ciRequires, run, useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_DIR, gzipExampleSpec, imgOk } from '../helpers.js';

const tools = ciRequires('skopeo', 'umoci', 'crane');
const tmp = useTempDir('img-cli-build-');

async function digestOf(layoutDir: string): Promise<string> {
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8'));
  return index.manifests[0].digest;
}

describe('img build', () => {
  it('builds the example into a valid OCI layout, archive and docker archive', async () => {
    const dir = join(tmp.path, 'oci');
    const r = await imgOk('build', join(EXAMPLE_DIR, 'image.json'), '--output', `oci:${dir}`);
    expect(r.stdout).toMatch(/^oci:.*@sha256:[0-9a-f]{64}$/);
    const v = await imgOk('validate', `oci:${dir}`);
    expect(v.stdout).toMatch(/^PASS .* 1 image\(s\), 2 layer\(s\) checked/);

    const archive = join(tmp.path, 'img.tar');
    await imgOk('build', join(EXAMPLE_DIR, 'image.json'), '--output', `oci-archive:${archive}`);
    await imgOk('validate', `oci-archive:${archive}`);
    const docker = join(tmp.path, 'docker.tar');
    await imgOk(
      'build',
      join(EXAMPLE_DIR, 'image.json'),
      '--output',
      `docker-archive:${docker}:example.com/hello:1.0`,
    );
    const listing = (await run('tar', ['-tf', docker])).stdout.split('\n');
    expect(listing).toContain('manifest.json');
    const manifestJson = JSON.parse((await run('tar', ['-xOf', docker, 'manifest.json'])).stdout);
    expect(manifestJson[0].RepoTags).toEqual(['example.com/hello:1.0']);
    expect(manifestJson[0].Layers).toHaveLength(2);
  });

  it('is byte-for-byte reproducible, also from a copy with other mtimes and modes', async () => {
    const a = join(tmp.path, 'repro-a');
    const b = join(tmp.path, 'repro-b');
    await imgOk('build', join(EXAMPLE_DIR, 'image.json'), '--output', `oci:${a}`);
    const copy = join(tmp.path, 'example-copy');
    await cp(EXAMPLE_DIR, copy, { recursive: true });
    const old = new Date('2001-02-03T04:05:06Z');
    for (const f of ['app/config.json', 'app/static/index.html', 'app/hello.sh']) {
      await utimes(join(copy, f), old, old);
    }
    await chmod(join(copy, 'app/config.json'), 0o600); // owner-only bits must not matter
    await imgOk('build', join(copy, 'image.json'), '--output', `oci:${b}`);
    expect(await digestOf(a)).toBe(await digestOf(b));
    const blobsA = (await readdir(join(a, 'blobs/sha256'))).sort();
    const blobsB = (await readdir(join(b, 'blobs/sha256'))).sort();
    expect(blobsA).toEqual(blobsB);
  });

  it('honours SOURCE_DATE_EPOCH for mtimes and created', async () => {
    const out = join(tmp.path, 'sde');
    process.env.SOURCE_DATE_EPOCH = '1700000000';
    try {
      await imgOk('build', join(EXAMPLE_DIR, 'image.json'), '--output', `oci:${out}`);
    } finally {
      delete process.env.SOURCE_DATE_EPOCH;
    }
    const info = JSON.parse((await imgOk('inspect', `oci:${out}`, '--json')).stdout);
    expect(info.images[0].config.created).toBe('2023-11-14T22:13:20Z');
    expect(info.images[0].config.history[0].created).toBe('2023-11-14T22:13:20Z');
  });

  it('builds a multi-platform index', async () => {
    const out = join(tmp.path, 'multi');
    await imgOk('build', join(EXAMPLE_DIR, 'image-multi.json'), '--output', `oci:${out}`);
    const info = JSON.parse((await imgOk('inspect', `oci:${out}`, '--json')).stdout);
    expect(info.root.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(info.images.map((i: { platform: string }) => i.platform)).toEqual([
      'linux/amd64',
      'linux/arm64/v8',
    ]);
    await imgOk('validate', `oci:${out}`);
  });

  it.skipIf(tools.skip)('is accepted by skopeo (inspect, copy) and crane (validate)', async () => {
    const dir = join(tmp.path, 'skopeo-src');
    await imgOk('build', join(EXAMPLE_DIR, 'image.json'), '--output', `oci:${dir}`);
    const inspect = JSON.parse((await run('skopeo', ['inspect', `oci:${dir}:latest`])).stdout);
    expect(inspect.Architecture).toBe('amd64');
    expect(inspect.Layers).toHaveLength(2);
    const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', `oci:${dir}:latest`])).stdout);
    expect(raw.layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    const copy = join(tmp.path, 'skopeo-copy');
    await run('skopeo', ['copy', `oci:${dir}:latest`, `oci:${copy}:latest`]);
    await imgOk('validate', `oci:${copy}`);
    expect(await digestOf(copy)).toBe(await digestOf(dir));
    const archive = join(tmp.path, 'skopeo.tar');
    await imgOk('build', join(EXAMPLE_DIR, 'image.json'), '--output', `oci-archive:${archive}`);
    const inspectArchive = JSON.parse((await run('skopeo', ['inspect', `oci-archive:${archive}`])).stdout);
    expect(inspectArchive.Digest).toBe(await digestOf(dir));

    // crane's tarball format is the docker-save tar.
    const docker = join(tmp.path, 'crane.tar');
    await imgOk(
      'build',
      await gzipExampleSpec(tmp.path),
      '--output',
      `docker-archive:${docker}:example.com/hello:1.0`,
    );
    const crane = await run('crane', ['validate', '--tarball', docker]);
    expect(crane.stdout + crane.stderr).toMatch(/PASS/);
  });

  it.skipIf(tools.skip)(
    'unpacks with umoci to the same tree: content, modes, symlinks, hardlinks',
    async () => {
      // umoci 0.4.7 (Debian 12) predates zstd layers.
      const dir = join(tmp.path, 'umoci-src');
      await imgOk('build', await gzipExampleSpec(tmp.path), '--output', `oci:${dir}`);
      const bundle = join(tmp.path, 'bundle');
      await run('umoci', ['unpack', '--image', `${dir}:latest`, bundle]);
      const rootfs = join(bundle, 'rootfs');
      expect(await readFile(join(rootfs, 'app/config.json'), 'utf8')).toBe(
        await readFile(join(EXAMPLE_DIR, 'app/config.json'), 'utf8'),
      );
      expect(await readFile(join(rootfs, 'app/static/css/site.css'), 'utf8')).toBe(
        await readFile(join(EXAMPLE_DIR, 'app/static/css/site.css'), 'utf8'),
      );
      expect((await stat(join(rootfs, 'app/hello.sh'))).mode & 0o777).toBe(0o755);
      expect(await readlink(join(rootfs, 'usr/local/bin/hello'))).toBe('/app/hello.sh');
      // Identical files with identical metadata are one inode (hardlink dedup).
      const a = await stat(join(rootfs, 'app/static/css/site.css'));
      const b = await stat(join(rootfs, 'app/static/css/copy-of-site.css'));
      expect(a.ino).toBe(b.ino);
      expect(a.nlink).toBe(2);
    },
  );
});
