import { randomBytes } from 'node:crypto';
import { MediaType, sha256Digest } from '@img/oci-spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient as RegistryClient } from '../helpers/client.js';
import { type TinyServer, tinyServer } from './servers.js';

// A real registry cannot be made to redirect blob GETs to another host (Docker Hub and S3 do), so this
// uses two tiny servers: the "registry" requires Basic auth and 307s blob GETs to the "CDN".
describe('redirects', () => {
  const blob = randomBytes(50_000);
  const descriptor = { mediaType: MediaType.OciLayerGzip, digest: sha256Digest(blob), size: blob.length };
  const password = 'redirect-secret-pw';
  let cdn: TinyServer;
  let registry: TinyServer;
  beforeAll(async () => {
    cdn = await tinyServer((_req, res) => {
      res.writeHead(200, { 'content-length': blob.length }).end(blob);
    });
    registry = await tinyServer((req, res) => {
      if (!req.headers.authorization) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' }).end();
      } else if (req.url === `/v2/r/blobs/${descriptor.digest}`) {
        res.writeHead(307, { location: `${cdn.origin}/cdn/blob?X-Amz-Signature=abc` }).end();
      } else {
        res.writeHead(200).end();
      }
    });
  });
  afterAll(async () => {
    await cdn?.stop();
    await registry?.stop();
  });

  it('follows a blob redirect to another host without sending Authorization there', async () => {
    const client = new RegistryClient({
      credentialProvider: {
        resolve: async () => ({ credential: { kind: 'basic', username: 'u', password }, origin: 'test' }),
      },
    });
    try {
      const body = await client.fetchBlob({ registry: registry.host, repository: 'r' }, descriptor);
      expect(Buffer.concat(await body.toArray()).equals(blob)).toBe(true);
    } finally {
      await client.close();
    }
    const blobGet = registry.requests.find((r) => r.url.includes('/blobs/'));
    expect(blobGet?.headers.authorization).toBe(`Basic ${Buffer.from(`u:${password}`).toString('base64')}`);
    expect(cdn.requests).toHaveLength(1);
    expect(cdn.requests[0]!.url).toBe('/cdn/blob?X-Amz-Signature=abc');
    expect(cdn.requests[0]!.headers.authorization).toBeUndefined();
  });
});
