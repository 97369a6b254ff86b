import { mkdir, readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { buildImage } from '@img/image-assembly';
import { writeLayerToFile } from '@img/layer-writer';
import type { BlobSource, ImageGraph } from '@img/oci-spec';
import { snapshotTree, useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { fileBlobSource } from './blob-file.js';
import { DirectorySink } from './directory-sink.js';
import { writeDockerArchive } from './docker-archive.js';
import { TarSink } from './sinks.js';
import { writeOciLayout } from './write-layout.js';

// Abort mid-write: the call rejects with the signal's reason; a new layout folder or archive is not
// left behind, an existing layout is as it was (no temp file, no lock).
const tmp = useTempDir('oci-layout-abort-');

/** An image whose one layer streams a first chunk and then stalls (only an abort ends the write). */
async function stallingImage(name: string, controller: { abort(): void }): Promise<ImageGraph> {
  const path = tmp.join(`${name}.tgz`);
  const layer = await writeLayerToFile(
    { entries: [{ type: 'content', path: '/x', content: 'x'.repeat(4096) }] },
    path,
  );
  const image = buildImage({ platform: { os: 'linux', architecture: 'amd64' }, layers: [layer] });
  const file = fileBlobSource(layer, path);
  const stalling: BlobSource = {
    descriptor: file.descriptor,
    open: async () => {
      let sent = false;
      return new Readable({
        read() {
          if (sent) return;
          sent = true;
          this.push(Buffer.alloc(1));
          setTimeout(() => controller.abort(), 20);
        },
      });
    },
  };
  return { ...image, blobs: new Map([[layer.digest, stalling]]) };
}

describe('abort', () => {
  it('writeOciLayout into a new folder: rejects with an AbortError and leaves no folder', async () => {
    const controller = new AbortController();
    const image = await stallingImage('new', controller);
    const parent = tmp.join('new-parent');
    await mkdir(parent);
    const write = writeOciLayout(image, new DirectorySink(`${parent}/layout`), { signal: controller.signal });
    await expect(write).rejects.toMatchObject({ name: 'AbortError' });
    expect(await readdir(parent)).toEqual([]);
  });

  it('writeOciLayout into an existing layout: rejects with the reason and leaves it as it was', async () => {
    const dir = tmp.join('existing');
    const path = tmp.join('first.tgz');
    const first = await writeLayerToFile({ entries: [{ type: 'content', path: '/a', content: 'a' }] }, path);
    const img = buildImage({ platform: { os: 'linux', architecture: 'amd64' }, layers: [first] });
    await writeOciLayout(
      { ...img, blobs: new Map([[first.digest, fileBlobSource(first, path)]]) },
      new DirectorySink(dir),
    );
    const before = await snapshotTree(dir);
    const controller = new AbortController();
    const reason = new Error('deploy cancelled');
    const image = await stallingImage('existing', { abort: () => controller.abort(reason) });
    const write = writeOciLayout(image, new DirectorySink(dir), { refName: 'v2', signal: controller.signal });
    await expect(write).rejects.toBe(reason);
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it('writeDockerArchive: rejects with an AbortError and leaves no archive', async () => {
    const controller = new AbortController();
    const image = await stallingImage('archive', controller);
    const parent = tmp.join('archive-parent');
    await mkdir(parent);
    const write = writeDockerArchive(image, new TarSink(`${parent}/image.tar`), {
      platform: { os: 'linux', architecture: 'amd64' },
      signal: controller.signal,
    });
    await expect(write).rejects.toMatchObject({ name: 'AbortError' });
    expect(await readdir(parent)).toEqual([]);
  });
});
