import { ciRequires, run, startRegistry, type TestRegistry } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USER_AGENT } from '../../src/index.js';
import { TestClient as RegistryClient } from '../helpers/client.js';
import { deriveImage } from '../helpers/derive.js';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import { buildImage, randomLayer } from '../helpers/images.js';

const needs = ciRequires('docker-registry', 'crane');

describe.skipIf(needs.skip)('base layers from another registry are streamed, not stored', () => {
  let origin: TestRegistry;
  let dest: TestRegistry;
  let proxy: FaultProxy;
  beforeAll(async () => {
    [origin, dest] = await Promise.all([startRegistry(), startRegistry()]);
    const cut = new Set<string>();
    // The first GET of each base layer loses its connection half-way through the body.
    proxy = await startFaultProxy({ host: '127.0.0.1', port: origin.port }, (req) => {
      if (req.method === 'GET' && req.path.includes('/blobs/') && !cut.has(req.path)) {
        cut.add(req.path);
        return { kind: 'reset-response', afterBytes: 150_000 };
      }
      return { kind: 'pass' };
    });
  });
  afterAll(async () => {
    await proxy?.stop();
    await Promise.all([origin?.stop(), dest?.stop()]);
  });

  it('streams each base layer from the origin into the destination upload, resuming a cut download', async () => {
    const client = new RegistryClient({ retry: { minDelayMs: 2 } });
    try {
      const baseLayers = [randomLayer(400_000), randomLayer(300_000)];
      await client.pushImage(`${origin.url}/lib/base:1`, buildImage(baseLayers).input);
      const pulled = await client.pullImage(`${proxy.url}/lib/base:1`);
      const derived = deriveImage(pulled, pulled.images[0]!, randomLayer(1000));
      const before = (await origin.requests()).length;
      const result = await client.pushImage(`${dest.url}/app/derived:1`, derived);
      expect(result.summary).toMatchObject({ blobsUploaded: 4, blobsMounted: 0 });

      const gets = (await origin.requests())
        .slice(before)
        .filter(
          (r) => r.userAgent === DEFAULT_USER_AGENT && r.method === 'GET' && r.path.includes('/blobs/'),
        );
      // Each base layer: one GET cut short, then one ranged GET (206) for the rest.
      for (const layer of baseLayers) {
        const forLayer = gets.filter((r) => r.path.endsWith(layer.descriptor.digest)).map((r) => r.status);
        expect(forLayer).toEqual([200, 206]);
      }
      await run('crane', ['validate', '--insecure', '--remote', `${dest.url}/app/derived:1`]);
    } finally {
      await client.close();
    }
  });
});
