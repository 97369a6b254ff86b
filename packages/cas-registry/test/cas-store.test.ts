import { randomBytes } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '@img/oci-spec';
import { connectRemoteCache, RPC_CHANNEL } from '@img/remote-cache';
import { ciRequires, freePort, startBuildGrid } from '@img/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CasBlobStore, parseBlobDigest, startRegistryServer } from '../src/index.js';
import {
  errorCode,
  FAST_RETRY,
  pushBlob,
  pushImageBlobs,
  putManifest,
  sha256,
  sha512,
  startTestServer,
  type TestServer,
} from './helpers.js';

const needs = ciRequires('bgd');
const t = needs.skip ? undefined : await startTestServer({ store: 'cas' });

/** The remote-cache RPCs (method and read/write offset) made during each test. */
function recordRpcs(): Array<{ method: string; offset?: number }> {
  const events: Array<{ method: string; offset?: number }> = [];
  const listener = (m: unknown) => events.push(m as { method: string; offset?: number });
  beforeEach(() => {
    events.length = 0;
    diagnostics.subscribe(RPC_CHANNEL, listener);
  });
  afterEach(() => {
    diagnostics.unsubscribe(RPC_CHANNEL, listener);
  });
  return events;
}

function hex(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}

async function bytesOf(res: Response): Promise<Buffer> {
  return Buffer.from(await res.arrayBuffer());
}

describe.skipIf(needs.skip)('blobs in a real BuildGrid CAS', () => {
  const s = t as TestServer;
  const rpcs = recordRpcs();

  it('uploads land in the CAS (batch and ByteStream); GET and Range reads stream from it', async () => {
    const small = randomBytes(1000);
    const large = randomBytes(6 * 1024 * 1024 + 3);
    const a = await pushBlob(s.base, 'cas/up', small);
    const b = await pushBlob(s.base, 'cas/up', large);
    expect(rpcs.map((e) => e.method)).toEqual(
      expect.arrayContaining(['cas.BatchUpdateBlobs', 'bytestream.Write']),
    );
    expect(readFileSync(s.buildGrid!.blobPath(hex(a.digest))).equals(small)).toBe(true);
    expect(readFileSync(s.buildGrid!.blobPath(hex(b.digest))).equals(large)).toBe(true);

    expect((await bytesOf(await fetch(`${s.base}/v2/cas/up/blobs/${b.digest}`))).equals(large)).toBe(true);
    rpcs.length = 0;
    const res = await fetch(`${s.base}/v2/cas/up/blobs/${b.digest}`, {
      headers: { range: 'bytes=5000000-5999999' },
    });
    expect(res.status).toBe(206);
    expect((await bytesOf(res)).equals(large.subarray(5_000_000, 6_000_000))).toBe(true);
    // The range is read from its first byte (read_offset), not from the blob's start.
    expect(rpcs.filter((e) => e.method === 'bytestream.Read').map((e) => e.offset)).toEqual([5_000_000]);
    const part = await fetch(`${s.base}/v2/cas/up/blobs/${a.digest}`, { headers: { range: 'bytes=10-19' } });
    expect((await bytesOf(part)).equals(small.subarray(10, 20))).toBe(true);
  });

  it('a sha512 blob is kept in the CAS under its sha256, and served by its sha512 digest', async () => {
    const data = randomBytes(7 * 1024 * 1024);
    const start = await fetch(`${s.base}/v2/cas/sha512/blobs/uploads/?digest-algorithm=sha512`, {
      method: 'POST',
    });
    const location = new URL(start.headers.get('location')!, s.base);
    location.searchParams.set('digest', sha512(data));
    expect((await fetch(location, { method: 'PUT', body: data })).status).toBe(201);
    // Single POST with an unknown size (chunked request body): spooled, then uploaded.
    const other = randomBytes(3000);
    const post = await fetch(`${s.base}/v2/cas/sha512/blobs/uploads/?digest=${sha512(other)}`, {
      method: 'POST',
      body: new Blob([other]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(post.status).toBe(201);
    for (const bytes of [data, other]) {
      expect(readFileSync(s.buildGrid!.blobPath(hex(sha256(bytes)))).equals(bytes)).toBe(true);
      const get = await fetch(`${s.base}/v2/cas/sha512/blobs/${sha512(bytes)}`);
      expect(get.headers.get('docker-content-digest')).toBe(sha512(bytes));
      expect((await bytesOf(get)).equals(bytes)).toBe(true);
    }
  });

  it('a manifest may name layers a build wrote to the CAS: the push sends only config and manifest', async () => {
    const layer = randomBytes(5 * 1024 * 1024);
    const layerDigest = sha256(layer);
    await s.cache!.writeBlob({ digest: layerDigest as Digest, size: layer.length }, layer);
    // Before a manifest names it, the registry cannot know its size, so it cannot find it.
    expect((await fetch(`${s.base}/v2/cas/built/blobs/${layerDigest}`, { method: 'HEAD' })).status).toBe(404);

    const config = await pushBlob(
      s.base,
      'cas/built',
      JSON.stringify({ architecture: 'amd64', os: 'linux' }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { ...config, mediaType: 'application/vnd.oci.image.config.v1+json' },
        layers: [
          { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length },
        ],
      }),
    );
    const writes = () =>
      rpcs.filter((e) => e.method === 'bytestream.Write' || e.method === 'cas.BatchUpdateBlobs');
    const before = writes().length;
    expect((await putManifest(s.base, 'cas/built', 'v1', manifest)).status).toBe(201);
    expect(writes().length).toBe(before); // nothing uploaded for the layer
    const get = await fetch(`${s.base}/v2/cas/built/blobs/${layerDigest}`);
    expect((await bytesOf(get)).equals(layer)).toBe(true);

    // The wrong size in a descriptor finds nothing (the CAS keys by digest and size).
    const wrong = Buffer.from(
      manifest.toString().replace(`"size":${layer.length}`, `"size":${layer.length + 1}`),
    );
    const fresh = randomBytes(100);
    await s.cache!.writeBlob({ digest: sha256(fresh) as Digest, size: fresh.length }, fresh);
    const bad = Buffer.from(wrong.toString().replaceAll(layerDigest, sha256(fresh)));
    // BuildGrid's FindMissingBlobs looks at the hash alone, so the registry checks the size itself.
    const res = await putManifest(s.base, 'cas/built', 'bad', bad);
    expect([res.status, await errorCode(res)]).toEqual([400, 'MANIFEST_BLOB_UNKNOWN']);
    const short = Buffer.from(
      bad.toString().replace(`"size":${layer.length + 1}`, `"size":${fresh.length - 1}`),
    );
    const res2 = await putManifest(s.base, 'cas/built', 'short', short);
    expect([res2.status, await errorCode(res2)]).toEqual([400, 'MANIFEST_BLOB_UNKNOWN']);
  });

  it('a large layer claimed shorter than it is: the first pull aborts, and the store forgets that size', async () => {
    const layer = randomBytes(5 * 1024 * 1024);
    const digest = sha256(layer);
    await s.cache!.writeBlob({ digest: digest as Digest, size: layer.length }, layer);
    const manifestFor = (size: number) =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { ...config, mediaType: 'application/vnd.oci.image.config.v1+json' },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size }],
        }),
      );
    const config = await pushBlob(s.base, 'cas/short', '{"architecture":"amd64","os":"linux"}');
    // BuildGrid answers for the hash alone and has a byte at the claimed end: the push is accepted.
    expect((await putManifest(s.base, 'cas/short', 'short', manifestFor(layer.length - 10))).status).toBe(
      201,
    );
    const pull = await fetch(`${s.base}/v2/cas/short/blobs/${digest}`);
    expect(pull.headers.get('content-length')).toBe(String(layer.length - 10));
    await expect(pull.arrayBuffer()).rejects.toThrow(); // never a complete-looking wrong body
    await new Promise((r) => setTimeout(r, 100));
    // The wrong size is forgotten: the right one is learned from the next push.
    expect((await putManifest(s.base, 'cas/short', 'right', manifestFor(layer.length))).status).toBe(201);
    expect((await bytesOf(await fetch(`${s.base}/v2/cas/short/blobs/${digest}`))).equals(layer)).toBe(true);
  });

  it('a blob BuildGrid lost is BLOB_UNKNOWN (HEAD, GET, manifest push) until it is pushed again', async () => {
    const img = await pushImageBlobs(s.base, 'cas/lost', ['layer that goes', 'layer that stays']);
    expect((await putManifest(s.base, 'cas/lost', 'v1', img.manifest)).status).toBe(201);
    const gone = img.layers[0]!;
    await rm(s.buildGrid!.blobPath(hex(gone.digest)));

    const head = await fetch(`${s.base}/v2/cas/lost/blobs/${gone.digest}`, { method: 'HEAD' });
    expect(head.status).toBe(404);
    const get = await fetch(`${s.base}/v2/cas/lost/blobs/${gone.digest}`);
    expect([get.status, get.headers.get('content-type'), await errorCode(get)]).toEqual([
      404,
      'application/json',
      'BLOB_UNKNOWN',
    ]);
    expect(await (await fetch(`${s.base}/v2/cas/lost/blobs/${img.layers[1]!.digest}`)).text()).toBe(
      'layer that stays',
    );
    const again = await putManifest(s.base, 'cas/lost', 'v2', img.manifest);
    expect([again.status, await errorCode(again)]).toEqual([400, 'MANIFEST_BLOB_UNKNOWN']);
    // The tag still resolves: manifests live in the registry's storage, not in the CAS.
    expect((await fetch(`${s.base}/v2/cas/lost/manifests/v1`)).status).toBe(200);

    await pushBlob(s.base, 'cas/lost', 'layer that goes');
    expect(await (await fetch(`${s.base}/v2/cas/lost/blobs/${gone.digest}`)).text()).toBe('layer that goes');
  });

  it('open() of a blob lost after stat() fails with BLOB_NOT_FOUND itself, never as a broken stream', async () => {
    const store = new CasBlobStore(s.cache!, { root: join(s.storage.path, 'cas') });
    for (const size of [2000, 5 * 1024 * 1024]) {
      const data = randomBytes(size);
      const { digest } = await pushBlob(s.base, 'cas/race', data);
      const d = parseBlobDigest(digest)!;
      expect(await store.stat(d)).toEqual({ size });
      await rm(s.buildGrid!.blobPath(d.hex));
      await expect(store.open(d)).rejects.toMatchObject({ code: 'IMG_CASREG_BLOB_NOT_FOUND' });
      await expect(store.open(d, { offset: 1, length: 10 })).rejects.toMatchObject({
        code: 'IMG_CASREG_BLOB_NOT_FOUND',
      });
      expect(await store.stat(d)).toBeUndefined();
    }
  });

  it('bytes that do not match the digest are refused, and the CAS holds neither digest', async () => {
    for (const size of [100, 5 * 1024 * 1024]) {
      const data = randomBytes(size);
      const claimed = sha256(randomBytes(size));
      const res = await fetch(`${s.base}/v2/cas/bad/blobs/uploads/?digest=${claimed}`, {
        method: 'POST',
        body: data,
      });
      expect([res.status, await errorCode(res)]).toEqual([400, 'DIGEST_INVALID']);
      expect(existsSync(s.buildGrid!.blobPath(hex(claimed)))).toBe(false);
      expect(existsSync(s.buildGrid!.blobPath(hex(sha256(data))))).toBe(false);
    }
  });

  it('garbage collection forgets unreferenced blobs (their records); the CAS keeps the bytes', async () => {
    const gc = await startTestServer({
      store: 'cas',
      buildGrid: s.buildGrid!,
      ttlMs: 60_000,
      gcIntervalMs: 0,
    });
    const img = await pushImageBlobs(gc.base, 'cas/gc', ['kept layer']);
    expect((await putManifest(gc.base, 'cas/gc', 'v1', img.manifest)).status).toBe(201);
    const loose = await pushBlob(gc.base, 'cas/gc', 'nobody names me');
    await gc.server.collectGarbage(); // starts the clock of what nothing references
    const report = await gc.server.collectGarbage(Date.now() + 120_000);
    expect(report).toMatchObject({ blobsDeleted: 1, blobLinksDeleted: 1, manifestsDeleted: 0 });
    expect((await fetch(`${gc.base}/v2/cas/gc/blobs/${loose.digest}`)).status).toBe(404);
    expect(existsSync(s.buildGrid!.blobPath(hex(loose.digest)))).toBe(true);
    expect(await (await fetch(`${gc.base}/v2/cas/gc/blobs/${img.layers[0]!.digest}`)).text()).toBe(
      'kept layer',
    );
  });

  it('a cache that cannot be reached fails start-up naming it, and later requests with 503 UNAVAILABLE', async () => {
    const port = await freePort();
    const dead = connectRemoteCache(`grpc://127.0.0.1:${port}`, { retry: FAST_RETRY, timeoutMs: 2000 });
    const storage = join(s.storage.path, 'dead');
    await expect(
      startRegistryServer({ storage, blobStore: new CasBlobStore(dead, { root: join(storage, 'cas') }) }),
    ).rejects.toMatchObject({
      code: 'IMG_CASREG_UNAVAILABLE',
      message: expect.stringContaining(`127.0.0.1:${port}`),
    });
    dead.close();

    const bg = await startBuildGrid({ instanceNames: [''] });
    const own = await startTestServer({ store: 'cas', buildGrid: bg });
    try {
      const { digest } = await pushBlob(own.base, 'cas/down', 'served while the cache is up');
      await bg.stop();
      const res = await fetch(`${own.base}/v2/cas/down/blobs/${digest}`);
      expect([res.status, res.headers.get('retry-after'), await errorCode(res)]).toEqual([
        503,
        '5',
        'UNAVAILABLE',
      ]);
    } finally {
      await bg.stop().catch(() => {});
    }
  });
});
