import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { canonicalJsonBytes, MediaType, sha256Digest } from '@img/oci-spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobFromBytes, TestClient as RegistryClient } from '../helpers/client.js';

// distribution takes any PATCH size; a proxy with a body limit in front of it (nginx
// client_max_body_size) answers 413 to the single streaming PATCH. This tiny registry plays both.
describe('falling back to chunked uploads', () => {
  const LIMIT = 300_000;
  const sessions = new Map<string, Buffer>();
  const blobs = new Map<string, Buffer>();
  const patchSizes: number[] = [];
  let server: Server;
  let host: string;

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const session = url.pathname.match(/\/uploads\/(\w+)$/)?.[1];
      if (Number(req.headers['content-length'] ?? 0) > LIMIT) {
        res.writeHead(413, { connection: 'close' }).end('<html>413 Request Entity Too Large</html>');
        return;
      }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      if (req.method === 'HEAD') {
        const blob = blobs.get(url.pathname.split('/').pop()!);
        res.writeHead(blob ? 200 : 404).end();
      } else if (req.method === 'POST') {
        const id = `s${sessions.size + 1}`;
        sessions.set(id, Buffer.alloc(0));
        res.writeHead(202, { location: `/v2/r/blobs/uploads/${id}` }).end();
      } else if (req.method === 'PATCH' && session) {
        patchSizes.push(body.length);
        const have = sessions.get(session)!;
        const start = Number((req.headers['content-range'] ?? '0-').split('-')[0]);
        if (start !== have.length) return void res.writeHead(416).end();
        sessions.set(session, Buffer.concat([have, body]));
        res
          .writeHead(202, {
            location: `/v2/r/blobs/uploads/${session}`,
            range: `0-${have.length + body.length - 1}`,
          })
          .end();
      } else if (req.method === 'PUT' && session) {
        const data = sessions.get(session)!;
        const digest = url.searchParams.get('digest')!;
        if (sha256Digest(data) !== digest)
          return void res.writeHead(400).end('{"errors":[{"code":"DIGEST_INVALID"}]}');
        blobs.set(digest, data);
        res.writeHead(201).end();
      } else {
        res.writeHead(req.method === 'PUT' ? 201 : 200).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('switches to Content-Range chunks after a 413, and stays chunked for the next blobs', async () => {
    const layers = [randomBytes(1_000_000), randomBytes(700_000)];
    const descriptors = layers.map((b) => ({
      mediaType: MediaType.OciLayer,
      digest: sha256Digest(b),
      size: b.length,
    }));
    const config = canonicalJsonBytes(
      {
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: descriptors.map((d) => d.digest) },
      },
      'config',
    );
    const cd = { mediaType: MediaType.OciConfig, digest: sha256Digest(config), size: config.length };
    const manifest = canonicalJsonBytes(
      { schemaVersion: 2, mediaType: MediaType.OciManifest, config: cd, layers: descriptors },
      'manifest',
    );
    const client = new RegistryClient({ jobs: 1, chunkSize: 250_000, retry: { minDelayMs: 1 } });
    try {
      await client.pushImage(`${host}/r:v1`, {
        root: {
          descriptor: {
            mediaType: MediaType.OciManifest,
            digest: sha256Digest(manifest),
            size: manifest.length,
          },
          bytes: manifest,
        },
        blobs: [blobFromBytes(cd, config), ...layers.map((b, i) => blobFromBytes(descriptors[i]!, b))],
      });
    } finally {
      await client.close();
    }
    for (const [i, b] of layers.entries()) expect(blobs.get(descriptors[i]!.digest)?.equals(b)).toBe(true);
    // Largest first: the first layer is refused whole, then goes in 250 kB chunks, and so do the second
    // and the config (one chunk) without trying the streaming PATCH again.
    expect(patchSizes).toEqual([
      250_000,
      250_000,
      250_000,
      250_000,
      250_000,
      250_000,
      200_000,
      config.length,
    ]);
  });
});
