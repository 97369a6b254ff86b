import { createReadStream } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { buildImage, buildIndex } from '@img/image-assembly';
import { writeLayerToFile } from '@img/layer-writer';
import { canonicalJsonBytes, type LayerMetadata, MediaType, sha256Digest } from '@img/oci-spec';
import { run, useTempDir } from '@img/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { DirectorySink } from './directory-sink.js';
import { writeDockerArchive } from './docker-archive.js';
import type { BlobHandle, ImageContent } from './image-content.js';
import { readLayout } from './read-layout.js';
import { TarSink } from './sinks.js';
import { validateLayout } from './validate-layout.js';
import { blobPath, writeOciLayout } from './write-layout.js';

const tmp = useTempDir('oci-layout-');
let layer: LayerMetadata;
let content: ImageContent;

function imageContent(layers: { meta: LayerMetadata; path: string }[], platforms = ['amd64']): ImageContent {
  const documents = new Map<string, Uint8Array>();
  const blobs = new Map<string, BlobHandle>();
  for (const l of layers)
    blobs.set(l.meta.digest, { descriptor: l.meta, open: async () => createReadStream(l.path) });
  const images = platforms.map((arch) =>
    buildImage({ platform: { os: 'linux', architecture: arch }, layers: layers.map((l) => l.meta) }),
  );
  for (const img of images) {
    documents.set(img.manifest.config.digest, img.configBytes);
    documents.set(img.descriptor.digest, img.manifestBytes);
  }
  if (images.length === 1) return { root: images[0]!.descriptor, documents, blobs };
  const ix = buildIndex(images.map((i) => i.descriptor));
  documents.set(ix.descriptor.digest, ix.indexBytes);
  return { root: ix.descriptor, documents, blobs };
}

beforeAll(async () => {
  const long = `${'deep/'.repeat(30)}file-with-a-long-name.txt`;
  layer = await writeLayerToFile(
    {
      entries: [
        { type: 'content', path: '/etc/hello', content: 'hi\n' },
        { type: 'content', path: long, content: 'x' },
      ],
    },
    tmp.join('layer.tgz'),
  );
  content = imageContent([{ meta: layer, path: tmp.join('layer.tgz') }]);
});

describe('OCI layout writing and validation', () => {
  it('writes a directory layout that validates and reads back', async () => {
    await writeOciLayout(content, new DirectorySink(tmp.join('dir')), { refName: 'v1' });
    expect((await readdir(tmp.join('dir'))).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
    const report = await validateLayout(`oci:${tmp.join('dir')}`);
    expect(report).toMatchObject({ images: 1, layersChecked: 1, layersMissing: 0 });
    const read = await readLayout(`oci:${tmp.join('dir')}:v1`);
    expect(read.root.digest).toBe(content.root.digest);
    await expect(readLayout(`oci:${tmp.join('dir')}:v2`)).rejects.toThrow(/no image named "v2"/);
  });

  it('writes a tar layout GNU tar lists and we read by seeking', async () => {
    const tar = tmp.join('layout.tar');
    await writeOciLayout(content, new TarSink(tar));
    const names = (await run('tar', ['-tf', tar])).stdout.trim().split('\n');
    expect(names).toEqual(['oci-layout', blobPath(layer.digest), ...names.slice(2, -1), 'index.json']);
    await validateLayout(`oci-archive:${tar}`);
    await validateLayout(tar);
  });

  it('fails on a corrupted blob, a wrong diff_id, and a missing blob, naming each', async () => {
    await writeOciLayout(content, new DirectorySink(tmp.join('bad')));
    const blob = tmp.join('bad', blobPath(layer.digest));
    const good = await readFile(blob);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 20]! ^= 0xff;
    await writeFile(blob, flipped);
    await expect(validateLayout(`oci:${tmp.join('bad')}`)).rejects.toMatchObject({
      code: expect.stringMatching(/IMG_LAYOUT_(DIGEST_MISMATCH|INVALID)/),
      message: expect.stringContaining('layers[0]'),
    });
    await rm(blob);
    await expect(validateLayout(`oci:${tmp.join('bad')}`)).rejects.toMatchObject({
      code: 'IMG_LAYOUT_BLOB_MISSING',
    });
    const partial = await validateLayout(`oci:${tmp.join('bad')}`, { allowMissingBlobs: true });
    expect(partial.layersMissing).toBe(1);

    // A layer whose metadata lies about its diff_id: digest and size right, uncompressed hash wrong.
    const gz = gzipSync(Buffer.alloc(1024));
    await writeFile(tmp.join('lie.gz'), gz);
    const lie: LayerMetadata = {
      diff_id: sha256Digest('not it'),
      mediaType: MediaType.OciLayerGzip,
      digest: sha256Digest(gz),
      size: gz.length,
    };
    await writeOciLayout(
      imageContent([{ meta: lie, path: tmp.join('lie.gz') }]),
      new DirectorySink(tmp.join('lie')),
    );
    await expect(validateLayout(`oci:${tmp.join('lie')}`)).rejects.toMatchObject({
      code: 'IMG_LAYOUT_DIFF_ID_MISMATCH',
      message: expect.stringMatching(/rootfs\.diff_ids\[0\]/),
    });
    expect((await validateLayout(`oci:${tmp.join('lie')}`, { fast: true })).layersChecked).toBe(1);
  });

  it('refuses to write a blob that does not match, leaving nothing behind', async () => {
    await writeFile(tmp.join('wrong.tgz'), 'garbage');
    const bad = imageContent([{ meta: layer, path: tmp.join('wrong.tgz') }]);
    await expect(writeOciLayout(bad, new DirectorySink(tmp.join('never')))).rejects.toThrow(
      /expected \d+ bytes, got 7/,
    );
    await expect(writeOciLayout(bad, new TarSink(tmp.join('never.tar')))).rejects.toThrow(
      /expected \d+ bytes/,
    );
    const left = (await readdir(tmp.path)).filter((n) => n.startsWith('never') || n.startsWith('.never'));
    expect(left).toEqual([]);
  });

  it('writes a docker-save archive for the host platform of an index', async () => {
    const multi = imageContent([{ meta: layer, path: tmp.join('layer.tgz') }], ['amd64', 'arm64']);
    const tar = tmp.join('docker.tar');
    await writeDockerArchive(multi, new TarSink(tar), {
      repoTags: ['localhost:5000/app:1'],
      platform: { os: 'linux', architecture: 'arm64' },
    });
    const manifest = JSON.parse((await run('tar', ['-xOf', tar, 'manifest.json'])).stdout);
    expect(manifest).toHaveLength(1);
    expect(manifest[0].RepoTags).toEqual(['localhost:5000/app:1']);
    const cfg = JSON.parse((await run('tar', ['-xOf', tar, manifest[0].Config])).stdout);
    expect(cfg.architecture).toBe('arm64');
    const index = JSON.parse((await run('tar', ['-xOf', tar, 'index.json'])).stdout);
    expect(index.manifests[0].annotations['io.containerd.image.name']).toBe('localhost:5000/app:1');
    await validateLayout(tar);
  });

  it('rejects layouts that are not layouts, naming the file', async () => {
    await writeFile(tmp.join('notalayout.tar'), canonicalJsonBytes({}));
    await expect(readLayout(tmp.join('notalayout.tar'))).rejects.toThrow(/oci-layout file is missing/);
    await expect(readLayout(`oci:${tmp.join('nothing-here')}`)).rejects.toMatchObject({
      code: 'IMG_LAYOUT_NOT_FOUND',
    });
  });
});
