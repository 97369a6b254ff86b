import { createRequire } from 'node:module';
import { debuglog } from 'node:util';
import * as zlib from 'node:zlib';
import { compressWorkers, defaultPoolSize, sharedBuffers, type ZstdTask } from './compress-workers.js';

const log = debuglog('img:layer-writer');
const require = createRequire(import.meta.url);

/**
 * Compresses `input` into one independent zstd frame on a worker thread, using at most `workers`
 * threads (default defaultPoolSize()). `input` is copied before the call returns.
 */
export type ZstdFrameCompressor = (input: Uint8Array, level: number, workers?: number) => Promise<Buffer>;

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
function probeBuffer(): Buffer {
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

async function compressFrame(input: Uint8Array, level: number, workers?: number): Promise<Buffer> {
  if (input.length <= INLINE_FRAME_LIMIT) return await compressInline(input, level);
  const task = await zstdTask(level, input.length);
  const shared = sharedBuffers.acquire(zstdOutputSize(input.length));
  shared.set(input);
  try {
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
  const wasm = await loadWasm();
  const probe = probeBuffer();
  let same = false;
  try {
    // Workers run exactly this call (zstdCompressSync with a compressBound-sized chunk: single pass).
    const native = z.zstdCompressSync(probe, nativeOptions(probe.length, level));
    same = native.equals(Buffer.from(wasm.compress(probe, level)));
  } catch (err) {
    log('zstd level %d: native zstd failed the self-check: %s', level, String(err));
  }
  log('zstd level %d: %s', level, same ? 'native' : 'wasm (native output differs)');
  return same ? 'native' : 'wasm';
}
