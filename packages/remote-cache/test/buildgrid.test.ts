import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { ciRequires, startBuildGrid, type TestBuildGrid } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { casBlobSource, connectRemoteCache, type RemoteCache } from '../src/index.js';
import { randomBlob, recordRpcs } from './helpers.js';
import { startCuttingProxy } from './tcp-proxy.js';

const needs = ciRequires('bgd');
/** BuildGrid 0.4.4's max_batch_total_size_bytes. */
const BUILDGRID_BATCH_LIMIT = 4 * 1024 * 1024 - 1024;
const FAST_RETRY = { attempts: 3, initialDelayMs: 10, maxDelayMs: 50 };

/** Reads a stream to its end; resolves the bytes, or rejects with the error and how many bytes came first. */
async function drain(stream: Readable): Promise<Buffer> {
  return buffer(stream);
}

describe.skipIf(needs.skip)('against a real BuildGrid', () => {
  let bg: TestBuildGrid;
  let cache: RemoteCache;
  const rpcs = recordRpcs();

  beforeAll(async () => {
    bg = await startBuildGrid();
    cache = connectRemoteCache(bg.endpoint, { retry: FAST_RETRY });
  });
  afterAll(async () => {
    cache?.close();
    await bg?.stop();
  });

  it('reads the capabilities: sha256 and the batch limit', async () => {
    const caps = await cache.capabilities();
    expect(caps.digestFunctions).toContain('SHA256');
    expect(caps.maxBatchTotalSizeBytes).toBe(BUILDGRID_BATCH_LIMIT);
    expect(caps.batchLimitBytes).toBe(BUILDGRID_BATCH_LIMIT);
  });

  it('reports missing blobs, then none once written; each blob asked once', async () => {
    const a = randomBlob(100);
    const b = randomBlob(5 * 1024 * 1024);
    expect(await cache.findMissingBlobs([a, b, a])).toEqual([a, b]);
    await cache.writeBlob(a, a.data);
    expect(await cache.findMissingBlobs([a, b])).toEqual([b]);
    await cache.writeBlob(b, b.data);
    expect(await cache.findMissingBlobs([b, a])).toEqual([]);
    expect(rpcs.methods().filter((m) => m === 'cas.FindMissingBlobs')).toHaveLength(3);
  });

  it('batches blobs that fit the server limit and streams the ones that do not', async () => {
    const fits = randomBlob(BUILDGRID_BATCH_LIMIT - 128 - 64);
    const over = randomBlob(BUILDGRID_BATCH_LIMIT - 128 - 64 + 1);
    await cache.writeBlob(fits, fits.data);
    expect(rpcs.methods()).toEqual(['cas.BatchUpdateBlobs']);
    await cache.writeBlob(over, over.data);
    expect(rpcs.methods().slice(1)).toEqual(['bytestream.Write']);
    rpcs.events.length = 0;
    expect((await cache.readBlob(fits)).equals(fits.data)).toBe(true);
    expect((await drain(await cache.openBlob(over))).equals(over.data)).toBe(true);
    expect(rpcs.methods()).toEqual(['cas.BatchReadBlobs', 'bytestream.Read']);
  });

  it('a named instance is its own CAS; an unknown one is refused, naming it', async () => {
    const main = connectRemoteCache(bg.endpoint, { instanceName: 'main', retry: FAST_RETRY });
    try {
      const small = randomBlob(10);
      const large = randomBlob(5 * 1024 * 1024);
      await main.writeBlob(small, small.data);
      await main.writeBlob(large, large.data);
      expect(await main.findMissingBlobs([small, large])).toEqual([]);
      expect(await cache.findMissingBlobs([small, large])).toEqual([small, large]);
      expect((await drain(await main.openBlob(large))).equals(large.data)).toBe(true);
      expect(readFileSync(bg.blobPath(large.digest.slice(7), 'main')).equals(large.data)).toBe(true);
    } finally {
      main.close();
    }
    const other = connectRemoteCache(bg.endpoint, { instanceName: 'nope', retry: FAST_RETRY });
    try {
      await expect(other.capabilities()).rejects.toMatchObject({
        code: 'IMG_REMOTE_CACHE_RPC',
        message: expect.stringMatching(
          /asking capabilities at grpc:\/\/127\.0\.0\.1:\d+: INVALID_ARGUMENT: .*nope/,
        ),
      });
    } finally {
      other.close();
    }
  });

  it('reports a missing blob as NOT_FOUND, naming it, without retrying (batch and ByteStream)', async () => {
    const small = randomBlob(10);
    const large = randomBlob(5 * 1024 * 1024);
    const err = await cache.readBlob(small).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'IMG_REMOTE_CACHE_NOT_FOUND', name: 'RemoteCacheError', grpcCode: 5 });
    expect((err as Error).message).toContain(`reading ${small.digest} at ${bg.endpoint}: not found`);
    const stream = await cache.openBlob(large);
    await expect(drain(stream)).rejects.toMatchObject({
      code: 'IMG_REMOTE_CACHE_NOT_FOUND',
      message: expect.stringContaining(`reading ${large.digest} at offset 0 at ${bg.endpoint}: not found`),
    });
    expect(rpcs.methods().filter((m) => m !== 'capabilities.GetCapabilities')).toEqual([
      'cas.BatchReadBlobs',
      'bytestream.Read',
    ]);
  });

  it('refuses a blob whose size does not match, though the server returns it (batch and ByteStream)', async () => {
    const small = randomBlob(1000);
    await cache.writeBlob(small, small.data);
    await expect(cache.readBlob({ digest: small.digest, size: small.size - 1 })).rejects.toMatchObject({
      code: 'IMG_SIZE_MISMATCH',
      message: expect.stringContaining(`${small.digest} from ${bg.endpoint}: expected 999 bytes, got 1000`),
    });
    const large = randomBlob(6 * 1024 * 1024);
    await cache.writeBlob(large, large.data);
    // Longer than the blob: BuildGrid sends all it has, then DATA_LOSS (a server ending cleanly there
    // gets IMG_SIZE_MISMATCH).
    const longer = await drain(await cache.openBlob({ digest: large.digest, size: large.size + 4096 })).catch(
      (e: unknown) => e,
    );
    expect(longer).toMatchObject({
      code: 'IMG_REMOTE_CACHE_RPC',
      grpcCode: 15,
      message: expect.stringContaining(`reading ${large.digest} at offset ${large.size}`),
    });
    // Shorter than the blob: BuildGrid sends the whole blob; the stream fails before its end.
    let delivered = 0;
    const shorter = await cache.openBlob({ digest: large.digest, size: large.size - 4096 });
    shorter.on('data', (c: Buffer) => {
      delivered += c.length;
    });
    const failure = await new Promise((res, rej) => shorter.on('end', res).on('error', rej)).catch(
      (e: unknown) => e,
    );
    expect(failure).toMatchObject({ code: expect.stringMatching(/^IMG_(SIZE|DIGEST)_MISMATCH$/) });
    expect(delivered).toBeLessThanOrEqual(large.size - 4096);
  });

  it('refuses a blob corrupted in the disk storage before its stream ends (batch and ByteStream)', async () => {
    const small = randomBlob(1000);
    const large = randomBlob(6 * 1024 * 1024);
    for (const b of [small, large]) {
      await cache.writeBlob(b, b.data);
      const corrupt = Buffer.from(b.data);
      corrupt[corrupt.length >> 1] ^= 0xff;
      await writeFile(bg.blobPath(b.digest.slice(7)), corrupt);
    }
    await expect(cache.readBlob(small)).rejects.toMatchObject({ code: 'IMG_DIGEST_MISMATCH' });
    const stream = await cache.openBlob(large);
    let ended = false;
    stream.on('end', () => {
      ended = true;
    });
    await expect(drain(stream)).rejects.toMatchObject({
      code: 'IMG_DIGEST_MISMATCH',
      message: expect.stringContaining(`${large.digest} from ${bg.endpoint}: digest mismatch`),
    });
    expect(ended).toBe(false);
  });

  it('an evicted blob is missing again, and reading it fails with NOT_FOUND', async () => {
    const b = randomBlob(2000);
    await cache.writeBlob(b, b.data);
    await rm(bg.blobPath(b.digest.slice(7)));
    expect(await cache.findMissingBlobs([b])).toEqual([b]);
    await expect(cache.readBlob(b)).rejects.toMatchObject({ code: 'IMG_REMOTE_CACHE_NOT_FOUND' });
  });

  it('refuses to upload bytes that do not match the digest, and commits nothing', async () => {
    const b = randomBlob(5 * 1024 * 1024);
    const wrong = Buffer.from(b.data);
    wrong[10] ^= 1;
    const source = { open: async () => (await import('node:stream')).Readable.from([wrong]) };
    await expect(cache.writeBlob(b, source)).rejects.toMatchObject({ code: 'IMG_DIGEST_MISMATCH' });
    expect(await cache.findMissingBlobs([b])).toEqual([b]);
  });

  it("an upload source's own failure is passed on as it is, not retried", async () => {
    const b = randomBlob(5 * 1024 * 1024);
    const { createReadStream } = await import('node:fs');
    const source = { open: async () => createReadStream('/nonexistent/layer.tar.gz') };
    await expect(cache.writeBlob(b, source)).rejects.toMatchObject({
      code: 'ENOENT',
      path: '/nonexistent/layer.tar.gz',
    });
    expect(rpcs.methods().filter((m) => m.startsWith('bytestream.'))).toEqual(['bytestream.Write']);
  });

  it('a ByteStream read cut mid-stream resumes at the offset it reached, with the right bytes', async () => {
    const b = randomBlob(24 * 1024 * 1024);
    await cache.writeBlob(b, b.data);
    const proxy = await startCuttingProxy({ targetPort: bg.port, cutDownstreamAfter: 8 * 1024 * 1024 });
    const viaProxy = connectRemoteCache(`grpc://${proxy.address}`, { retry: FAST_RETRY });
    try {
      const data = await drain(await viaProxy.openBlob(b));
      expect(data.equals(b.data)).toBe(true);
      const reads = rpcs.events.filter((e) => e.method === 'bytestream.Read');
      expect(reads.map((r) => r.offset)).toHaveLength(2);
      expect(reads[0]!.offset).toBe(0);
      expect(reads[1]!.offset).toBeGreaterThan(0);
      expect(reads[1]!.offset).toBeLessThan(b.size);
      expect(proxy.connections()).toBe(2);
    } finally {
      viaProxy.close();
      await proxy.close();
    }
  });

  it('a ByteStream upload cut mid-stream asks QueryWriteStatus, and BuildGrid lacking it, starts over', async () => {
    const b = randomBlob(24 * 1024 * 1024);
    const proxy = await startCuttingProxy({ targetPort: bg.port, cutUpstreamAfter: 8 * 1024 * 1024 });
    const viaProxy = connectRemoteCache(`grpc://${proxy.address}`, { retry: FAST_RETRY });
    try {
      await viaProxy.writeBlob(b, b.data);
      const calls = rpcs.events.filter((e) => e.method.startsWith('bytestream.'));
      // BuildGrid 0.4.4 answers QueryWriteStatus with UNIMPLEMENTED.
      expect(calls.map((e) => e.method)).toEqual([
        'bytestream.Write',
        'bytestream.QueryWriteStatus',
        'bytestream.Write',
      ]);
      expect(calls[2]!.offset).toBe(0);
      expect(calls[2]!.resource).not.toBe(calls[0]!.resource);
      expect(readFileSync(bg.blobPath(b.digest.slice(7))).equals(b.data)).toBe(true);
      expect(proxy.connections()).toBe(2);
    } finally {
      viaProxy.close();
      await proxy.close();
    }
  });

  it('casBlobSource opens the blob afresh each time, from an offset too', async () => {
    const b = randomBlob(5 * 1024 * 1024 + 7);
    await cache.writeBlob(b, b.data);
    const source = casBlobSource(cache, {
      mediaType: 'application/octet-stream',
      digest: b.digest,
      size: b.size,
    });
    expect((await drain(await source.open())).equals(b.data)).toBe(true);
    expect((await drain(await source.open({ offset: 1_000_003 }))).equals(b.data.subarray(1_000_003))).toBe(
      true,
    );
    expect(source.path).toBeUndefined();
  });

  it('openBlobRange reads only the range (read_offset + read_limit), batch and ByteStream', async () => {
    const small = randomBlob(1000);
    const large = randomBlob(9 * 1024 * 1024);
    await cache.writeBlob(small, small.data);
    await cache.writeBlob(large, large.data);
    rpcs.events.length = 0;
    const mid = await drain(await cache.openBlobRange(large, { offset: 5_000_001, length: 1_234_567 }));
    expect(mid.equals(large.data.subarray(5_000_001, 5_000_001 + 1_234_567))).toBe(true);
    const tail = await drain(await cache.openBlobRange(large, { offset: large.size - 10, length: 10 }));
    expect(tail.equals(large.data.subarray(large.size - 10))).toBe(true);
    expect(rpcs.events.filter((e) => e.method === 'bytestream.Read').map((e) => e.offset)).toEqual([
      5_000_001,
      large.size - 10,
    ]);
    const part = await drain(await cache.openBlobRange(small, { offset: 10, length: 20 }));
    expect(part.equals(small.data.subarray(10, 30))).toBe(true);
    expect(await drain(await cache.openBlobRange(large, { offset: 7, length: 0 }))).toHaveLength(0);
    await expect(cache.openBlobRange(large, { offset: large.size - 1, length: 2 })).rejects.toMatchObject({
      code: 'IMG_INVALID_OPTIONS',
    });
  });

  it('a range read cut mid-stream resumes where it stopped and still ends at the range end', async () => {
    const b = randomBlob(24 * 1024 * 1024);
    await cache.writeBlob(b, b.data);
    const proxy = await startCuttingProxy({ targetPort: bg.port, cutDownstreamAfter: 6 * 1024 * 1024 });
    const viaProxy = connectRemoteCache(`grpc://${proxy.address}`, { retry: FAST_RETRY });
    try {
      const offset = 3 * 1024 * 1024 + 5;
      const length = 16 * 1024 * 1024;
      const data = await drain(await viaProxy.openBlobRange(b, { offset, length }));
      expect(data.equals(b.data.subarray(offset, offset + length))).toBe(true);
      const reads = rpcs.events.filter((e) => e.method === 'bytestream.Read');
      expect(reads).toHaveLength(2);
      expect(reads[0]!.offset).toBe(offset);
      expect(reads[1]!.offset).toBeGreaterThan(offset);
      expect(reads[1]!.offset).toBeLessThan(offset + length);
    } finally {
      viaProxy.close();
      await proxy.close();
    }
  });

  it('an aborted read stops with the abort reason', async () => {
    const b = randomBlob(8 * 1024 * 1024);
    await cache.writeBlob(b, b.data);
    const controller = new AbortController();
    const stream = await cache.openBlob(b, { signal: controller.signal });
    controller.abort(new Error('user stopped'));
    await expect(drain(stream)).rejects.toThrow('user stopped');
  });
});
