import { type Duplex, PassThrough, Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import type { LayerCompression } from '@img/oci-spec';
import { Decompress } from 'fzstd';
import { LayerError } from './errors.js';

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

const zstdNative = zlib as unknown as { createZstdDecompress?: () => Duplex };

/**
 * A Transform that decompresses gzip (incl. multi-member), zstd (incl. multi-frame; native zlib when
 * available, else fzstd) or passes bytes through for none.
 */
export function createDecompressor(format: LayerCompression): Duplex {
  switch (format) {
    case 'gzip':
      return zlib.createGunzip({ chunkSize: 256 * 1024 });
    case 'zstd':
      return typeof zstdNative.createZstdDecompress === 'function'
        ? zstdNative.createZstdDecompress()
        : new FzstdDecompress();
    case 'none':
      return new PassThrough();
    default:
      throw new LayerError('IMG_LAYER_UNKNOWN_COMPRESSION', `unknown compression ${JSON.stringify(format)}`);
  }
}

class FzstdDecompress extends Transform {
  readonly #d: Decompress;
  #sawInput = false;

  constructor() {
    super();
    this.#d = new Decompress((data) => {
      if (data.length > 0) this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.#sawInput ||= chunk.length > 0;
      this.#d.push(chunk);
      cb();
    } catch (err) {
      cb(invalid(err));
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (this.#sawInput) this.#d.push(new Uint8Array(0), true);
      cb();
    } catch (err) {
      cb(invalid(err));
    }
  }
}

function invalid(err: unknown): LayerError {
  return new LayerError('IMG_LAYER_INVALID_TAR', `invalid zstd data: ${(err as Error).message}`, {
    cause: err,
  });
}
