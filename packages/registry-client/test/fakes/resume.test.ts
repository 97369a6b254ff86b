import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { canonicalJsonBytes, type Digest, MediaType, sha256Digest } from '@img/oci-spec';
import { tempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobFromBytes, blobFromFile, TestClient as RegistryClient } from '../helpers/client.js';

// distribution 2.8 cannot resume an interrupted PATCH (its upload state pins the offset, so the real-registry
// fault test exercises the restart path). This tiny registry keeps what it received before a dropped
// connection and reports it with `GET <upload>` -> 204 + Range, as the distribution spec allows.
describe('resuming an interrupted upload', () => {
  const layer = randomBytes(3_000_000);
  const layerDigest = sha256Digest(layer);
  const CUT_AT = 1_000_000;
  const sessions = new Map<string, Buffer>();
  const blobs = new Map<string, Buffer>();
  const patches: { session: string; range?: string; length: number }[] = [];
  let cut = false;
  let server: Server;
  let host: string;

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const session = url.pathname.match(/\/uploads\/(\w+)$/)?.[1];
      if (req.method === 'PATCH' && session) {
        const start = req.headers['content-range'] ? Number(req.headers['content-range'].split('-')[0]) : 0;
        const have = sessions.get(session) ?? Buffer.alloc(0);
        if (start !== have.length) return void res.writeHead(416).end();
        let got = 0;
        const chunks: Buffer[] = [have];
        for await (const c of req) {
          let chunk = c as Buffer;
          if (!cut && got + chunk.length >= CUT_AT) {
            // Keep exactly CUT_AT bytes, then drop the connection mid-body.
            chunk = chunk.subarray(0, CUT_AT - got);
            chunks.push(chunk);
            sessions.set(session, Buffer.concat(chunks));
            patches.push({ session, range: req.headers['content-range'], length: CUT_AT });
            cut = true;
            req.socket.destroy();
            return;
          }
          got += chunk.length;
          chunks.push(chunk);
        }
        const all = Buffer.concat(chunks);
        sessions.set(session, all);
        patches.push({ session, range: req.headers['content-range'], length: got });
        return void res
          .writeHead(202, { location: `/v2/r/blobs/uploads/${session}`, range: `0-${all.length - 1}` })
          .end();
      }
      for await (const _ of req) {
        // drain
      }
      if (req.method === 'HEAD' && url.pathname.startsWith('/v2/r/blobs/sha256:')) {
        const blob = blobs.get(url.pathname.split('/').pop()!);
        return void res.writeHead(blob ? 200 : 404, { 'content-length': blob?.length ?? 0 }).end();
      }
      if (req.method === 'POST') {
        const id = `s${sessions.size + 1}`;
        sessions.set(id, Buffer.alloc(0));
        return void res.writeHead(202, { location: `/v2/r/blobs/uploads/${id}` }).end();
      }
      if (req.method === 'GET' && session) {
        const have = sessions.get(session)!;
        return void res
          .writeHead(204, { location: `/v2/r/blobs/uploads/${session}`, range: `0-${have.length - 1}` })
          .end();
      }
      if (req.method === 'PUT' && session) {
        const data = sessions.get(session)!;
        const digest = url.searchParams.get('digest')!;
        if (sha256Digest(data) !== digest)
          return void res.writeHead(400).end('{"errors":[{"code":"DIGEST_INVALID"}]}');
        blobs.set(digest, data);
        return void res.writeHead(201, { location: `/v2/r/blobs/${digest}` }).end();
      }
      res.writeHead(req.method === 'PUT' ? 201 : 200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  // From memory (a stream that skips the prefix) and from a file (read from the offset, also verified).
  it.each([
    ['bytes', false],
    ['a file', false],
    ['a file', true],
  ] as const)(
    'asks the session for its offset and sends only the rest with Content-Range (%s, verifyUploads %s)',
    async (from, verifyUploads) => {
      cut = false;
      sessions.clear();
      blobs.clear();
      patches.length = 0;
      const client = new RegistryClient({ jobs: 1, retry: { minDelayMs: 1 }, verifyUploads });
      const dir = await tempDir('resume-');
      try {
        const descriptor = { mediaType: MediaType.OciLayerGzip, digest: layerDigest, size: layer.length };
        const path = dir.join('layer');
        await writeFile(path, layer);
        const layerBlob =
          from === 'bytes' ? blobFromBytes(descriptor, layer) : blobFromFile(descriptor, path);
        const image = imageWith(layerDigest, layer.length);
        const result = await client.pushImage(`${host}/r:v1`, {
          root: image.root,
          blobs: [layerBlob, image.config],
        });
        expect(result.summary.retries).toBe(1);
      } finally {
        await client.close();
        await dir.remove();
      }
      expect(blobs.get(layerDigest)?.equals(layer)).toBe(true);
      const layerPatches = patches.filter((p) => p.session === patches[0]!.session);
      expect(layerPatches).toEqual([
        { session: 's1', range: undefined, length: CUT_AT },
        { session: 's1', range: `${CUT_AT}-${layer.length - 1}`, length: layer.length - CUT_AT },
      ]);
    },
  );
});

function imageWith(layer: Digest, size: number) {
  const config = canonicalJsonBytes(
    { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } },
    'config',
  );
  const configDescriptor = {
    mediaType: MediaType.OciConfig,
    digest: sha256Digest(config),
    size: config.length,
  };
  const bytes = canonicalJsonBytes(
    {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: configDescriptor,
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: layer, size }],
    },
    'manifest',
  );
  return {
    root: {
      descriptor: { mediaType: MediaType.OciManifest, digest: sha256Digest(bytes), size: bytes.length },
      bytes,
    },
    config: blobFromBytes(configDescriptor, config),
  };
}
