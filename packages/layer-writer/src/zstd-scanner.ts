import { LayerError } from './errors.js';
import { limitExceeded } from './limits.js';

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
/** A zstd block never regenerates more than this (Block_Maximum_Size). */
export const ZSTD_MAX_BLOCK_SIZE = 128 * 1024;

type Step =
  | 'magic'
  | 'descriptor'
  | 'frameHeader'
  | 'blockHeader'
  | 'body'
  | 'checksum'
  | 'skipSize'
  | 'skip';

/**
 * Follows the frame and block structure of a zstd stream (RFC 8878) without decoding it, so that a
 * decoder can be fed in slices that each complete a bounded number of blocks (each block regenerates
 * at most 128 KiB), and so that a frame asking for a window above `maxWindowSize` is refused before
 * a decoder allocates it. Every step consumes at least one byte or finishes a field.
 */
export class ZstdScanner {
  readonly #maxWindow: number;
  readonly #where: string;
  #step: Step = 'magic';
  /** Bytes still needed by the current step. */
  #need = 4;
  readonly #field = Buffer.alloc(16);
  #fill = 0;
  #checksum = false;
  #lastBlock = false;
  #offset = 0;
  #frameAt = 0;

  constructor(maxWindowSize: number, where: string) {
    this.#maxWindow = maxWindowSize;
    this.#where = where;
  }

  /** Whether the stream ends at a frame boundary here (a clean end of input). */
  get atFrameBoundary(): boolean {
    return this.#step === 'magic' && this.#fill === 0;
  }

  /**
   * Scan `chunk` from `from`; returns the index just after the `maxBlocks`-th block that ends in it,
   * or `chunk.length` if fewer end there.
   */
  advance(chunk: Uint8Array, from: number, maxBlocks: number): number {
    let pos = from;
    let blocks = 0;
    while (pos < chunk.length) {
      if (this.#step === 'body' || this.#step === 'skip') {
        const n = Math.min(this.#need, chunk.length - pos);
        pos += n;
        this.#offset += n;
        this.#need -= n;
        if (this.#need > 0) break;
        if (this.#step === 'body' && this.#endBlock()) {
          if (++blocks >= maxBlocks) return pos;
        } else if (this.#step === 'skip') {
          this.#expect('magic', 4);
        }
        continue;
      }
      const n = Math.min(this.#need, chunk.length - pos);
      this.#field.set(chunk.subarray(pos, pos + n), this.#fill);
      this.#fill += n;
      this.#need -= n;
      pos += n;
      this.#offset += n;
      if (this.#need > 0) break;
      if (this.#onField() && ++blocks >= maxBlocks) return pos;
    }
    return pos;
  }

  #expect(step: Step, need: number): void {
    this.#step = step;
    this.#need = need;
    this.#fill = 0;
  }

  /** A block's body was consumed; true when that completed a block. */
  #endBlock(): boolean {
    if (this.#lastBlock) {
      if (this.#checksum) this.#expect('checksum', 4);
      else this.#expect('magic', 4);
    } else {
      this.#expect('blockHeader', 3);
    }
    return true;
  }

  /** A fixed-size field is complete; returns true when it completed a block (an empty one). */
  #onField(): boolean {
    const f = this.#field;
    switch (this.#step) {
      case 'magic': {
        const magic = f.readUInt32LE(0);
        this.#frameAt = this.#offset - 4;
        if (magic === ZSTD_MAGIC) this.#expect('descriptor', 1);
        else if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) this.#expect('skipSize', 4);
        else throw this.#invalid('not a zstd frame');
        return false;
      }
      case 'descriptor': {
        const fhd = f[0]!;
        if (fhd & 0x08) throw this.#invalid('reserved bit set in the frame header');
        const single = (fhd >> 5) & 1;
        const dictBytes = [0, 1, 2, 4][fhd & 3]!;
        const fcsBytes = [single, 2, 4, 8][fhd >> 6]!;
        this.#checksum = (fhd & 0x04) !== 0;
        this.#field[15] = fhd;
        this.#expect('frameHeader', (single ? 0 : 1) + dictBytes + fcsBytes);
        if (this.#need === 0) this.#onField();
        return false;
      }
      case 'frameHeader': {
        const fhd = this.#field[15]!;
        const single = (fhd >> 5) & 1;
        let window: number;
        if (single) {
          const fcsBytes = [1, 2, 4, 8][fhd >> 6]!;
          const at = this.#fill - fcsBytes;
          window =
            fcsBytes === 1
              ? f[at]!
              : fcsBytes === 2
                ? f.readUInt16LE(at) + 256
                : fcsBytes === 4
                  ? f.readUInt32LE(at)
                  : Number(f.readBigUInt64LE(at));
        } else {
          const exponent = f[0]! >> 3;
          const base = 2 ** (10 + exponent);
          window = base + (base / 8) * (f[0]! & 7);
        }
        if (window > this.#maxWindow) {
          throw limitExceeded(
            `${this.#where}: zstd frame at offset ${this.#frameAt}`,
            `window of ${window} bytes is larger than ${this.#maxWindow}`,
            'maxZstdWindowSize',
          );
        }
        this.#lastBlock = false;
        this.#expect('blockHeader', 3);
        return false;
      }
      case 'blockHeader': {
        const header = f[0]! | (f[1]! << 8) | (f[2]! << 16);
        this.#lastBlock = (header & 1) === 1;
        const type = (header >> 1) & 3;
        const size = header >>> 3;
        if (type === 3) throw this.#invalid('reserved block type');
        if (size > ZSTD_MAX_BLOCK_SIZE) throw this.#invalid(`block of ${size} bytes`);
        const body = type === 1 ? 1 : size;
        this.#expect('body', body);
        if (body === 0) return this.#endBlock();
        this.#step = 'body';
        return false;
      }
      case 'checksum':
        this.#expect('magic', 4);
        return false;
      case 'skipSize':
        this.#expect('skip', f.readUInt32LE(0));
        if (this.#need === 0) this.#expect('magic', 4);
        return false;
      default:
        throw new Error(`ZstdScanner: unexpected step ${this.#step}`);
    }
  }

  #invalid(why: string): LayerError {
    return new LayerError(
      'IMG_LAYER_INVALID_TAR',
      `${this.#where}: invalid zstd data at offset ${this.#offset}: ${why}`,
    );
  }
}
