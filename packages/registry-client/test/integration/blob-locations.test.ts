import { ciRequires, run, startRegistry, type TempDir, type TestRegistry, tempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBlobLocations } from '../../src/index.js';
import { TestClient as RegistryClient } from '../helpers/client.js';
import { buildImage, randomLayer } from '../helpers/images.js';

const needs = ciRequires('docker-registry', 'crane');
const fast = { minDelayMs: 5, maxDelayMs: 50 };

// A real docker-registry: blobs pushed to one repository are mounted, not uploaded, into the next
// repository when the client remembers where it pushed them; a stale memory costs one refused mount.
describe.skipIf(needs.skip)('remembered blob locations (FileBlobLocations)', () => {
  let registry: TestRegistry;
  let dir: TempDir;
  beforeAll(async () => {
    registry = await startRegistry();
    dir = await tempDir('blob-locations-');
  });
  afterAll(async () => {
    await registry?.stop();
    await dir?.remove();
  });

  it('mounts from the repository it pushed to before, and records each push', async () => {
    const image = buildImage([randomLayer(400_000), randomLayer(200_000)]);
    const blobCount = image.input.blobs.length;
    const locations = new FileBlobLocations(dir.join('cache'));
    const client = new RegistryClient({ retry: fast, blobLocations: locations });
    try {
      const first = await client.pushImage(`${registry.url}/remember/one:v1`, image.input);
      expect(first.summary).toMatchObject({ blobsUploaded: blobCount, blobsMounted: 0 });
      for (const b of image.input.blobs)
        expect(await locations.lookup(registry.url, b.descriptor.digest)).toEqual(['remember/one']);

      // A new instance reads what the first one wrote.
      const fresh = new RegistryClient({
        retry: fast,
        blobLocations: new FileBlobLocations(dir.join('cache')),
      });
      try {
        const second = await fresh.pushImage(`${registry.url}/remember/two:v1`, image.input);
        expect(second.summary).toMatchObject({ blobsUploaded: 0, blobsMounted: blobCount, bytesUploaded: 0 });
      } finally {
        await fresh.close();
      }
      expect(await registry.log()).toMatch(
        /mount=sha256%3A[0-9a-f]{64}&from=remember%2Fone|from=remember\/one/,
      );
      await run('crane', ['validate', '--insecure', '--remote', `${registry.url}/remember/two:v1`]);
      const digest = image.input.blobs[0]!.descriptor.digest;
      expect(await new FileBlobLocations(dir.join('cache')).lookup(registry.url, digest)).toEqual([
        'remember/two',
        'remember/one',
      ]);
    } finally {
      await client.close();
    }
  });

  it('uploads when a remembered repository no longer holds the blob (the mount is refused)', async () => {
    const image = buildImage([randomLayer(300_000)]);
    const locations = new FileBlobLocations(dir.join('stale'));
    await locations.record(
      registry.url,
      'gone/away',
      image.input.blobs.map((b) => b.descriptor.digest),
    );
    const client = new RegistryClient({ retry: fast, blobLocations: locations });
    try {
      const pushed = await client.pushImage(`${registry.url}/remember/stale:v1`, image.input);
      expect(pushed.summary).toMatchObject({ blobsUploaded: image.input.blobs.length, blobsMounted: 0 });
      await run('crane', ['validate', '--insecure', '--remote', `${registry.url}/remember/stale:v1`]);
    } finally {
      await client.close();
    }
  });

  it('without blobLocations, a push into a new repository uploads everything again', async () => {
    const image = buildImage([randomLayer(250_000)]);
    const client = new RegistryClient({ retry: fast });
    try {
      await client.pushImage(`${registry.url}/forget/one:v1`, image.input);
      const again = await client.pushImage(`${registry.url}/forget/two:v1`, image.input);
      expect(again.summary).toMatchObject({ blobsUploaded: image.input.blobs.length, blobsMounted: 0 });
    } finally {
      await client.close();
    }
  });
});
