import { availableParallelism } from 'node:os';
import * as stream from 'node:stream';
import { type Duplex, PassThrough, Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import type { LayerCompression } from '@img/oci-spec';
import { defaultPoolSize } from './compress-workers.js';
import { LayerError } from './errors.js';
import { GZIP_BLOCK_SIZE, GzipBlocks } from './gzip-blocks.js';
import { ZstdFrames } from './zstd-frames.js';

export const DEFAULT_COMPRESSION: LayerCompression = 'gzip';
export const DEFAULT_GZIP_LEVEL = 6;
export const DEFAULT_ZSTD_LEVEL = 3;
/** Input bytes per independent zstd frame; part of the output format (changing it changes digests). */
export const ZSTD_FRAME_SIZE = 8 * 1024 * 1024;
/** Input block size fed to deflate, so its output never depends on how callers chunk their writes. */
export const GZIP_INPUT_BLOCK_SIZE = 1024 * 1024;

// stream.compose exists since Node 16.9; @types/node 20 does not declare it.
const compose = (stream as unknown as { compose: (...streams: Duplex[]) => Duplex }).compose;

export interface CompressorOptions {
  readonly format: LayerCompression;
  /** gzip 0-9 (default DEFAULT_GZIP_LEVEL), zstd 1-19 (default DEFAULT_ZSTD_LEVEL); ignored for none. */
  readonly level?: number;
  /**
   * The caller promises that every written chunk but the last is exactly GZIP_INPUT_BLOCK_SIZE bytes
   * (TarWriter's default chunks are): gzip then skips re-chunking, and a write's callback means the
   * compressor is done with that chunk (so it can be reused).
   */
  readonly fixedInputBlocks?: boolean;
  /**
   * Worker threads to compress with ('nproc': one per core). Unset: gzip is one classic deflate
   * stream (zlib on the libuv threadpool) and zstd uses defaultPoolSize() threads. Set (any count,
   * even 1): gzip switches to block mode (see GzipBlocks), whose bytes depend only on the level and
   * `gzipBlockSize`, never on the count; zstd bytes never depend on it.
   */
  readonly jobs?: CompressorJobs;
  /** gzip block mode: input bytes per block. Default GZIP_BLOCK_SIZE (1 MiB); part of the output format. */
  readonly gzipBlockSize?: number;
  /**
   * Byte budget of the buffers in flight on worker threads (gzip block mode and zstd): input and
   * output space of every block or frame submitted and not yet emitted. Default
   * DEFAULT_IN_FLIGHT_BYTES; at least one block or frame is always in flight. Never changes the bytes.
   */
  readonly inFlightBytes?: number;
}

/**
 * Default byte budget of a compressor's buffers in flight: enough for 2 x jobs gzip blocks (2 MiB
 * each) up to 16 jobs, or 3 zstd frames (16 MiB each). The block or frame being filled comes on top.
 */
export const DEFAULT_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

/** A worker-thread count, or 'nproc' for one per core (os.availableParallelism()). */
export type CompressorJobs = number | 'nproc';
/** Upper bound of an explicit compressor job count. */
export const MAX_COMPRESSOR_JOBS = 256;

/** Validate a job count (number or 'nproc'); throws IMG_LAYER_INVALID_OPTION naming `field`. */
export function resolveCompressorJobs(value: unknown, field = 'compressorJobs'): number {
  if (value === 'nproc') return Math.min(MAX_COMPRESSOR_JOBS, availableParallelism());
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_COMPRESSOR_JOBS) {
    return value;
  }
  throw new LayerError(
    'IMG_LAYER_INVALID_OPTION',
    `${field}: expected an integer from 1 to ${MAX_COMPRESSOR_JOBS} or "nproc", got ${JSON.stringify(value)}`,
  );
}

const LEVELS: Record<LayerCompression, [min: number, max: number, def: number]> = {
  gzip: [0, 9, DEFAULT_GZIP_LEVEL],
  zstd: [1, 19, DEFAULT_ZSTD_LEVEL],
  none: [0, 0, 0],
};

/** Validate a compression name; throws IMG_LAYER_UNKNOWN_COMPRESSION naming it. */
export function parseCompression(value: unknown, field = 'compression'): LayerCompression {
  if (value === 'gzip' || value === 'zstd' || value === 'none') return value;
  throw new LayerError(
    'IMG_LAYER_UNKNOWN_COMPRESSION',
    `${field}: unknown compression ${JSON.stringify(value)} (expected gzip, zstd or none)`,
  );
}

/** The level to use for a format (validated; default when undefined). */
export function resolveLevel(format: LayerCompression, level: number | undefined, field = 'level'): number {
  const [min, max, def] = LEVELS[parseCompression(format)];
  if (format === 'none' || level === undefined) return def;
  if (!Number.isInteger(level) || level < min || level > max) {
    throw new LayerError(
      'IMG_LAYER_INVALID_LEVEL',
      `${field}: ${format} level must be ${min}-${max}, got ${level}`,
    );
  }
  return level;
}

/**
 * A Transform that compresses a byte stream deterministically:
 * - gzip: one deflate stream (Node zlib), fed fixed 1 MiB blocks; header mtime 0, no name, OS Unix.
 *   With `jobs` set: block mode (GzipBlocks), blocks deflated on worker threads into one gzip member.
 * - zstd: the input is cut into ZSTD_FRAME_SIZE pieces, each compressed one-shot into an independent
 *   frame on worker threads (native zstd or the pinned wasm build, whichever gives the pinned bytes;
 *   see zstdBackend).
 * - none: bytes unchanged.
 */
export function createCompressor(options: CompressorOptions): Duplex {
  return createLayerCompressor(options);
}

/**
 * createCompressor, plus (internal) `lendOutput`: gzip blocks and zstd frames are emitted as views of
 * reusable buffers that the consumer hands back with releaseCompressedChunk (see ZstdFrames).
 */
export function createLayerCompressor(options: CompressorOptions, lendOutput = false): Duplex {
  const format = parseCompression(options.format, 'format');
  const level = resolveLevel(format, options.level);
  const jobs = options.jobs === undefined ? undefined : resolveCompressorJobs(options.jobs, 'jobs');
  const inFlightBytes = resolveInFlightBytes(options.inFlightBytes);
  switch (format) {
    case 'gzip': {
      if (jobs !== undefined) {
        return new GzipBlocks(level, jobs, resolveGzipBlockSize(options.gzipBlockSize), {
          lendOutput,
          inFlightBytes,
        });
      }
      const gzip = withUnixGzipHeader(zlib.createGzip({ level, chunkSize: 256 * 1024 }));
      return options.fixedInputBlocks ? gzip : compose(new FixedBlocks(GZIP_INPUT_BLOCK_SIZE), gzip);
    }
    case 'zstd':
      return new ZstdFrames(level, ZSTD_FRAME_SIZE, jobs ?? defaultPoolSize(), { lendOutput, inFlightBytes });
    default:
      return new PassThrough();
  }
}

function resolveInFlightBytes(bytes: number | undefined): number {
  if (bytes === undefined) return DEFAULT_IN_FLIGHT_BYTES;
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new LayerError(
      'IMG_LAYER_INVALID_OPTION',
      `inFlightBytes: expected a byte count >= 0, got ${bytes}`,
    );
  }
  return bytes;
}

function resolveGzipBlockSize(size: number | undefined): number {
  if (size === undefined) return GZIP_BLOCK_SIZE;
  if (!Number.isInteger(size) || size < 4096 || size > 256 * 1024 * 1024) {
    throw new LayerError('IMG_LAYER_INVALID_OPTION', `gzipBlockSize: expected 4096 to 256 MiB, got ${size}`);
  }
  return size;
}

let zlibWritesUnix: boolean | undefined;

/**
 * Makes a zlib gzip stream write OS 3 (Unix) in its header: zlib writes the platform's code (19 on
 * macOS, 10 on Windows), which would make the same layer differ across machines. A no-op where zlib
 * writes 3 already. Patches the stream's output (push) so that its input side, and the meaning of a
 * write's callback, stay zlib's own.
 */
export function withUnixGzipHeader(gzip: zlib.Gzip, force = false): zlib.Gzip {
  zlibWritesUnix ??= zlib.gzipSync(Buffer.alloc(0))[9] === 3;
  if (zlibWritesUnix && !force) return gzip;
  let seen = 0;
  const push = gzip.push.bind(gzip);
  gzip.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (chunk instanceof Uint8Array) {
      if (seen <= 9 && seen + chunk.length > 9) chunk[9 - seen] = 3;
      seen += chunk.length;
    }
    return push(chunk, encoding);
  };
  return gzip;
}

/** Re-chunks a byte stream into blocks of exactly `size` bytes (the last may be shorter). */
export class FixedBlocks extends Transform {
  readonly #size: number;
  #buf: Buffer | undefined;
  #fill = 0;

  constructor(size: number) {
    super();
    this.#size = size;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let off = 0;
    if (this.#fill === 0 && chunk.length === this.#size) {
      this.push(chunk);
      cb();
      return;
    }
    while (off < chunk.length) {
      this.#buf ??= Buffer.allocUnsafe(this.#size);
      const n = Math.min(this.#size - this.#fill, chunk.length - off);
      chunk.copy(this.#buf, this.#fill, off, off + n);
      this.#fill += n;
      off += n;
      if (this.#fill === this.#size) {
        this.push(this.#buf);
        this.#buf = undefined;
        this.#fill = 0;
      }
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.#fill > 0) this.push(this.#buf!.subarray(0, this.#fill));
    cb();
  }
}
