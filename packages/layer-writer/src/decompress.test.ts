// Decompressors on hostile streams: back-pressure inside a chunk, window and size caps, and the zstd
// scanner that slices input for fzstd (Node 20) giving the same bytes as the zstd CLI.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { zstdZeroBomb } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { createDecompressionLimit, createDecompressor } from './decompress.js';
import { LayerError } from './errors.js';
import { toolAvailable } from './test-helpers.js';

const MiB = 1024 * 1024;

async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Write `input` in pieces of `chunk` bytes into a fresh decompressor and collect its output. */
async function decompress(format: 'gzip' | 'zstd', input: Buffer, chunk = 64 * 1024): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunk) pieces.push(input.subarray(i, i + chunk));
  const d = createDecompressor(format);
  const out = drain(d);
  await pipeline(Readable.from(pieces), d).catch(() => {});
  return await out;
}

describe('back-pressure inside one chunk', () => {
  for (const format of ['zstd', 'gzip'] as const) {
    it(`${format}: a small chunk that inflates to ${format === 'zstd' ? 512 : 64} MiB is produced only as fast as it is read`, async () => {
      const bomb =
        format === 'zstd' ? zstdZeroBomb(new Uint8Array(0), 512 * MiB) : gzipSync(Buffer.alloc(64 * MiB));
      const d = createDecompressor(format);
      d.write(bomb);
      await new Promise((r) => setTimeout(r, 200));
      // Nobody reads: only a bounded amount may wait in the readable buffer.
      expect(d.readableLength).toBeLessThan(4 * MiB);
      let total = 0;
      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      d.end();
      for await (const part of d) {
        total += (part as Buffer).length;
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      }
      expect(total).toBe(format === 'zstd' ? 512 * MiB : 64 * MiB);
      expect(rssPeak - rssBefore).toBeLessThan(100 * MiB);
    });
  }
});

describe('caps', () => {
  it('refuses a zstd frame whose window is above maxZstdWindowSize, before allocating it', async () => {
    const frame = zstdZeroBomb(new Uint8Array(0), MiB, 28);
    const d = createDecompressor('zstd', { where: 'w.zst' });
    const err = await drain(Readable.from([frame]).pipe(d)).catch((e: unknown) => e);
    if (err instanceof LayerError) {
      expect(err.code).toBe('IMG_LAYER_LIMIT_EXCEEDED');
      expect(err.message).toMatch(/w\.zst: zstd frame at offset 0: window of 268435456 bytes/);
    } else {
      // Node's own zstd: refused by its windowLogMax, mapped to the cap by openTarStream.
      expect((err as NodeJS.ErrnoException).code).toBe('ZSTD_error_frameParameter_windowTooLarge');
    }
    const ok = await drain(
      Readable.from([frame]).pipe(createDecompressor('zstd', { maxZstdWindowSize: 2 ** 28 })),
    );
    expect(ok.length).toBe(MiB);
  });

  it('createDecompressionLimit: ratio above the floor, absolute size, a clear message', async () => {
    const zeros = Buffer.alloc(MiB);
    const data = Readable.from(
      (function* () {
        for (let i = 0; i < 300; i++) yield zeros;
      })(),
    );
    const byRatio = createDecompressionLimit({ compressedSize: 1000, where: 'f.gz' });
    const err = (await drain(data.pipe(byRatio)).catch((e: unknown) => e)) as LayerError;
    expect(err.code).toBe('IMG_LAYER_LIMIT_EXCEEDED');
    expect(err.message).toMatch(
      /^f\.gz: decompresses to more than 268435456 bytes, over 2048 times its 1000 compressed bytes \(raise with the maxDecompressionRatio option or --limit decompression-ratio=N\)$/,
    );
    const bySize = createDecompressionLimit({ maxDecompressedSize: 10, where: 'g.zst' });
    const err2 = (await drain(Readable.from([Buffer.alloc(11)]).pipe(bySize)).catch(
      (e: unknown) => e,
    )) as LayerError;
    expect(err2.message).toMatch(/g\.zst: decompresses to more than 10 bytes.*decompressed-size/);
    const fine = createDecompressionLimit({ compressedSize: 1000 });
    expect((await drain(Readable.from([Buffer.alloc(MiB)]).pipe(fine))).length).toBe(MiB);
  });
});

describe.runIf(toolAvailable('zstd'))('zstd streams sliced for the decoder', () => {
  it('multi-frame, checksummed, skippable and raw-block streams decode as the zstd CLI does, in any chunking', async () => {
    const text = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `line ${i % 977} of ${i}\n`).join(''));
    const noise = Buffer.alloc(300_000);
    for (let i = 0, x = 7; i < noise.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      noise[i] = x >>> 24;
    }
    const a = execFileSync('zstd', ['-q', '-3', '-c'], { input: text });
    const b = execFileSync('zstd', ['-q', '-19', '--no-check', '-c'], { input: noise });
    const skippable = Buffer.concat([
      Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 5, 0, 0, 0]),
      Buffer.from('hello'),
    ]);
    const empty = execFileSync('zstd', ['-q', '-c'], { input: Buffer.alloc(0) });
    const stream = Buffer.concat([a, skippable, empty, b, skippable]);
    const expected = Buffer.concat([text, noise]);
    expect(execFileSync('zstd', ['-dc'], { input: stream }).equals(expected)).toBe(true);
    for (const chunk of [1 << 20, 4096, 7]) {
      expect((await decompress('zstd', stream, chunk)).equals(expected), `chunk ${chunk}`).toBe(true);
    }
    const small = Buffer.concat([
      skippable,
      execFileSync('zstd', ['-q', '-c'], { input: text.subarray(0, 3000) }),
      empty,
    ]);
    expect((await decompress('zstd', small, 1)).equals(text.subarray(0, 3000))).toBe(true);
  });

  it('a truncated zstd stream is an error, not a silent short read', async () => {
    const full = execFileSync('zstd', ['-q', '-c'], { input: Buffer.alloc(MiB, 0x61) });
    const d = createDecompressor('zstd');
    const result = drain(d).catch((e: unknown) => e);
    d.end(full.subarray(0, full.length - 3));
    await once(d, 'close').catch(() => {});
    expect(await result).toBeInstanceOf(Error);
  });
});
