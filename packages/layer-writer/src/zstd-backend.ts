import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { debuglog } from 'node:util';
import * as zlib from 'node:zlib';
import { compressWorkers, defaultPoolSize, sharedBuffers, type ZstdTask } from './compress-workers.js';

const log = debuglog('img:layer-writer');
const require = createRequire(import.meta.url);

/**
 * Input that writes itself: `fill` writes exactly `length` bytes into `target` (on the calling thread,
 * during the compressor's call), so a large input (a TOC) never exists apart from the buffer a worker
 * compresses it in.
 */
export interface FrameFiller {
  readonly length: number;
  fill(target: Buffer): void;
}

/**
 * Compresses `input` (bytes, pieces of them in order, or a FrameFiller) into one independent zstd
 * frame on a worker thread, using at most `workers` threads (default defaultPoolSize()). `input` is
 * copied before the call returns.
 */
export type ZstdFrameCompressor = (
  input: Uint8Array | readonly Uint8Array[] | FrameFiller,
  level: number,
  workers?: number,
) => Promise<Buffer>;

interface WasmZstd {
  init(): Promise<void>;
  compress(buf: Uint8Array, level?: number): Uint8Array;
}

type NativeZstdCompressSync = (
  buf: Buffer,
  options: { chunkSize: number; params: Record<number, number> },
) => Buffer;

const z = zlib as unknown as {
  zstdCompressSync?: NativeZstdCompressSync;
  constants: Record<string, number>;
};

let wasmPromise: Promise<WasmZstd> | undefined;

function loadWasm(): Promise<WasmZstd> {
  wasmPromise ??= import('@bokuweb/zstd-wasm').then(async (mod) => {
    const m = ((mod as { default?: WasmZstd }).default ?? mod) as WasmZstd;
    await m.init();
    return m;
  });
  return wasmPromise;
}

/** zstd's ZSTD_COMPRESSBOUND: an output buffer this large lets native zstd compress in a single pass. */
export function zstdCompressBound(size: number): number {
  return size + (size >>> 8) + (size < 128 * 1024 ? (128 * 1024 - size) >>> 11 : 0) + 64;
}

function nativeOptions(size: number, level: number) {
  // chunkSize >= compressBound makes Node call ZSTD_compressStream2(ZSTD_e_end) once with room for the
  // whole frame: the same single-pass path as ZSTD_compress (wasm). Smaller chunks change the bytes.
  return {
    chunkSize: zstdOutputSize(size),
    params: { [z.constants.ZSTD_c_compressionLevel!]: level },
  };
}

/** Pseudo-text with some incompressible runs: enough to exercise the match finders at every level. */
export function probeBuffer(): Buffer {
  const words = ['layer', 'image', ' ', 'return', '\n', 'const', '{', '}', 'sha256', '0x7f', 'usr/lib/'];
  const buf = Buffer.alloc(768 * 1024);
  let x = 12345;
  let o = 0;
  while (o < buf.length) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    if ((x >>> 24) % 29 === 0) {
      for (let i = 0; i < 300 && o < buf.length; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        buf[o++] = x >>> 24;
      }
    } else {
      o += buf.write(words[(x >>> 16) % words.length]!, o);
    }
  }
  return buf;
}

/**
 * sha256 of the pinned wasm build's frame of probeBuffer() at each level (a test recomputes them), so the
 * self-check needs no wasm instance where native zstd passes it: that instance costs ~17 MiB of RSS.
 */
export const WASM_PROBE_DIGESTS: Readonly<Record<number, string>> = {
  1: '9d9580b9a84603e5f08498390fe8c62d033bedeef13436aedc9100c474d4c09c',
  2: '749b3c57143f73a29becd9f5b7d6dc340e85156c7ebeef70087d840ef86ab041',
  3: '3eb16975aa5f84fcc9df39c336a86ee806516623b02db80ec5ea8ccf8ca2833e',
  4: '1bcbc81ad8d81a602454af4d66eef4fcab3cdbed598c8fd2a2a40dc89ec7da96',
  5: '743355873e8bdead421781ca487eaaa0941650dc056ea9a1c4c7a9a4b226d83e',
  6: 'e0a1ab1c7627f2ab415331c7f27c27aa0e05c59b09dac7a7c64dcc6269250117',
  7: 'b83e60d24a0744dff8f8b5dc05bc03d29877b6f7345799f930295f01ffbc30e3',
  8: '0dce595d92f9ec868f5ae1dc88e1ecb335676efe6b7abbee65473c20bb052d84',
  9: '537761ae0cfbe67d7d3aeae1d1bb433d8a6a3451437d4b54a6516ce11f16be54',
  10: 'e460453d213ed853845376310efeff88baa1a3e57ee19c8f9c68ddc2e732538b',
  11: 'db9f845dd8194d567720a18f15b13c2b3a618e2c862d0e18026ade53c10b06fd',
  12: 'db9f845dd8194d567720a18f15b13c2b3a618e2c862d0e18026ade53c10b06fd',
  13: '0888a0d04ba60ede172212064a5ff7872ef1fce14dd88148d1843cdff8e54a90',
  14: 'aa55439a157684972b87b5309bdec9d03de3c69e18691e0f83be1ad0981d4053',
  15: 'a37d136f8b6e084918c9794d473178b1345c53b533ebac31fd09d56200ab6f84',
  16: '7a79e7761fbca2fef1b483a296d93099b1dcecfc45c849d118215b19ba42a4b4',
  17: '4144a0cb605a05f59d12090b066514a8d2bf9848950db9a71d4512080903cff4',
  18: '55acbf5a087b23f5cbf5787614d984669dff3543a3aa09a47492878647e3087a',
  19: '36ded2a41cacdb5b2945c5fe66fd04948635419669cd87b59a95c612902a5f12',
};

const backends = new Map<number, Promise<'native' | 'wasm'>>();

/**
 * Which implementation compresses a level's frames: Node's native zstd (Node >= 22.15) when, on a probe
 * buffer, it produces exactly the bytes of the pinned wasm build; otherwise the wasm build. So the
 * bytes of a layer never depend on the Node version. Checked once per level per process.
 */
export function zstdBackendName(level: number): Promise<'native' | 'wasm'> {
  let backend = backends.get(level);
  if (backend === undefined) {
    backend = selectBackend(level);
    backends.set(level, backend);
  }
  return backend;
}

let wasmPath: string | undefined;

/** The worker task that compresses a frame of `length` bytes at `level` with the level's backend. */
export async function zstdTask(level: number, length: number): Promise<ZstdTask> {
  if ((await zstdBackendName(level)) === 'native') {
    return { op: 'zstd', level, length, chunkSize: nativeOptions(length, level).chunkSize };
  }
  wasmPath ??= require.resolve('@bokuweb/zstd-wasm');
  return { op: 'zstd', level, length, chunkSize: 0, wasmPath };
}

/** Output space for a frame of `size` input bytes (the worst case, so any frame fits). */
export function zstdOutputSize(size: number): number {
  return Math.max(zstdCompressBound(size), 64 * 1024);
}

/**
 * Frames up to this size (tar headers between file payloads, say) are compressed on the calling
 * thread, with the very call a worker would make: the round trip to a worker costs more than they do.
 */
const INLINE_FRAME_LIMIT = 4 * 1024;

async function compressInline(input: Uint8Array, level: number): Promise<Buffer> {
  if ((await zstdBackendName(level)) === 'native') {
    const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    return z.zstdCompressSync!(buf, nativeOptions(input.length, level));
  }
  return Buffer.from((await loadWasm()).compress(input, level));
}

function fillerOf(input: Uint8Array | readonly Uint8Array[] | FrameFiller): FrameFiller {
  if (input instanceof Uint8Array) return fillerOf([input]);
  if (!Array.isArray(input)) return input as FrameFiller;
  const pieces = input as readonly Uint8Array[];
  let length = 0;
  for (const piece of pieces) length += piece.length;
  return {
    length,
    fill(target) {
      let at = 0;
      for (const piece of pieces) {
        target.set(piece, at);
        at += piece.length;
      }
    },
  };
}

async function compressFrame(
  input: Uint8Array | readonly Uint8Array[] | FrameFiller,
  level: number,
  workers?: number,
): Promise<Buffer> {
  const filler = fillerOf(input);
  const { length } = filler;
  if (length <= INLINE_FRAME_LIMIT) {
    if (input instanceof Uint8Array) return await compressInline(input, level);
    const joined = Buffer.allocUnsafe(length);
    filler.fill(joined);
    return await compressInline(joined, level);
  }
  // Frames of every size (eStargz members): pooled by rounded size, or no buffer would be reused.
  const shared = sharedBuffers.acquire(zstdOutputSize(length), 'rounded');
  // The input goes straight into the worker's buffer: no joined copy of the frame on the main thread.
  filler.fill(shared);
  try {
    const task = await zstdTask(level, length);
    return (await compressWorkers().runCopied(task, shared, workers ?? defaultPoolSize())).output;
  } finally {
    sharedBuffers.release(shared);
  }
}

/** The zstd frame compressor for a level (see zstdBackendName for which implementation runs). */
export async function zstdBackend(level: number): Promise<ZstdFrameCompressor> {
  await zstdBackendName(level);
  return compressFrame;
}

async function selectBackend(level: number): Promise<'native' | 'wasm'> {
  if (typeof z.zstdCompressSync !== 'function') {
    log('zstd level %d: wasm (no native zstd in this Node)', level);
    return 'wasm';
  }
  const probe = probeBuffer();
  let same = false;
  try {
    // Workers run exactly this call (zstdCompressSync with a compressBound-sized chunk: single pass).
    const native = z.zstdCompressSync(probe, nativeOptions(probe.length, level));
    same = createHash('sha256').update(native).digest('hex') === WASM_PROBE_DIGESTS[level];
  } catch (err) {
    log('zstd level %d: native zstd failed the self-check: %s', level, String(err));
  }
  log('zstd level %d: %s', level, same ? 'native' : 'wasm (native output differs)');
  return same ? 'native' : 'wasm';
}
