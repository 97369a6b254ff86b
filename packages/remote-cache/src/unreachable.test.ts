import { freePort } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { recordRpcs } from '../test/helpers.js';
import { connectRemoteCache } from './index.js';

describe('a cache that does not answer', () => {
  const rpcs = recordRpcs();

  it('UNAVAILABLE is retried with backoff, then reported naming the endpoint', async () => {
    const port = await freePort();
    const cache = connectRemoteCache(`grpc://127.0.0.1:${port}`, {
      retry: { attempts: 3, initialDelayMs: 20, maxDelayMs: 40 },
    });
    const started = Date.now();
    try {
      await expect(cache.capabilities()).rejects.toMatchObject({
        code: 'IMG_REMOTE_CACHE_RPC',
        grpcCode: 14,
        message: expect.stringContaining(`asking capabilities at grpc://127.0.0.1:${port}: UNAVAILABLE`),
      });
      expect(rpcs.events.map((e) => e.attempt)).toEqual([1, 2, 3]);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      cache.close();
    }
  });

  it('a signal aborts the wait between retries', async () => {
    const port = await freePort();
    const cache = connectRemoteCache(`grpc://127.0.0.1:${port}`, {
      retry: { attempts: 10, initialDelayMs: 5_000 },
    });
    try {
      const controller = new AbortController();
      const pending = cache.findMissingBlobs([{ digest: `sha256:${'1'.repeat(64)}` as never, size: 1 }], {
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(new Error('enough')), 200);
      await expect(pending).rejects.toThrow(/^enough$/);
    } finally {
      cache.close();
    }
  });

  it('refuses non-sha256 digests and bad offsets before any call', async () => {
    const cache = connectRemoteCache('grpc://127.0.0.1:1');
    try {
      await expect(
        cache.readBlob({ digest: `sha512:${'a'.repeat(128)}` as never, size: 1 }),
      ).rejects.toMatchObject({ code: 'IMG_INVALID_OPTIONS' });
      await expect(
        cache.openBlob({ digest: `sha256:${'a'.repeat(64)}` as never, size: 1 }, { offset: 2 }),
      ).rejects.toMatchObject({
        code: 'IMG_INVALID_OPTIONS',
      });
      expect(rpcs.events).toEqual([]);
    } finally {
      cache.close();
    }
  });
});
