import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { ciRequires, run, startRegistry, type TempDir, type TestRegistry, tempDir } from '@img/test-utils';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobFromFile, type TestBlob as PushBlob, TestClient as RegistryClient } from '../helpers/client.js';
import { buildImage, randomLayer, type TestImage } from '../helpers/images.js';

const needs = ciRequires('docker-registry', 'crane');
const fast = { minDelayMs: 5, maxDelayMs: 50 };

/** The image's blobs with `digest`'s replaced. */
function replacing(image: TestImage, digest: string, blob: PushBlob): PushBlob[] {
  return image.input.blobs.map((b) => (b.descriptor.digest === digest ? blob : b));
}

// Blobs opened as fs.ReadStreams (blobFromFile, @img/oci-layout) are read by the client itself into
// two recycled buffers: these tests check the bytes that arrive, ranges, resumes and lies.
describe.skipIf(needs.skip)('pushing blobs from files', () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let dir: TempDir;
  beforeAll(async () => {
    registry = await startRegistry();
    client = new RegistryClient({ retry: fast });
    dir = await tempDir('push-files-');
  });
  afterAll(async () => {
    await client?.close();
    await registry?.stop();
    await dir?.remove();
  });

  it('sends whole files and byte ranges of files byte for byte', async () => {
    // Several MiB: many chunks through the same two buffers, the last one partial.
    const big = randomLayer(5_500_000);
    const ranged = randomLayer(300_000);
    const image = buildImage([big, ranged]);
    const bigPath = dir.join('big.tgz');
    await writeFile(bigPath, big.bytes);
    // `ranged` sits inside a larger file, as a layer does inside an oci-archive tar.
    const archive = dir.join('archive.bin');
    const start = 777;
    await writeFile(archive, Buffer.concat([Buffer.alloc(start, 1), ranged.bytes, Buffer.alloc(1000, 2)]));
    const blobs = replacing(image, big.descriptor.digest, blobFromFile(big.descriptor, bigPath)).map((b) =>
      b.descriptor.digest === ranged.descriptor.digest
        ? {
            descriptor: b.descriptor,
            open: async () => createReadStream(archive, { start, end: start + ranged.bytes.length - 1 }),
          }
        : b,
    );
    const ref = `${registry.url}/files/ok:v1`;
    const result = await client.pushImage(ref, { ...image.input, blobs });
    expect(result.summary).toMatchObject({ blobsUploaded: 3 });
    expect(result.summary.bytesUploaded).toBe(image.input.blobs.reduce((n, b) => n + b.descriptor.size, 0));
    for (const layer of [big, ranged]) {
      const body = await client.fetchBlob(
        { registry: registry.url, repository: 'files/ok' },
        layer.descriptor,
      );
      expect(Buffer.concat(await body.toArray()).equals(layer.bytes)).toBe(true);
    }
    await run('crane', ['validate', '--insecure', '--remote', ref]);
  });

  it('sends files through a dispatcher of the caller (fresh buffers), byte for byte', async () => {
    const layer = randomLayer(3_500_000);
    const image = buildImage([layer]);
    const path = dir.join('own-dispatcher.tgz');
    await writeFile(path, layer.bytes);
    const agent = new Agent({ connections: 2 });
    const own = new RegistryClient({ retry: fast, dispatcher: agent });
    try {
      const blobs = replacing(image, layer.descriptor.digest, blobFromFile(layer.descriptor, path));
      await own.pushImage(`${registry.url}/files/dispatcher:v1`, { ...image.input, blobs });
      const body = await own.fetchBlob(
        { registry: registry.url, repository: 'files/dispatcher' },
        layer.descriptor,
      );
      expect(Buffer.concat(await body.toArray()).equals(layer.bytes)).toBe(true);
    } finally {
      await own.close();
      await agent.close();
    }
  });

  it.each([false, true])(
    'refuses a file that does not hold the descriptor bytes (verifyUploads %s), committing nothing',
    async (verifyUploads) => {
      const liar = new RegistryClient({ retry: fast, verifyUploads });
      try {
        const layer = randomLayer(2_500_000);
        const image = buildImage([layer]);
        const repo = `files/liar-${verifyUploads}`;
        const pushFile = async (bytes: Buffer) => {
          const path = dir.join(`liar-${verifyUploads}-${bytes.length}.tgz`);
          await writeFile(path, bytes);
          const blobs = replacing(image, layer.descriptor.digest, blobFromFile(layer.descriptor, path));
          return liar
            .pushImage(`${registry.url}/${repo}:v1`, { ...image.input, blobs })
            .catch((e: unknown) => e);
        };
        const tampered = Buffer.from(layer.bytes);
        tampered[1_500_000] ^= 0xff;
        expect(await pushFile(tampered)).toMatchObject({
          code: 'IMG_DIGEST_MISMATCH',
          message: expect.stringContaining(layer.descriptor.digest),
        });
        expect(await pushFile(layer.bytes.subarray(1))).toMatchObject({
          code: 'IMG_SIZE_MISMATCH',
          message: expect.stringContaining('the descriptor says'),
        });
        expect(await pushFile(Buffer.concat([layer.bytes, Buffer.from('x')]))).toMatchObject({
          code: 'IMG_SIZE_MISMATCH',
        });
        expect(await liar.blobExists({ registry: registry.url, repository: repo }, layer.descriptor)).toBe(
          false,
        );
        expect(await liar.headManifest(`${registry.url}/${repo}:v1`)).toBeUndefined();
      } finally {
        await liar.close();
      }
    },
  );
});
