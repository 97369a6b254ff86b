import { type Duplex, PassThrough, Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import type { LayerCompression } from '@img/oci-spec';
import { Decompress } from 'fzstd';
import { LayerError } from './errors.js';
import {
  DEFAULT_DECOMPRESSION_RATIO_FLOOR,
  type DecompressionLimits,
  limitExceeded,
  resolveDecompressionLimits,
} from './limits.js';
import { ZstdScanner } from './zstd-scanner.js';

const MAGIC: Array<[name: string, bytes: number[]]> = [
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['lz4', [0x04, 0x22, 0x4d, 0x18]],
];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/**
 * The compression of a layer blob judged by its first bytes (at least 6 for a reliable answer):
 * gzip (1f 8b), zstd (28 b5 2f fd), otherwise none. bzip2, xz and lz4 are recognised and rejected
 * with IMG_LAYER_UNKNOWN_COMPRESSION (`where` names the file).
 */
export function detectCompression(firstBytes: Uint8Array, where = 'input'): LayerCompression {
  if (startsWith(firstBytes, [0x1f, 0x8b])) return 'gzip';
  if (startsWith(firstBytes, [0x28, 0xb5, 0x2f, 0xfd])) return 'zstd';
  for (const [name, magic] of MAGIC) {
    if (startsWith(firstBytes, magic)) {
      throw new LayerError(
        'IMG_LAYER_UNKNOWN_COMPRESSION',
        `${where}: ${name} compression is not supported (use gzip, zstd or an uncompressed tar)`,
      );
    }
  }
  return 'none';
}

/** Options of createDecompressor and createDecompressionLimit. */
export interface DecompressOptions extends DecompressionLimits {
  /** Size of the whole compressed input, when known: enables the ratio cap. */
  readonly compressedSize?: number;
  /** Names the input (a file) in errors. Default 'input'. */
  readonly where?: string;
}

const zstdNative = zlib as unknown as {
  createZstdDecompress?: (options?: zlib.ZlibOptions & { params?: Record<number, number> }) => Duplex;
  constants: Record<string, number>;
};

/** Output buffered by a decompressor before it stops reading input (and of each zlib chunk). */
const DECOMPRESS_CHUNK = 256 * 1024;

/**
 * A Transform that decompresses gzip (incl. multi-member), zstd (incl. multi-frame; native zlib when
 * available, else fzstd) or passes bytes through for none. Both respect back-pressure inside a chunk:
 * a small input that inflates to gigabytes is produced only as fast as it is read. zstd frames asking
 * for a window above `maxZstdWindowSize` are refused (IMG_LAYER_LIMIT_EXCEEDED). The size caps are
 * applied by createDecompressionLimit, piped after it.
 */
export function createDecompressor(format: LayerCompression, options: DecompressOptions = {}): Duplex {
  const { maxZstdWindowSize } = resolveDecompressionLimits(options);
  const where = options.where ?? 'input';
  switch (format) {
    case 'gzip':
      return zlib.createGunzip({ chunkSize: DECOMPRESS_CHUNK });
    case 'zstd':
      if (typeof zstdNative.createZstdDecompress === 'function') {
        const windowLogMax = Math.min(31, Math.max(10, Math.floor(Math.log2(maxZstdWindowSize))));
        return zstdNative.createZstdDecompress({
          chunkSize: DECOMPRESS_CHUNK,
          params: { [zstdNative.constants.ZSTD_d_windowLogMax!]: windowLogMax },
        });
      }
      return new FzstdDecompress(maxZstdWindowSize, where);
    case 'none':
      return new PassThrough();
    default:
      throw new LayerError('IMG_LAYER_UNKNOWN_COMPRESSION', `unknown compression ${JSON.stringify(format)}`);
  }
}

/** Blocks completed per call into fzstd: at most (8 + 1) x 128 KiB of output per call. */
const BLOCKS_PER_PUSH = 8;

/**
 * fzstd's streaming decoder emits everything a pushed chunk holds at once (a few KB of zstd can be
 * gigabytes), so it is fed in slices that complete at most BLOCKS_PER_PUSH blocks, and the rest of a
 * chunk waits while the readable side is full.
 */
class FzstdDecompress extends Transform {
  readonly #d: Decompress;
  readonly #scanner: ZstdScanner;
  readonly #where: string;
  #sawInput = false;
  #resume: (() => void) | undefined;

  constructor(maxWindowSize: number, where: string) {
    super({ readableHighWaterMark: DECOMPRESS_CHUNK });
    this.#where = where;
    this.#scanner = new ZstdScanner(maxWindowSize, where);
    this.#d = new Decompress((data) => {
      if (data.length > 0) this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#sawInput ||= chunk.length > 0;
    this.#feed(chunk, 0, cb);
  }

  #feed(chunk: Buffer, from: number, cb: TransformCallback): void {
    try {
      let at = from;
      while (at < chunk.length) {
        const to = this.#scanner.advance(chunk, at, BLOCKS_PER_PUSH);
        this.#d.push(chunk.subarray(at, to));
        at = to;
        if (at < chunk.length && this.readableLength >= this.readableHighWaterMark) {
          this.#resume = () => this.#feed(chunk, at, cb);
          return;
        }
      }
      cb();
    } catch (err) {
      cb(this.#invalid(err));
    }
  }

  override _read(size: number): void {
    const resume = this.#resume;
    this.#resume = undefined;
    resume?.();
    super._read(size);
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (this.#sawInput) {
        if (!this.#scanner.atFrameBoundary) throw new Error('unexpected end of data');
        this.#d.push(new Uint8Array(0), true);
      }
      cb();
    } catch (err) {
      cb(this.#invalid(err));
    }
  }

  #invalid(err: unknown): LayerError {
    if (err instanceof LayerError) return err;
    return new LayerError(
      'IMG_LAYER_INVALID_TAR',
      `${this.#where}: invalid zstd data: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * Passes decompressed bytes through and fails (IMG_LAYER_LIMIT_EXCEEDED) once they exceed
 * `maxDecompressedSize`, or `maxDecompressionRatio` times `compressedSize` when that is known and
 * above DEFAULT_DECOMPRESSION_RATIO_FLOOR.
 */
export function createDecompressionLimit(options: DecompressOptions = {}): Transform {
  const limits = resolveDecompressionLimits(options);
  const where = options.where ?? 'input';
  const byRatio =
    options.compressedSize === undefined
      ? Number.POSITIVE_INFINITY
      : Math.max(DEFAULT_DECOMPRESSION_RATIO_FLOOR, options.compressedSize * limits.maxDecompressionRatio);
  const max = Math.min(limits.maxDecompressedSize, byRatio);
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen <= max) {
        cb(null, chunk);
        return;
      }
      cb(
        byRatio < limits.maxDecompressedSize
          ? limitExceeded(
              where,
              `decompresses to more than ${max} bytes, over ${limits.maxDecompressionRatio} times its ${options.compressedSize} compressed bytes`,
              'maxDecompressionRatio',
            )
          : limitExceeded(where, `decompresses to more than ${max} bytes`, 'maxDecompressedSize'),
      );
    },
  });
}
