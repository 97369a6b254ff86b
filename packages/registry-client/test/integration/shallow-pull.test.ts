import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { canonicalJsonBytes, type Digest, type Index, MediaType, sha256Digest } from '@img/oci-spec';
import { ciRequires, run, startRegistry, type TestRegistry, tempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USER_AGENT } from '../../src/index.js';
import { TestClient as RegistryClient } from '../helpers/client.js';
import { deriveImage } from '../helpers/derive.js';
import { buildImage, buildIndex, randomLayer } from '../helpers/images.js';
import { writeLayout } from '../helpers/layout.js';

const needs = ciRequires('docker-registry', 'skopeo', 'crane');

describe.skipIf(needs.skip)('shallow pull and build on a base without downloading it', () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let baseRef: string;
  let base: ReturnType<typeof buildIndex>;

  beforeAll(async () => {
    registry = await startRegistry();
    client = new RegistryClient({ retry: { minDelayMs: 5 } });
    // The base is pushed by skopeo, not by us: 2 platforms x 3 layers.
    const amd = buildImage([randomLayer(200_000), randomLayer(100_000), randomLayer(30_000)], {
      os: 'linux',
      architecture: 'amd64',
    });
    const arm = buildImage([randomLayer(150_000), randomLayer(90_000), randomLayer(20_000)], {
      os: 'linux',
      architecture: 'arm64',
      variant: 'v8',
    });
    base = buildIndex([amd, arm]);
    const dir = await tempDir('base-layout-');
    try {
      baseRef = `${registry.url}/base/cuda:12`;
      const src = await writeLayout(dir.path, base, '12');
      await run('skopeo', [
        'copy',
        '--all',
        '--preserve-digests',
        '--dest-tls-verify=false',
        src,
        `docker://${baseRef}`,
      ]);
    } finally {
      await dir.remove();
    }
  });
  afterAll(async () => {
    await client?.close();
    await registry?.stop();
  });

  it('mounts every base layer into another repository with zero layer GETs', async () => {
    const before = (await registry.requests()).length;
    const pulled = await client.pullImage(baseRef);
    expect(pulled.kind).toBe('index');
    expect(Buffer.from(pulled.root.bytes).equals(Buffer.from(base.root.bytes))).toBe(true);
    expect(pulled.images).toHaveLength(2);

    const children = pulled.images.map((img) => deriveImage(pulled, img, randomLayer(10_000)));
    const index: Index = {
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: children.map((c) => c.manifest.descriptor),
    };
    const indexBytes = canonicalJsonBytes(index, 'index');
    const result = await client.pushImage(`${registry.url}/app/service:1`, {
      root: {
        descriptor: {
          mediaType: MediaType.OciIndex,
          digest: sha256Digest(indexBytes),
          size: indexBytes.length,
        },
        bytes: indexBytes,
      },
      manifests: children.map((c) => c.manifest),
      blobs: children.flatMap((c) => c.blobs),
    });
    expect(result.summary).toMatchObject({ blobsMounted: 6, blobsUploaded: 4, blobsSkipped: 0 });

    const requests = (await registry.requests())
      .slice(before)
      .filter((r) => r.userAgent === DEFAULT_USER_AGENT);
    const baseLayers = new Set<string>(pulled.images.flatMap((i) => i.manifest.layers.map((l) => l.digest)));
    // Only the two configs were downloaded, never a layer.
    const blobGets = requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/sha256:'));
    expect(blobGets.map((r) => r.path.split('/blobs/')[1])).toEqual(
      expect.arrayContaining(pulled.images.map((i) => i.manifest.config.digest)),
    );
    expect(blobGets.filter((r) => baseLayers.has(r.path.split('/blobs/')[1]!))).toEqual([]);
    const mounts = requests.filter((r) => r.method === 'POST' && r.uri.includes('mount='));
    expect(mounts).toHaveLength(6);
    expect(mounts.every((r) => r.status === 201 && r.uri.includes('from=base%2Fcuda'))).toBe(true);
    // Base layers were never PATCHed: only the 2 new layers and 2 new configs were uploaded.
    expect(requests.filter((r) => r.method === 'PATCH')).toHaveLength(4);

    await run('crane', ['validate', '--insecure', '--remote', `${registry.url}/app/service:1`]);
  });

  it('selects one platform and can download its layers eagerly as verified streams', async () => {
    const digests: Record<string, Digest> = {};
    const pulled = await client.pullImage(baseRef, {
      platform: 'linux/arm64',
      layers: async (layer, body) => {
        const hash = createHash('sha256');
        await pipeline(
          body,
          new Writable({
            write: (c, _e, cb) => {
              hash.update(c);
              cb();
            },
          }),
        );
        digests[layer.digest] = `sha256:${hash.digest('hex')}` as Digest;
      },
    });
    expect(pulled.images).toHaveLength(1);
    expect(pulled.images[0]!.descriptor.platform).toMatchObject({ architecture: 'arm64' });
    const layers = pulled.images[0]!.manifest.layers;
    expect(Object.keys(digests).sort()).toEqual(layers.map((l) => l.digest).sort());
    for (const l of layers) expect(digests[l.digest]).toBe(l.digest);
  });
});
