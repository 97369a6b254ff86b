import { randomBytes } from 'node:crypto';
import { MediaType, sha256Digest } from '@img/oci-spec';
import {
  type HostileRegistry,
  type SilentServer,
  startHostileRegistry,
  startSilentServer,
} from '@img/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/index.js';
import { graphOf } from '../helpers/client.js';
import { buildImage, randomLayer } from '../helpers/images.js';

// Hanging and trickling registries: each case has its own test timeout, so a hang fails the test.
const IDLE = 400;
// undici checks its idle timers about every half second, so a timeout fires up to ~1 s late; the
// rest is room for a loaded CI machine. Far below the old behaviour (undici's 300 s, times retries).
const SLACK = IDLE + 3_500;
const fast = { minDelayMs: 1, maxDelayMs: 4 };

async function elapsed<T>(
  fn: () => Promise<T>,
): Promise<{ ms: number; result: T | undefined; error: unknown }> {
  const started = Date.now();
  try {
    const result = await fn();
    return { ms: Date.now() - started, result, error: undefined };
  } catch (error) {
    return { ms: Date.now() - started, result: undefined, error };
  }
}

describe('timeouts', () => {
  let registry: HostileRegistry;
  let client: RegistryClient;
  beforeEach(async () => {
    registry = await startHostileRegistry();
    client = new RegistryClient({ retry: fast, idleTimeoutMs: IDLE, jobs: 1 });
  });
  afterEach(async () => {
    await client?.close();
    await registry?.stop();
  });

  it('fails a request whose response headers never come within the idle timeout, once', async () => {
    registry.setFaults((req) => (req.path.includes('/manifests/') ? { kind: 'hang' } : undefined));
    const { ms, error } = await elapsed(() => client.fetchManifest(`${registry.host}/app:v1`));
    expect(error).toMatchObject({ code: 'IMG_REGISTRY_TIMEOUT' });
    expect((error as Error).message).toContain(
      `${registry.host}: nothing received for 400 ms (idle timeout)`,
    );
    expect(ms).toBeLessThan(SLACK);
    expect(registry.requests.filter((r) => r.path.includes('/manifests/'))).toHaveLength(1);
  }, 10_000);

  it('fails a push whose PATCH is never answered within the idle timeout, not six of them', async () => {
    registry.setFaults((req) => (req.method === 'PATCH' ? { kind: 'hang' } : undefined));
    const image = buildImage([randomLayer(50_000)]);
    const { ms, error } = await elapsed(() =>
      client.pushImage(`${registry.host}/app:v1`, graphOf(image.input)),
    );
    expect(error).toMatchObject({ code: 'IMG_REGISTRY_TIMEOUT' });
    expect(ms).toBeLessThan(SLACK);
    expect(registry.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
  }, 10_000);

  it('fails a push whose PATCH body the registry stops reading within the idle timeout', async () => {
    registry.setFaults((req) => (req.method === 'PATCH' ? { kind: 'hang-unread' } : undefined));
    // Larger than the socket buffers on both sides, so the client's writes stall.
    const bytes = randomBytes(48 * 1024 * 1024);
    const digest = sha256Digest(bytes);
    const layer = {
      descriptor: { mediaType: MediaType.OciLayerGzip, digest, size: bytes.length },
      bytes,
      diffId: digest,
    };
    const { ms, error } = await elapsed(() =>
      client.pushImage(`${registry.host}/app:v1`, graphOf(buildImage([layer]).input)),
    );
    expect(error).toMatchObject({ code: 'IMG_REGISTRY_TIMEOUT' });
    expect(ms).toBeLessThan(SLACK);
    const patch = registry.requests.filter((r) => r.method === 'PATCH');
    expect(patch).toHaveLength(1);
    expect(patch[0]!.bodyBytes).toBe(0);
  }, 10_000);

  it('fails a blob stream whose body stalls within the idle timeout', async () => {
    const blob = randomBytes(200_000);
    const descriptor = { mediaType: MediaType.OciLayerGzip, digest: sha256Digest(blob), size: blob.length };
    registry.store.putBlob(blob);
    registry.setFaults((req) =>
      req.path.endsWith(descriptor.digest) ? { kind: 'stall-body', afterBytes: 70_000 } : undefined,
    );
    const { ms, error } = await elapsed(async () => {
      const body = await client.fetchBlob({ registry: registry.host, repository: 'app' }, descriptor);
      return body.toArray();
    });
    expect(error).toMatchObject({ code: 'IMG_REGISTRY_TIMEOUT' });
    expect((error as Error).message).toMatch(/idle timeout.* after \d+ bytes of the response body/);
    expect(ms).toBeLessThan(SLACK);
  }, 10_000);

  it('ends a trickling response at the deadline', async () => {
    const bytes = Buffer.from(buildImage([randomLayer(100)]).manifest.bytes);
    registry.store.putManifest('app', 'v1', MediaType.OciManifest, bytes);
    registry.setFaults((req) =>
      req.path.includes('/manifests/') ? { kind: 'trickle', intervalMs: 50 } : undefined,
    );
    const trickled = new RegistryClient({ retry: fast, idleTimeoutMs: IDLE, deadlineMs: 1_000 });
    try {
      const { ms, error } = await elapsed(() => trickled.fetchManifest(`${registry.host}/app:v1`));
      expect(error).toMatchObject({ code: 'IMG_REGISTRY_TIMEOUT' });
      expect((error as Error).message).toContain(`GET manifest ${registry.host}/app:v1: not done within 1 s`);
      expect(ms).toBeGreaterThanOrEqual(950);
      expect(ms).toBeLessThan(4_000);
    } finally {
      await trickled.close();
    }
  }, 10_000);

  it('rejects with the caller signal, not the deadline, when the caller aborts', async () => {
    registry.setFaults(() => ({ kind: 'hang' }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const patient = new RegistryClient({ idleTimeoutMs: 60_000 });
    try {
      const { error } = await elapsed(() =>
        patient.fetchManifest(`${registry.host}/app:v1`, { signal: controller.signal }),
      );
      expect(error).toMatchObject({ name: 'AbortError' });
    } finally {
      await patient.close();
    }
  }, 10_000);
});

describe('connect timeout', () => {
  let silent: SilentServer;
  beforeEach(async () => {
    // 127.0.0.2 is not a loopback name to the client: it speaks HTTPS, and the handshake never completes.
    silent = await startSilentServer('127.0.0.2');
  });
  afterEach(async () => {
    await silent?.stop();
  });

  it('fails once, naming the address, when the connection is never established', async () => {
    const client = new RegistryClient({ connectTimeoutMs: 300, retry: fast });
    try {
      const { ms, error } = await elapsed(() => client.fetchManifest(`${silent.host}/app:v1`));
      expect(error).toMatchObject({ code: 'IMG_REGISTRY_TIMEOUT' });
      expect((error as Error).message).toContain(
        `${silent.host}: no connection within 300 ms (connect timeout)`,
      );
      expect(ms).toBeLessThan(4_000);
    } finally {
      await client.close();
    }
    expect(silent.connections()).toBe(1);
  }, 10_000);
});
