import { describe, expect, it } from 'vitest';
import { connectRemoteCache } from '../src/index.js';
import { startFakeReapi } from './fake-reapi.js';
import { randomBlob, recordRpcs } from './helpers.js';

// Faults BuildGrid 0.4.4 cannot show; everything else runs against BuildGrid (buildgrid.test.ts).
describe('faults a real server here cannot show (in-repo fake)', () => {
  const rpcs = recordRpcs();

  it('a cache without sha256 is refused clearly, naming the endpoint and instance', async () => {
    const fake = await startFakeReapi({ digestFunctions: ['SHA1', 'MD5'] });
    const cache = connectRemoteCache(fake.endpoint, { instanceName: 'ci' });
    try {
      const blob = randomBlob(10);
      await expect(cache.findMissingBlobs([blob])).rejects.toMatchObject({
        code: 'IMG_REMOTE_CACHE_UNSUPPORTED',
        message: `remote cache ${fake.endpoint} (instance ci) does not offer sha256 digests (offers: SHA1, MD5)`,
      });
    } finally {
      cache.close();
      await fake.close();
    }
  });

  it('a broken upload resumes at the committed offset QueryWriteStatus reports', async () => {
    const fake = await startFakeReapi({ breakFirstWriteAfter: 3 * 1024 * 1024 });
    const cache = connectRemoteCache(fake.endpoint, { retry: { attempts: 3, initialDelayMs: 10 } });
    try {
      const blob = randomBlob(10 * 1024 * 1024 + 5);
      await cache.writeBlob(blob, blob.data);
      const calls = rpcs.events.filter((e) => e.method.startsWith('bytestream.'));
      expect(calls.map((e) => e.method)).toEqual([
        'bytestream.Write',
        'bytestream.QueryWriteStatus',
        'bytestream.Write',
      ]);
      expect(calls[2]!.offset).toBe(3 * 1024 * 1024);
      expect(calls[2]!.resource).toBe(calls[0]!.resource);
      expect(fake.blobs.get(blob.digest.slice(7))?.equals(blob.data)).toBe(true);
    } finally {
      cache.close();
      await fake.close();
    }
  });
});
