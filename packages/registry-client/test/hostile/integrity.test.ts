import { randomBytes } from 'node:crypto';
import { MediaType, sha256Digest } from '@img/oci-spec';
import { type HostileRegistry, startHostileRegistry } from '@img/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/index.js';

// Bodies that lie or break: wrong bytes for a digest, endless bodies, resets mid-body, a server that
// ignores Range on the resume. Each case has its own timeout, so a hang fails the test.
const fast = { minDelayMs: 1, maxDelayMs: 4 };

describe('response bodies', () => {
  let registry: HostileRegistry;
  let client: RegistryClient;
  const blob = randomBytes(300_000);
  const descriptor = { mediaType: MediaType.OciLayerGzip, digest: sha256Digest(blob), size: blob.length };
  const from = () => ({ registry: registry.host, repository: 'app' });
  const read = async () => Buffer.concat(await (await client.fetchBlob(from(), descriptor)).toArray());
  const blobGets = () =>
    registry.requests.filter((r) => r.method === 'GET' && r.path.endsWith(descriptor.digest));

  beforeEach(async () => {
    registry = await startHostileRegistry();
    registry.store.putBlob(blob);
    client = new RegistryClient({ retry: { ...fast, retries: 3 }, idleTimeoutMs: 2_000 });
  });
  afterEach(async () => {
    await client?.close();
    await registry?.stop();
  });

  it('fails wrong bytes for a digest before the end of the stream', async () => {
    registry.setFaults((req) => (req.path.endsWith(descriptor.digest) ? { kind: 'wrong-bytes' } : undefined));
    await expect(read()).rejects.toMatchObject({ code: 'IMG_DIGEST_MISMATCH' });
  }, 5_000);

  it('stops an endless blob body at the descriptor size', async () => {
    registry.setFaults((req) => (req.path.endsWith(descriptor.digest) ? { kind: 'endless' } : undefined));
    await expect(read()).rejects.toMatchObject({ code: 'IMG_SIZE_MISMATCH' });
  }, 5_000);

  it('stops an endless manifest body at maxManifestBytes', async () => {
    registry.setFaults((req) => (req.path.includes('/manifests/') ? { kind: 'endless' } : undefined));
    const capped = new RegistryClient({ maxManifestBytes: 1024 * 1024 });
    try {
      await expect(capped.fetchManifest(`${registry.host}/app:v1`)).rejects.toMatchObject({
        code: 'IMG_REGISTRY_INVALID_RESPONSE',
      });
    } finally {
      await capped.close();
    }
  }, 5_000);

  it('resumes a body reset mid-way with Range from the byte it stopped at', async () => {
    let n = 0;
    registry.setFaults((req) =>
      req.path.endsWith(descriptor.digest) && ++n === 1 ? { kind: 'reset', afterBytes: 100_000 } : undefined,
    );
    expect((await read()).equals(blob)).toBe(true);
    const gets = blobGets();
    expect(gets).toHaveLength(2);
    expect(gets[0]!.headers.range).toBeUndefined();
    expect(gets[1]!.headers.range).toMatch(/^bytes=\d+-$/);
  }, 5_000);

  it('skips what it already has when the resumed request ignores Range', async () => {
    let n = 0;
    registry.setFaults((req) => {
      if (!req.path.endsWith(descriptor.digest)) return undefined;
      n++;
      if (n === 1) return { kind: 'reset', afterBytes: 120_000 };
      return { kind: 'ignore-range' };
    });
    expect((await read()).equals(blob)).toBe(true);
    expect(blobGets()).toHaveLength(2);
  }, 5_000);

  it('gives up after the retries when every attempt is reset, saying where', async () => {
    registry.setFaults((req) =>
      req.path.endsWith(descriptor.digest) ? { kind: 'reset', afterBytes: 50_000 } : undefined,
    );
    const err = await read().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'IMG_REGISTRY_NETWORK_ERROR', registry: registry.host });
    expect((err as Error).message).toMatch(/bytes of the response body/);
    // The first GET and 3 resumes, every one cut again.
    expect(blobGets()).toHaveLength(4);
  }, 5_000);
});
