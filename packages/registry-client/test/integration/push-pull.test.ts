import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { canonicalJsonBytes, MediaType, type ProgressEvent, sha256Digest } from '@img/oci-spec';
import { ciRequires, run, startRegistry, type TestRegistry, tempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USER_AGENT } from '../../src/index.js';
import { blobFromBytes, TestClient as RegistryClient } from '../helpers/client.js';
import { buildImage, buildIndex, randomLayer } from '../helpers/images.js';
import { readLayoutBlob, readLayoutIndex } from '../helpers/layout.js';

const needs = ciRequires('docker-registry', 'skopeo', 'crane');
const fast = { minDelayMs: 5, maxDelayMs: 50 };

async function ours(registry: TestRegistry) {
  return (await registry.requests()).filter((r) => r.userAgent === DEFAULT_USER_AGENT);
}

describe.skipIf(needs.skip)('push and pull against docker-registry', () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  beforeAll(async () => {
    registry = await startRegistry();
    client = new RegistryClient({ retry: fast });
  });
  afterAll(async () => {
    await client?.close();
    await registry?.stop();
  });

  it('pushes a multi-platform index that skopeo and crane accept, byte for byte', async () => {
    const shared = randomLayer(300_000);
    const amd = buildImage([shared, randomLayer(50_000)], { os: 'linux', architecture: 'amd64' });
    const arm = buildImage([shared, randomLayer(70_000)], {
      os: 'linux',
      architecture: 'arm64',
      variant: 'v8',
    });
    const image = buildIndex([amd, arm]);
    const events: ProgressEvent[] = [];
    const result = await client.pushImage(`${registry.url}/pp/multi:v1`, image, {
      tags: ['extra'],
      onProgress: (e) => events.push(e),
    });
    expect(result.descriptor.digest).toBe(image.root.descriptor.digest);
    expect(result.tags).toEqual(['v1', 'extra']);
    // 2 configs + 3 distinct layers (the shared one once).
    expect(result.summary).toMatchObject({
      blobsUploaded: 5,
      blobsSkipped: 0,
      blobsMounted: 0,
      manifestsPushed: 4,
    });
    expect(result.summary.bytesUploaded).toBeGreaterThanOrEqual(
      image.blobs
        .filter((b, i, all) => all.findIndex((x) => x.descriptor.digest === b.descriptor.digest) === i)
        .reduce((n, b) => n + b.descriptor.size, 0),
    );
    const isBlob = (e: ProgressEvent) => e.type === 'blob' && (e.kind === 'layer' || e.kind === 'config');
    expect(events.filter((e) => isBlob(e) && e.type === 'blob' && e.outcome === 'uploaded')).toHaveLength(5);
    const manifestRefs = events.flatMap((e) =>
      e.type === 'blob' && (e.kind === 'manifest' || e.kind === 'index') ? [e.reference] : [],
    );
    // Children first (in any order), then the root under each tag.
    expect(manifestRefs.slice(0, 2).sort()).toEqual(
      [amd.manifest.descriptor.digest, arm.manifest.descriptor.digest].sort(),
    );
    expect(manifestRefs.slice(2)).toEqual(['v1', 'extra']);

    const ref = `${registry.url}/pp/multi:v1`;
    const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    expect(raw.stdoutBytes.equals(Buffer.from(image.root.bytes))).toBe(true);
    await run('crane', ['validate', '--insecure', '--remote', ref]);
    await run('crane', ['validate', '--insecure', '--remote', `${registry.url}/pp/multi:extra`]);

    const dir = await tempDir('skopeo-copy-');
    try {
      await run('skopeo', [
        'copy',
        '--all',
        '--preserve-digests',
        '--src-tls-verify=false',
        `docker://${ref}`,
        `oci:${dir.path}:copy`,
      ]);
      const index = await readLayoutIndex(dir.path);
      expect(index.manifests[0]?.digest).toBe(image.root.descriptor.digest);
      for (const doc of [image.root, ...image.manifests!]) {
        expect((await readLayoutBlob(dir.path, doc.descriptor.digest)).equals(Buffer.from(doc.bytes))).toBe(
          true,
        );
      }
      for (const blob of image.blobs) {
        const expected = Buffer.concat(await (await blob.open!()).toArray());
        expect((await readLayoutBlob(dir.path, blob.descriptor.digest)).equals(expected)).toBe(true);
      }
    } finally {
      await dir.remove();
    }

    // Pull back: exact bytes, both children, their configs.
    const pulled = await client.pullImage(ref);
    expect(pulled.kind).toBe('index');
    expect(Buffer.from(pulled.root.bytes).equals(Buffer.from(image.root.bytes))).toBe(true);
    expect(pulled.images.map((i) => i.descriptor.platform?.architecture)).toEqual(['amd64', 'arm64']);
    expect(Buffer.from(pulled.images[1]!.config.bytes).equals(arm.config.bytes as Buffer)).toBe(true);
    const armOnly = await client.pullImage(ref, { platform: 'linux/arm64' });
    expect(armOnly.images.map((i) => i.descriptor.digest)).toEqual([arm.manifest.descriptor.digest]);
    await expect(client.pullImage(ref, { platform: 'linux/s390x' })).rejects.toMatchObject({
      code: 'IMG_REGISTRY_PLATFORM_NOT_FOUND',
      message: expect.stringContaining('linux/arm64/v8'),
    });
  });

  it('re-pushes an unchanged image with one manifest HEAD, like crane', async () => {
    const image = buildImage([randomLayer(200_000), randomLayer(10_000)]);
    const ref = `${registry.url}/pp/again:v1`;
    await client.pushImage(ref, image.input);
    const before = (await ours(registry)).length;
    const events: ProgressEvent[] = [];
    const again = await client.pushImage(ref, image.input, { onProgress: (e) => events.push(e) });
    expect(again.summary).toMatchObject({
      blobsUploaded: 0,
      blobsSkipped: 3,
      blobsMounted: 0,
      bytesUploaded: 0,
      manifestsPushed: 0,
      requests: 1,
    });
    const outcome = (e: ProgressEvent) =>
      e.type === 'blob' ? (e.kind === 'layer' || e.kind === 'config' ? e.outcome : e.kind) : e.type;
    expect(events.map(outcome)).toEqual(['skipped', 'skipped', 'skipped']);
    const requests = (await ours(registry)).slice(before);
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(['HEAD /v2/pp/again/manifests/v1']);

    // Under a new tag: the blobs are HEADed (all present), then only the manifest is put.
    const before2 = (await ours(registry)).length;
    const tagged = await client.pushImage(`${registry.url}/pp/again:v2`, image.input);
    expect(tagged.summary).toMatchObject({
      blobsUploaded: 0,
      blobsSkipped: 3,
      manifestsPushed: 1,
      requests: 5,
    });
    const requests2 = (await ours(registry)).slice(before2);
    expect(requests2.map((r) => `${r.method} ${r.path.replace(/sha256:\w+/, 'D')}`).sort()).toEqual([
      'HEAD /v2/pp/again/blobs/D',
      'HEAD /v2/pp/again/blobs/D',
      'HEAD /v2/pp/again/blobs/D',
      'HEAD /v2/pp/again/manifests/v2',
      'PUT /v2/pp/again/manifests/v2',
    ]);

    // A tag that names another image is moved; one that already names this one is left alone.
    const other = buildImage([randomLayer(1_000)]);
    await client.pushImage(`${registry.url}/pp/again:v3`, other.input);
    const before3 = (await ours(registry)).length;
    const moved = await client.pushImage(ref, image.input, { tags: ['v3', 'v4'] });
    expect(moved.summary).toMatchObject({ blobsUploaded: 0, blobsSkipped: 3, manifestsPushed: 2 });
    const requests3 = (await ours(registry)).slice(before3);
    expect(requests3.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'HEAD /v2/pp/again/manifests/v1',
      'HEAD /v2/pp/again/manifests/v3',
      'HEAD /v2/pp/again/manifests/v4',
      'PUT /v2/pp/again/manifests/v3',
      'PUT /v2/pp/again/manifests/v4',
    ]);
    for (const tag of ['v1', 'v2', 'v3', 'v4']) {
      expect((await client.headManifest(`${registry.url}/pp/again:${tag}`))?.digest).toBe(
        image.input.root.descriptor.digest,
      );
    }
  });

  it('uploads the largest blobs first', async () => {
    const sizes = [20_000, 600_000, 150_000, 2_000];
    const image = buildImage(sizes.map((n) => randomLayer(n)));
    const serial = new RegistryClient({ retry: fast, jobs: 1 });
    const started: number[] = [];
    try {
      await serial.pushImage(`${registry.url}/pp/order:v1`, image.input, {
        onProgress: (e) => {
          if (e.type === 'blob' && e.phase === 'start') started.push(e.descriptor!.size);
        },
      });
    } finally {
      await serial.close();
    }
    expect(started).toHaveLength(5);
    expect(started).toEqual([...started].sort((a, b) => b - a));
  });

  it('uploads in Content-Range chunks when asked, and crane validates the result', async () => {
    const chunked = new RegistryClient({ retry: fast, uploadMode: 'chunked', chunkSize: 64 * 1024 });
    try {
      const layer = randomLayer(500_000);
      const image = buildImage([layer]);
      const ref = `${registry.url}/pp/chunked:v1`;
      const before = (await ours(registry)).length;
      await chunked.pushImage(ref, image.input);
      const patches = (await ours(registry)).slice(before).filter((r) => r.method === 'PATCH');
      expect(patches.length).toBe(Math.ceil(layer.descriptor.size / (64 * 1024)) + 1);
      await run('crane', ['validate', '--insecure', '--remote', ref]);
    } finally {
      await chunked.close();
    }
  });

  it('streams a layer verified, and fails with IMG_DIGEST_MISMATCH when storage is corrupted', async () => {
    const layer = randomLayer(100_000);
    const image = buildImage([layer]);
    const ref = `${registry.url}/pp/verify:v1`;
    await client.pushImage(ref, image.input);
    const source = { registry: registry.url, repository: 'pp/verify' };
    const body = await client.fetchBlob(source, layer.descriptor);
    const got = Buffer.concat(await body.toArray());
    expect(sha256Digest(got)).toBe(layer.descriptor.digest);

    // Flip one byte of the stored blob: the registry still serves it under the old digest.
    const { readFile, writeFile } = await import('node:fs/promises');
    const hex = layer.descriptor.digest.slice(7);
    const path = `${registry.storageDir}/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
    const stored = await readFile(path);
    stored[stored.length - 1] ^= 0xff;
    await writeFile(path, stored);
    const corrupted = await client.fetchBlob(source, layer.descriptor);
    let delivered = 0;
    await expect(
      pipeline(
        corrupted,
        new Writable({
          write: (c, _e, cb) => {
            delivered += c.length;
            cb();
          },
        }),
      ),
    ).rejects.toMatchObject({ code: 'IMG_DIGEST_MISMATCH', message: expect.stringContaining('pp/verify') });
    expect(delivered).toBe(layer.descriptor.size);
  });

  it('reports a missing tag as IMG_REGISTRY_NOT_FOUND with the distribution code', async () => {
    const err = await client.pullImage(`${registry.url}/pp/nothing:here`).catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: 'RegistryError',
      code: 'IMG_REGISTRY_NOT_FOUND',
      status: 404,
      method: 'GET',
      registry: registry.url,
      repository: 'pp/nothing',
      retryable: false,
    });
    expect(['MANIFEST_UNKNOWN', 'NAME_UNKNOWN']).toContain(
      (err as { distributionCode: string }).distributionCode,
    );
    expect((err as Error).message).toContain(`${registry.url}/pp/nothing`);
  });

  it.each([false, true])(
    'fails with IMG_DIGEST_MISMATCH when a blob opens to other bytes (verifyUploads %s), never committing it',
    async (verifyUploads) => {
      const liarClient = new RegistryClient({ retry: fast, verifyUploads });
      try {
        const image = buildImage([randomLayer(80_000)]);
        const layer = image.layers[0]!;
        const swap = (bytes: Buffer) =>
          image.input.blobs.map((b) =>
            b.descriptor.digest === layer.descriptor.digest
              ? { descriptor: b.descriptor, open: async () => Readable.from([bytes]) }
              : b,
          );
        const repo = `pp/liar-${verifyUploads}`;
        const tampered = Buffer.from(layer.bytes).fill(7, 100, 200);
        const err = await liarClient
          .pushImage(`${registry.url}/${repo}:v1`, { ...image.input, blobs: swap(tampered) })
          .catch((e: unknown) => e);
        expect(err).toMatchObject({
          code: 'IMG_DIGEST_MISMATCH',
          message: expect.stringContaining(layer.descriptor.digest),
        });
        const short = await liarClient
          .pushImage(`${registry.url}/${repo}:v1`, { ...image.input, blobs: swap(layer.bytes.subarray(1)) })
          .catch((e: unknown) => e);
        expect(short).toMatchObject({ code: 'IMG_SIZE_MISMATCH' });
        expect(
          await liarClient.blobExists({ registry: registry.url, repository: repo }, layer.descriptor),
        ).toBe(false);
        expect(await liarClient.headManifest(`${registry.url}/${repo}:v1`)).toBeUndefined();
      } finally {
        await liarClient.close();
      }
    },
  );

  it('stops when the signal aborts', async () => {
    const image = buildImage([randomLayer(1_000_000)]);
    const controller = new AbortController();
    const pending = client.pushImage(`${registry.url}/pp/abort:v1`, image.input, {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'blob' && e.phase === 'start') controller.abort();
      },
    });
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(await client.headManifest(`${registry.url}/pp/abort:v1`)).toBeUndefined();
  });

  it('pushes and fetches an empty blob', async () => {
    const empty = { mediaType: 'application/octet-stream', digest: sha256Digest(''), size: 0 };
    const image = buildImage([]);
    const manifest = JSON.parse(Buffer.from(image.input.root.bytes).toString()) as { layers: unknown[] };
    manifest.layers = [empty];
    const bytes = canonicalJsonBytes(manifest, 'manifest');
    const root = {
      descriptor: { mediaType: MediaType.OciManifest, digest: sha256Digest(bytes), size: bytes.length },
      bytes,
    };
    await client.pushImage(`${registry.url}/pp/empty:v1`, {
      root,
      blobs: [...image.input.blobs, blobFromBytes(empty, Buffer.alloc(0))],
    });
    const body = await client.fetchBlob({ registry: registry.url, repository: 'pp/empty' }, empty);
    expect(Buffer.concat(await body.toArray())).toHaveLength(0);
  });
});
