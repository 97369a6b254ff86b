import { Transform, type TransformCallback } from 'node:stream';
import { compressWorkers, sharedBuffers, type WorkerResult } from './compress-workers.js';
import { crc32Combine } from './crc32-combine.js';
import { InOrder } from './in-order.js';

/**
 * Input bytes per independently compressed deflate block in gzip block mode (`compressorJobs` set);
 * part of that mode's output format: changing it changes digests.
 */
export const GZIP_BLOCK_SIZE = 1024 * 1024;
/** Each block is primed with (at most) this much of the input before it: deflate's window. */
const DICTIONARY_SIZE = 32 * 1024;
/**
 * zlib memLevel of block mode; part of its output format. 9 (zlib's default is 8) doubles the hash
 * table: 7-11% less deflate CPU at every level for ~0.2% more output on real files (up to 1.2% on
 * synthetic data); at equal size 0.89-0.94x memLevel 8's CPU at levels 1-4 (bench/compress/engines.mjs).
 */
export const GZIP_BLOCK_MEM_LEVEL = 9;

/**
 * The 10-byte gzip header of the single-stream mode (zlib's, with mtime 0 and no name): XFL as zlib
 * sets it from the level, OS always 3 (Unix) so the bytes are the same on every platform.
 */
export function gzipHeader(level: number): Buffer {
  const xfl = level === 9 ? 2 : level < 2 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]);
}

interface Block {
  /**
   * DICTIONARY_SIZE bytes (the tail of the previous block, or unused) then up to blockSize of data;
   * the worker writes the deflate output over it.
   */
  readonly buf: Buffer;
  readonly dictLength: number;
}

interface Deflated extends WorkerResult {
  readonly length: number;
}

export interface GzipBlocksOptions {
  /**
   * Emit each block's deflate output as a view of a reusable buffer (handed back with
   * releaseCompressedChunk) instead of a copy of its own. Default false.
   */
  readonly lendOutput?: boolean;
  /**
   * Byte budget of the blocks in flight (input and output space of each); at least one block is.
   * Default: no budget beyond 2 x jobs blocks.
   */
  readonly inFlightBytes?: number;
}

/**
 * gzip in block mode (pigz-style): the input is cut into fixed `blockSize` blocks; each is raw-deflated
 * on a worker thread, primed with the previous block's last 32 KiB as a dictionary and ended with a
 * sync flush (the last with Z_FINISH), so the concatenation is one deflate stream inside one gzip
 * member. The CRC-32 is combined from per-block CRCs. The bytes depend only on the level and the block
 * size (and zlib), never on the number of workers. At most 2 x jobs blocks are in flight, fewer when
 * their buffers would exceed `inFlightBytes`, plus the one being filled and one held back until it is
 * known whether it is the last.
 */
export class GzipBlocks extends Transform {
  readonly #level: number;
  readonly #blockSize: number;
  readonly #jobs: number;
  readonly #outChunkSize: number;
  readonly #lendOutput: boolean;
  readonly #inFlightBytes: number;
  readonly #results = new InOrder<Deflated>();
  #block: Block | undefined;
  #fill = 0;
  /** A full block not yet submitted: whether it is the last depends on whether more input comes. */
  #held: Block | undefined;
  #crc = 0;
  #size = 0;

  constructor(level: number, jobs: number, blockSize = GZIP_BLOCK_SIZE, options: GzipBlocksOptions = {}) {
    super();
    this.#lendOutput = options.lendOutput ?? false;
    this.#inFlightBytes = options.inFlightBytes ?? Number.POSITIVE_INFINITY;
    this.#level = level;
    this.#jobs = jobs;
    this.#blockSize = blockSize;
    // One output buffer that fits any block (deflate's bound is ~0.03% over the input), so a block is
    // deflated in a single pass; fixed per block size because stored (level 0) output depends on it.
    this.#outChunkSize = blockSize + (blockSize >>> 8) + 1024;
    this.push(gzipHeader(level));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#take(chunk).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    (async () => {
      if (this.#block !== undefined) await this.#submit(this.#block, this.#fill, true);
      else if (this.#held !== undefined) await this.#submit(this.#held, this.#blockSize, true);
      else await this.#submit(await this.#startBlock(), 0, true); // empty input
      this.#held = undefined;
      this.#block = undefined;
      await this.#results.settle(0, (r) => this.#emit(r));
      const trailer = Buffer.allocUnsafe(8);
      trailer.writeUInt32LE(this.#crc, 0);
      trailer.writeUInt32LE(this.#size % 2 ** 32, 4);
      this.push(trailer);
    })().then(() => cb(), cb);
  }

  async #take(chunk: Buffer): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      this.#block ??= await this.#startBlock();
      const n = Math.min(this.#blockSize - this.#fill, chunk.length - off);
      chunk.copy(this.#block.buf, DICTIONARY_SIZE + this.#fill, off, off + n);
      this.#fill += n;
      off += n;
      if (this.#fill === this.#blockSize) {
        this.#held = this.#block;
        this.#block = undefined;
        this.#fill = 0;
      }
    }
  }

  /** A new block, primed with the held block's tail; the held block is then known not to be the last. */
  async #startBlock(): Promise<Block> {
    const buf = sharedBuffers.acquire(DICTIONARY_SIZE + this.#blockSize);
    const prev = this.#held;
    if (prev === undefined) return { buf, dictLength: 0 };
    const end = DICTIONARY_SIZE + this.#blockSize;
    const dictLength = Math.min(DICTIONARY_SIZE, this.#blockSize);
    prev.buf.copy(buf, DICTIONARY_SIZE - dictLength, end - dictLength, end);
    this.#held = undefined;
    await this.#submit(prev, this.#blockSize, false);
    return { buf, dictLength };
  }

  async #submit(block: Block, length: number, last: boolean): Promise<void> {
    const task = {
      op: 'deflate',
      level: this.#level,
      memLevel: GZIP_BLOCK_MEM_LEVEL,
      offset: DICTIONARY_SIZE,
      length,
      dictLength: block.dictLength,
      last,
      chunkSize: this.#outChunkSize,
    } as const;
    // The worker writes the block's deflate output over its input (the bound fits the buffer).
    const buf = block.buf;
    // Room first: at most 2 x jobs blocks, within the byte budget (or this one alone).
    await this.#results.settle(2 * this.#jobs - 1, (r) => this.#emit(r), this.#inFlightBytes - buf.length);
    const pool = compressWorkers();
    const job = this.#lendOutput
      ? pool.run(task, buf, this.#jobs).then((r) => {
          if (r.output.buffer !== buf.buffer) sharedBuffers.release(buf);
          return { ...r, length };
        })
      : pool
          .runCopied(task, buf, this.#jobs)
          .then((r) => ({ ...r, length }))
          .finally(() => sharedBuffers.release(buf));
    this.#results.add(job, buf.length);
  }

  #emit(r: Deflated): void {
    this.#crc = crc32Combine(this.#crc, r.crc, r.length);
    this.#size += r.length;
    this.push(r.output);
  }
}
