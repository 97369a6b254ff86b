import { MediaType } from '@img/oci-spec';
import { freePort, type HostileRegistry, startHostileRegistry } from '@img/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/index.js';
import { graphOf } from '../helpers/client.js';
import { buildImage, randomLayer } from '../helpers/images.js';

// One retry layer, with a documented number of attempts: a status storm a real registry cannot be
// made to produce, counted in the hostile registry's request log.
const fast = { minDelayMs: 1, maxDelayMs: 4 };

describe('retries', () => {
  let registry: HostileRegistry;
  beforeEach(async () => {
    registry = await startHostileRegistry();
  });
  afterEach(async () => {
    await registry?.stop();
  });

  const count = (method: string, part: string) =>
    registry.requests.filter((r) => r.method === method && r.url.includes(part)).length;

  it('tries a POST that always answers 503 retries + 1 times, not (retries + 1)^2', async () => {
    registry.setFaults((req) => (req.method === 'POST' ? { kind: 'status', status: 503 } : undefined));
    const client = new RegistryClient({ retry: { ...fast, retries: 5 }, jobs: 1 });
    try {
      const err = await client
        .pushImage(`${registry.host}/app:v1`, graphOf(buildImage([randomLayer(100)]).input))
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'IMG_REGISTRY_HTTP_ERROR', status: 503, retryable: true });
    } finally {
      await client.close();
    }
    expect(count('POST', '/blobs/uploads/')).toBe(6);
  }, 10_000);

  it.each([400, 401, 403, 404, 405, 409, 413, 416])(
    'never repeats a %i',
    async (status) => {
      registry.setFaults((req) =>
        req.path.includes('/manifests/') ? { kind: 'status', status } : undefined,
      );
      const client = new RegistryClient({ retry: fast });
      try {
        const err = await client.fetchManifest(`${registry.host}/app:v1`).catch((e: unknown) => e);
        expect(err).toMatchObject({ status, retryable: false });
      } finally {
        await client.close();
      }
      expect(count('GET', '/manifests/')).toBe(1);
    },
    5_000,
  );

  it.each([408, 429, 500, 502, 503, 504])(
    'repeats a %i until the registry recovers',
    async (status) => {
      const bytes = Buffer.from(buildImage([randomLayer(100)]).manifest.bytes);
      registry.store.putManifest('app', 'v1', MediaType.OciManifest, bytes);
      let n = 0;
      registry.setFaults((req) =>
        req.path.includes('/manifests/') && ++n <= 3
          ? { kind: 'status', status, retryAfter: '0' }
          : undefined,
      );
      const client = new RegistryClient({ retry: fast });
      try {
        const doc = await client.fetchManifest(`${registry.host}/app:v1`);
        expect(Buffer.from(doc.bytes).equals(bytes)).toBe(true);
      } finally {
        await client.close();
      }
      expect(count('GET', '/manifests/')).toBe(4);
    },
    5_000,
  );

  it('gives up at once when Retry-After asks for longer than maxRetryAfterMs', async () => {
    registry.setFaults(() => ({ kind: 'status', status: 429, retryAfter: '3600' }));
    const client = new RegistryClient({ retry: { ...fast, maxRetryAfterMs: 60_000 } });
    const started = Date.now();
    try {
      const err = await client.fetchManifest(`${registry.host}/app:v1`).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'IMG_REGISTRY_HTTP_ERROR', status: 429, retryAfterMs: 3_600_000 });
      expect((err as Error).message).toContain('TOOMANYREQUESTS');
    } finally {
      await client.close();
    }
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(count('GET', '/v2/')).toBe(1);
  }, 5_000);

  it('drops a large error body instead of reading it before the retry', async () => {
    const bytes = Buffer.from(buildImage([randomLayer(100)]).manifest.bytes);
    registry.store.putManifest('app', 'v1', MediaType.OciManifest, bytes);
    let n = 0;
    const huge = 'x'.repeat(8 * 1024 * 1024);
    registry.setFaults((req) =>
      req.path.includes('/manifests/') && ++n <= 2 ? { kind: 'status', status: 503, body: huge } : undefined,
    );
    const client = new RegistryClient({ retry: fast });
    try {
      await client.fetchManifest(`${registry.host}/app:v1`);
    } finally {
      await client.close();
    }
    expect(count('GET', '/manifests/')).toBe(3);
  }, 5_000);
});

describe('a refused connection', () => {
  it('fails in under 3 s, naming the address, with the default retry policy', async () => {
    const port = await freePort();
    const client = new RegistryClient();
    const started = Date.now();
    try {
      const err = await client.fetchManifest(`127.0.0.1:${port}/app:v1`).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'IMG_REGISTRY_NETWORK_ERROR', retryable: false });
      expect((err as Error).message).toContain(`connection refused by 127.0.0.1:${port}`);
    } finally {
      await client.close();
    }
    expect(Date.now() - started).toBeLessThan(3_000);
  }, 5_000);

  it('is retried where the registry answered before (a restart)', async () => {
    const registry = await startHostileRegistry();
    const client = new RegistryClient({ retry: { ...fast, retries: 3 } });
    try {
      expect(await client.headManifest(`${registry.host}/app:v1`)).toBeUndefined();
      const host = registry.host;
      await registry.stop();
      const diagnostics: string[] = [];
      const { subscribe, unsubscribe } = await import('node:diagnostics_channel');
      const onRetry = (m: unknown) => diagnostics.push((m as { reason: string }).reason);
      subscribe('img:registry:retry', onRetry);
      try {
        const err = await client.headManifest(`${host}/app:v1`).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'IMG_REGISTRY_NETWORK_ERROR' });
      } finally {
        unsubscribe('img:registry:retry', onRetry);
      }
      expect(diagnostics).toHaveLength(3);
      // The first attempt may meet the closed keep-alive socket; the others are refused.
      expect(diagnostics.filter((d) => d.includes('ECONNREFUSED')).length).toBeGreaterThanOrEqual(2);
    } finally {
      await client.close();
    }
  }, 5_000);
});
