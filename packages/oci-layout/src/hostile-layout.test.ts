import { execFileSync } from 'node:child_process';
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { useTempDir, writeTinyOciLayout } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { blobPath } from './blob-file.js';
import { readLayout } from './read-layout.js';
import { validateLayout } from './validate-layout.js';

const tmp = useTempDir('oci-layout-hostile-');

/** A tiny layout whose layer blob file is replaced by `make(path)`. */
async function layoutWithLayerFile(name: string, make: (path: string) => Promise<void>) {
  const dir = tmp.join(name);
  const tiny = await writeTinyOciLayout(dir);
  const path = join(dir, blobPath(tiny.layer.digest));
  await rm(path);
  await make(path);
  return { dir, tiny };
}

const refused = {
  code: 'IMG_LAYOUT_INVALID',
  message: expect.stringMatching(/not a regular file \(refused\)/),
};

describe('blob files that are not regular files', () => {
  it('refuses a layer that is a symlink out of the layout, without reading it', async () => {
    await writeFile(tmp.join('secret'), 'outside');
    const { dir } = await layoutWithLayerFile('symlink', (p) => symlink(tmp.join('secret'), p));
    await expect(readLayout(`oci:${dir}`)).rejects.toMatchObject(refused);
  });

  it('refuses a layer that is /dev/zero (a device) at once', async () => {
    const { dir } = await layoutWithLayerFile('device', (p) => symlink('/dev/zero', p));
    await expect(validateLayout(`oci:${dir}`)).rejects.toMatchObject(refused);
  });

  it('refuses a FIFO without blocking on it', async () => {
    const { dir, tiny } = await layoutWithLayerFile('fifo', async (p) => {
      execFileSync('mkfifo', [p]);
    });
    await expect(readLayout(`oci:${dir}`)).rejects.toMatchObject(refused);
    // A FIFO swapped in after the layout was read is refused by the open flags, without blocking.
    const { dir: later, tiny: t2 } = await layoutWithLayerFile('fifo-later', async (p) => {
      await writeFile(p, 'x');
    });
    const layout = await readLayout(`oci:${later}`);
    const path = join(later, blobPath(t2.layer.digest));
    await rm(path);
    execFileSync('mkfifo', [path]);
    await expect(
      layout.blobs
        .get(t2.layer.digest)!
        .open()
        .then((s) => buffer(s)),
    ).rejects.toMatchObject(refused);
    expect(tiny.layer.digest).toMatch(/^sha256:/);
  });

  it('refuses a manifest that is /dev/zero or a FIFO instead of reading or waiting forever', async () => {
    for (const [name, make] of [
      ['zero-manifest', (p: string) => symlink('/dev/zero', p)],
      ['fifo-manifest', async (p: string) => execFileSync('mkfifo', [p])],
    ] as const) {
      const dir = tmp.join(name);
      const tiny = await writeTinyOciLayout(dir);
      const path = join(dir, blobPath(tiny.manifest.digest));
      await rm(path);
      await make(path);
      await expect(readLayout(`oci:${dir}`)).rejects.toMatchObject(refused);
    }
  });

  it('refuses a blobs/sha256 directory that is a symlink', async () => {
    const dir = tmp.join('dirlink');
    await writeTinyOciLayout(dir);
    await rename(join(dir, 'blobs', 'sha256'), tmp.join('elsewhere'));
    await mkdir(join(dir, 'blobs'), { recursive: true });
    await symlink(tmp.join('elsewhere'), join(dir, 'blobs', 'sha256'));
    await expect(readLayout(`oci:${dir}`)).rejects.toMatchObject({
      code: 'IMG_LAYOUT_INVALID',
      message: expect.stringMatching(/blobs\/sha256 is not a directory/),
    });
  });
});

describe('a layout the user trusts to hold symlinks (followSymlinks, Bazel runfiles)', () => {
  /** Every file of a tiny layout replaced by a symlink to a copy elsewhere, as Bazel's runfiles are. */
  async function linkedLayout(name: string) {
    const real = tmp.join(`${name}-real`);
    const tiny = await writeTinyOciLayout(real);
    const dir = tmp.join(name);
    const files = [
      'oci-layout',
      'index.json',
      ...[tiny.layer, tiny.config, tiny.manifest].map((d) => blobPath(d.digest)),
    ];
    for (const f of files) {
      await mkdir(join(dir, f, '..'), { recursive: true });
      await symlink(join(real, f), join(dir, f));
    }
    return { dir, tiny };
  }

  it('is refused by default and read (and validated) with followSymlinks', async () => {
    const { dir } = await linkedLayout('runfiles');
    await expect(readLayout(`oci:${dir}`)).rejects.toMatchObject(refused);
    const layout = await readLayout(`oci:${dir}`, { followSymlinks: true });
    const [source] = [...layout.blobs.values()];
    expect((await buffer(await source!.open())).length).toBe(source!.descriptor.size);
  });

  it('still refuses a symlink that leads to a device', async () => {
    const { dir, tiny } = await linkedLayout('runfiles-device');
    const path = join(dir, blobPath(tiny.layer.digest));
    await rm(path);
    await symlink('/dev/zero', path);
    await expect(readLayout(`oci:${dir}`, { followSymlinks: true })).rejects.toMatchObject(refused);
  });
});

describe('writing each layer once', () => {
  it('hard-links a layer file of the right size into a directory layout, and copies others verified', async () => {
    const { writeLayerToFile } = await import('@img/layer-writer');
    const { buildImage } = await import('@img/image-assembly');
    const { lstat, stat, writeFile: write } = await import('node:fs/promises');
    const { DirectorySink } = await import('./directory-sink.js');
    const { writeOciLayout } = await import('./write-layout.js');
    const { fileBlobSource } = await import('./blob-file.js');
    const path = tmp.join('once.tgz');
    const layer = await writeLayerToFile({ entries: [{ type: 'content', path: '/a', content: 'a' }] }, path);
    const image = buildImage({ platform: { os: 'linux', architecture: 'amd64' }, layers: [layer] });
    const graph = { ...image, blobs: new Map([[layer.digest, fileBlobSource(layer, path)]]) };
    await writeOciLayout(graph, new DirectorySink(tmp.join('once')));
    const written = await stat(join(tmp.join('once'), blobPath(layer.digest)));
    expect(written.ino).toBe((await stat(path)).ino);
    // Through a symlink (a Bazel sandbox input): the file it leads to is linked, not the symlink.
    await symlink(path, tmp.join('once-link.tgz'));
    const viaLink = {
      ...image,
      blobs: new Map([[layer.digest, fileBlobSource(layer, tmp.join('once-link.tgz'))]]),
    };
    await writeOciLayout(viaLink, new DirectorySink(tmp.join('once-via-link')));
    const linked = await lstat(join(tmp.join('once-via-link'), blobPath(layer.digest)));
    expect(linked.isFile() && linked.ino === written.ino).toBe(true);
    // A file of another size is not linked: it is copied through the verifier, which refuses it.
    await write(path, 'short');
    await expect(writeOciLayout(graph, new DirectorySink(tmp.join('never')))).rejects.toThrow(
      /expected \d+ bytes/,
    );
  });
});
