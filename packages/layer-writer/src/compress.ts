import * as stream from 'node:stream';
import { type Duplex, PassThrough, Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import type { LayerCompression } from '@img/oci-spec';
import { LayerError } from './errors.js';
import { type ZstdFrameCompressor, zstdBackend } from './zstd-backend.js';
import { defaultPoolSize, frameBuffers } from './zstd-workers.js';

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
 * - gzip: one deflate stream (Node zlib), fed fixed 1 MiB blocks; header mtime 0, no name.
 * - zstd: the input is cut into ZSTD_FRAME_SIZE pieces, each compressed one-shot into an independent
 *   frame (native zstd or the pinned wasm build, whichever gives the pinned bytes; see zstdBackend).
 * - none: bytes unchanged.
 */
export function createCompressor(options: CompressorOptions): Duplex {
  const format = parseCompression(options.format, 'format');
  const level = resolveLevel(format, options.level);
  switch (format) {
    case 'gzip': {
      const gzip = zlib.createGzip({ level, chunkSize: 256 * 1024 });
      return options.fixedInputBlocks ? gzip : compose(new FixedBlocks(GZIP_INPUT_BLOCK_SIZE), gzip);
    }
    case 'zstd':
      return new ZstdFrames(level, ZSTD_FRAME_SIZE);
    default:
      return new PassThrough();
  }
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

/**
 * zstd as a series of independent frames, each compressed one-shot in a worker thread; up to one frame
 * more than there are workers is in flight. Output order and bytes do not depend on the worker count.
 */
class ZstdFrames extends Transform {
  readonly #level: number;
  readonly #frameSize: number;
  #buf: Buffer | undefined;
  #fill = 0;
  readonly #pending: Promise<Buffer>[] = [];
  #backend: Promise<ZstdFrameCompressor>;

  constructor(level: number, frameSize: number) {
    super();
    this.#level = level;
    this.#frameSize = frameSize;
    this.#backend = zstdBackend(level);
    this.#backend.catch(() => {});
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#take(chunk).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    (async () => {
      if (this.#fill > 0) await this.#submit(this.#buf!.subarray(0, this.#fill));
      while (this.#pending.length > 0) this.push(await this.#pending.shift()!);
    })().then(() => cb(), cb);
  }

  async #take(chunk: Buffer): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      this.#buf ??= frameBuffers.acquire(this.#frameSize);
      const n = Math.min(this.#frameSize - this.#fill, chunk.length - off);
      chunk.copy(this.#buf, this.#fill, off, off + n);
      this.#fill += n;
      off += n;
      if (this.#fill === this.#frameSize) {
        const frame = this.#buf;
        this.#buf = undefined;
        this.#fill = 0;
        await this.#submit(frame);
      }
    }
  }

  async #submit(frame: Buffer): Promise<void> {
    const compress = await this.#backend;
    const job = compress(frame, this.#level);
    job.catch(() => {});
    this.#pending.push(job);
    while (this.#pending.length > defaultPoolSize()) this.push(await this.#pending.shift()!);
  }
}
