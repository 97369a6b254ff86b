import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createCompressor, withUnixGzipHeader } from './compress.js';
import { compressWorkers, FREE_BUFFER_BYTES, sharedBuffers } from './compress-workers.js';
import { crc32Combine } from './crc32-combine.js';
import { GZIP_BLOCK_MEM_LEVEL, GZIP_BLOCK_SIZE, GzipBlocks, gzipHeader } from './gzip-blocks.js';
import { perTestCleanup, run, sha256Bytes, sha256File, toolAvailable } from './test-helpers.js';
import { writeLayerToFile } from './write-layer.js';
import { ZstdFrames } from './zstd-frames.js';

const hasGzip = toolAvailable('gzip');
const { tmp } = perTestCleanup();

/** Deterministic data with text-like and incompressible stretches (so blocks differ in ratio). */
function mixed(size: number, seed = 1): Buffer {
  const words = ['import', 'from', 'const', 'layer', '{', '}', '\n', 'return', 'sha256', '  ', 'usr/lib'];
  const b = Buffer.alloc(size);
  let x = seed;
  let o = 0;
  while (o < size) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    if ((x >>> 20) % 17 === 0) {
      for (let i = 0; i < 2000 && o < size; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        b[o++] = x >>> 24;
      }
    } else {
      o += b.write(`${words[(x >>> 16) % words.length]} `, o);
    }
  }
  return b;
}

async function compress(
  input: Buffer,
  chunkSize: number,
  transform: NodeJS.ReadWriteStream,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunkSize) parts.push(input.subarray(i, i + chunkSize));
  const src = Readable.from(parts);
  src.pipe(transform as unknown as NodeJS.WritableStream);
  const out: Buffer[] = [];
  for await (const c of transform as unknown as AsyncIterable<Buffer>) out.push(c);
  return Buffer.concat(out);
}

/** The gzip member's parts; asserts there is exactly one deflate stream that ends at the trailer. */
function oneMember(gz: Buffer, input: Buffer): void {
  expect(gz.subarray(0, 3)).toEqual(Buffer.from([0x1f, 0x8b, 8]));
  // inflateRaw stops at the first final block: getting the whole input back means one stream
  expect(zlib.inflateRawSync(gz.subarray(10, gz.length - 8)).equals(input)).toBe(true);
  expect(gz.readUInt32LE(gz.length - 8)).toBe(zlib.crc32(input));
  expect(gz.readUInt32LE(gz.length - 4)).toBe(input.length % 2 ** 32);
}

describe('crc32Combine', () => {
  it('gives the CRC-32 of a concatenation from the parts, for any split', () => {
    const data = mixed(300_000, 7);
    for (const cut of [0, 1, 31, 4096, 65_537, 299_999, 300_000]) {
      const a = data.subarray(0, cut);
      const b = data.subarray(cut);
      expect(crc32Combine(zlib.crc32(a), zlib.crc32(b), b.length)).toBe(zlib.crc32(data));
    }
  });
});

describe('gzip block mode', () => {
  it('gives the same bytes for 1, 2 and 4 jobs and any input chunking, as one valid gzip member', async () => {
    const input = mixed(3 * GZIP_BLOCK_SIZE + 12_345);
    const one = await compress(input, GZIP_BLOCK_SIZE, createCompressor({ format: 'gzip', jobs: 1 }));
    const two = await compress(input, 7919, createCompressor({ format: 'gzip', jobs: 2 }));
    const four = await compress(input, 3 * GZIP_BLOCK_SIZE, createCompressor({ format: 'gzip', jobs: 4 }));
    expect(sha256Bytes(two)).toBe(sha256Bytes(one));
    expect(sha256Bytes(four)).toBe(sha256Bytes(one));
    oneMember(one, input);
    // 4 blocks deflated separately: the classic single stream is a different (equally valid) encoding
    const classic = await compress(input, GZIP_BLOCK_SIZE, createCompressor({ format: 'gzip' }));
    expect(classic.equals(one)).toBe(false);
    // priming each block with the previous block's tail keeps the size close to the single stream
    expect(one.length).toBeLessThan(classic.length * 1.01);
  });

  it('is the documented format: zlib memLevel 9, each block primed with the 32 KiB before it, sync-flushed', async () => {
    const blockSize = 65_536;
    const input = mixed(3 * blockSize + 4321, 9);
    for (const level of [1, 6]) {
      const parts = [gzipHeader(level)];
      for (let off = 0; off < input.length; off += blockSize) {
        const end = Math.min(off + blockSize, input.length);
        const last = end === input.length;
        parts.push(
          zlib.deflateRawSync(input.subarray(off, end), {
            level,
            memLevel: GZIP_BLOCK_MEM_LEVEL,
            finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
            ...(off > 0 ? { dictionary: input.subarray(off - 32_768, off) } : {}),
          }),
        );
      }
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(zlib.crc32(input), 0);
      trailer.writeUInt32LE(input.length, 4);
      parts.push(trailer);
      const gz = await compress(input, 10_000, new GzipBlocks(level, 2, blockSize));
      expect(gz.equals(Buffer.concat(parts))).toBe(true);
    }
    expect(GZIP_BLOCK_MEM_LEVEL).toBe(9);
  });

  it('writes the single-stream header bytes, and handles every level, tiny blocks and edge sizes', async () => {
    for (const level of [0, 1, 2, 6, 9]) {
      const classic = await compress(Buffer.from('x'), 1, createCompressor({ format: 'gzip', level }));
      expect(gzipHeader(level)).toEqual(classic.subarray(0, 10));
      const input = mixed(200_000, level + 3);
      const a = await compress(input, 1000, new GzipBlocks(level, 3, 16_384));
      const b = await compress(input, 50_000, new GzipBlocks(level, 1, 16_384));
      expect(a.equals(b)).toBe(true);
      expect(a.subarray(0, 10)).toEqual(gzipHeader(level));
      oneMember(a, input);
    }
    for (const size of [0, 1, 65_536, 65_537, 4 * 65_536]) {
      const input = mixed(size, 5);
      const gz = await compress(input, 4096, new GzipBlocks(6, 2, 65_536));
      oneMember(gz, input);
      expect(zlib.gunzipSync(gz).equals(input)).toBe(true);
    }
  });

  it.skipIf(!hasGzip)('is accepted by GNU gzip (-t, -dc)', async () => {
    const dir = tmp();
    const input = mixed(2 * GZIP_BLOCK_SIZE + 999, 11);
    const gz = await compress(input, 65_536, createCompressor({ format: 'gzip', level: 6, jobs: 2 }));
    writeFileSync(join(dir, 'x.gz'), gz);
    run('gzip', ['-t', join(dir, 'x.gz')]);
    expect(run('gzip', ['-dc', join(dir, 'x.gz')]).equals(input)).toBe(true);
  });

  it('respects back-pressure: with nobody reading, only a few blocks are taken from the source', async () => {
    let pulled = 0;
    // incompressible: each block's output fills the readable buffer (back-pressure counts output bytes)
    const source = new Readable({
      read() {
        pulled += 16_384;
        this.push(pulled > 256 * 65_536 ? null : randomBytes(16_384));
      },
    });
    const gz = new GzipBlocks(1, 2, 65_536);
    source.pipe(gz);
    await new Promise((r) => setTimeout(r, 500));
    // 2 x jobs blocks in flight, one filling, one held, plus stream buffers; never the whole 16 MiB
    expect(pulled).toBeGreaterThan(65_536);
    expect(pulled).toBeLessThan(12 * 65_536);
    source.unpipe(gz);
    source.destroy();
    gz.destroy();
  });

  it('uses at most `jobs` worker threads per stream', async () => {
    const input = mixed(8 * 65_536, 2);
    await compress(input, 65_536, new GzipBlocks(6, 1, 65_536));
    expect(compressWorkers().size).toBeGreaterThanOrEqual(1);
    const before = compressWorkers().size;
    await compress(input, 65_536, new GzipBlocks(6, 1, 65_536));
    expect(compressWorkers().size).toBe(before);
  });

  it('rejects bad job counts and block sizes, naming the option', () => {
    for (const jobs of [0, -1, 1.5, 257, 'abc', '2']) {
      expect(() => createCompressor({ format: 'gzip', jobs: jobs as number })).toThrow(
        expect.objectContaining({
          code: 'IMG_LAYER_INVALID_OPTION',
          message: expect.stringMatching(/^jobs: /),
        }),
      );
    }
    expect(() => createCompressor({ format: 'gzip', jobs: 2, gzipBlockSize: 100 })).toThrow(/gzipBlockSize/);
    expect(createCompressor({ format: 'gzip', jobs: 'nproc' })).toBeInstanceOf(GzipBlocks);
  });

  it('single-stream mode: the OS-byte patch leaves Unix output unchanged', async () => {
    const input = mixed(300_000, 9);
    const plain = zlib.gzipSync(input, { level: 6, chunkSize: 256 * 1024 });
    const patched = await compress(
      input,
      300_000,
      withUnixGzipHeader(zlib.createGzip({ level: 6, chunkSize: 256 * 1024 }), true),
    );
    expect(patched[9]).toBe(3);
    expect(patched.equals(plain)).toBe(plain[9] === 3);
  });
});

/** Runs `fn` while counting the worker jobs outstanding at once; returns its result and the peak. */
async function peakJobs<T>(fn: () => Promise<T>): Promise<{ result: T; peak: number }> {
  const pool = compressWorkers();
  const run = pool.run;
  let now = 0;
  let peak = 0;
  pool.run = (...args: Parameters<typeof run>) => {
    peak = Math.max(peak, ++now);
    return run.apply(pool, args).finally(() => now--);
  };
  try {
    return { result: await fn(), peak };
  } finally {
    pool.run = run;
  }
}

describe('memory in flight', () => {
  it('a byte budget bounds the gzip blocks and zstd frames in flight, never the bytes', async () => {
    const input = mixed(24 * 65_536, 5);
    const gzip = (inFlightBytes?: number) =>
      peakJobs(() => compress(input, 100_000, new GzipBlocks(6, 4, 65_536, { inFlightBytes })));
    const unbounded = await gzip();
    expect(unbounded.peak).toBeGreaterThan(2); // 2 x jobs by count alone
    const none = await gzip(0);
    expect(none.peak).toBe(1); // at least one block, never more
    // one block's buffer: 32 KiB dictionary space + the block; three of them fit
    const three = await gzip(3 * (32_768 + 65_536));
    expect(three.peak).toBeLessThanOrEqual(3);
    expect(none.result.equals(unbounded.result) && three.result.equals(unbounded.result)).toBe(true);
    oneMember(none.result, input);

    const zstd = (inFlightBytes?: number) =>
      peakJobs(() => compress(input, 100_000, new ZstdFrames(3, 65_536, 4, { inFlightBytes })));
    const z4 = await zstd();
    const z0 = await zstd(0);
    expect(z4.peak).toBeGreaterThan(1);
    expect(z0.peak).toBe(1);
    expect(z0.result.equals(z4.result)).toBe(true);
  });

  it('keeps at most FREE_BUFFER_BYTES of free shared buffers, and reuses them', () => {
    const size = 8 * 1024 * 1024;
    const bufs = Array.from({ length: 10 }, () => sharedBuffers.acquire(size));
    for (const b of bufs) sharedBuffers.release(b);
    expect(sharedBuffers.freeBytes).toBeLessThanOrEqual(FREE_BUFFER_BYTES);
    expect(sharedBuffers.freeBytes).toBeGreaterThanOrEqual(FREE_BUFFER_BYTES - size);
    const again = sharedBuffers.acquire(size);
    expect(bufs.some((b) => b.buffer === again.buffer)).toBe(true);
    sharedBuffers.release(again);
  });

  it('reuses rounded buffers across sizes (eStargz members): exact sizes from 1 MiB up never match', () => {
    const MiB = 1024 * 1024;
    const first = sharedBuffers.acquire(MiB + 123_457, 'rounded');
    expect(first.length).toBe(MiB + 123_457);
    expect(first.buffer.byteLength).toBe(2 * MiB);
    sharedBuffers.release(first);
    const second = sharedBuffers.acquire(2 * MiB - 99, 'rounded');
    expect(second.buffer).toBe(first.buffer);
    expect(second.length).toBe(2 * MiB - 99);
    const third = sharedBuffers.acquire(MiB + 5, 'rounded');
    expect(third.buffer).not.toBe(first.buffer); // lent: never handed out twice
    sharedBuffers.release(second);
    sharedBuffers.release(third);
    const exact = sharedBuffers.acquire(MiB + 123_457);
    expect(exact.buffer.byteLength).toBe(MiB + 123_457);
    sharedBuffers.release(exact);
  });
});

describe('writeLayerToFile with compressorJobs', () => {
  function tree(): string {
    const src = join(tmp(), 'src');
    mkdirSync(join(src, 'a'), { recursive: true });
    writeFileSync(join(src, 'a', 'big.txt'), mixed(2 * GZIP_BLOCK_SIZE + 300_000, 3));
    writeFileSync(join(src, 'a', 'small.txt'), 'hello\n');
    writeFileSync(join(src, 'blob.bin'), mixed(700_000, 4));
    return src;
  }

  it('gzip: the same digest for jobs 1, 2, 4 and nproc; diff_id unchanged; gzip -dc gives the tar', async () => {
    const src = tree();
    const dir = tmp();
    const spec = { entries: [{ type: 'directory' as const, path: '/', source: src }] };
    const classic = await writeLayerToFile(spec, join(dir, 'classic.tgz'));
    const metas = [];
    for (const jobs of [1, 2, 4, 'nproc'] as const) {
      metas.push(await writeLayerToFile(spec, join(dir, `j${jobs}.tgz`), { compressorJobs: jobs }));
    }
    for (const m of metas) {
      expect(m.digest).toBe(metas[0]!.digest);
      expect(m.diff_id).toBe(classic.diff_id);
      expect(m.uncompressed_size).toBe(classic.uncompressed_size);
    }
    expect(metas[0]!.digest).toBe(sha256File(join(dir, 'j1.tgz')));
    expect(metas[0]!.digest).not.toBe(classic.digest);
    if (!hasGzip) return;
    run('gzip', ['-t', join(dir, 'j2.tgz')]);
    expect(sha256Bytes(run('gzip', ['-dc', join(dir, 'j4.tgz')]))).toBe(classic.diff_id);
  });

  it('zstd: the same bytes whatever the job count', async () => {
    const src = tree();
    const dir = tmp();
    const spec = { entries: [{ type: 'directory' as const, path: '/', source: src }] };
    const base = await writeLayerToFile(spec, join(dir, 'd.tzst'), { compression: 'zstd' });
    for (const jobs of [1, 3]) {
      const m = await writeLayerToFile(spec, join(dir, `j${jobs}.tzst`), {
        compression: 'zstd',
        compressorJobs: jobs,
      });
      expect(m.digest).toBe(base.digest);
    }
  });

  it('rejects a bad compressorJobs, naming it, and leaves no file', async () => {
    const dir = tmp();
    for (const bad of [0, 'abc', 2.5]) {
      await expect(
        writeLayerToFile({ entries: [] }, join(dir, 'x'), { compressorJobs: bad as number }),
      ).rejects.toThrow(/compressorJobs: expected an integer from 1 to 256 or "nproc"/);
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
