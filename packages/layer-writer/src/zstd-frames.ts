import { Transform, type TransformCallback } from 'node:stream';
import { transferBuffers } from './compress-workers.js';
import { InOrder } from './in-order.js';
import { type ZstdFrameCompressor, zstdBackend } from './zstd-backend.js';

/**
 * zstd as a series of independent frames of `frameSize` input bytes, each compressed one-shot on a
 * worker thread (at most `jobs` threads); up to one frame more than that is in flight. Output order
 * and bytes do not depend on the number of workers.
 */
export class ZstdFrames extends Transform {
  readonly #level: number;
  readonly #frameSize: number;
  readonly #jobs: number;
  readonly #results = new InOrder<Buffer>();
  #buf: Buffer | undefined;
  #fill = 0;
  #backend: Promise<ZstdFrameCompressor>;

  constructor(level: number, frameSize: number, jobs: number) {
    super();
    this.#level = level;
    this.#frameSize = frameSize;
    this.#jobs = jobs;
    this.#backend = zstdBackend(level);
    this.#backend.catch(() => {});
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#take(chunk).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    (async () => {
      if (this.#fill > 0) await this.#submit(this.#buf!.subarray(0, this.#fill));
      this.#buf = undefined;
      await this.#results.settle(0, (frame) => this.push(frame));
    })().then(() => cb(), cb);
  }

  async #take(chunk: Buffer): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      this.#buf ??= transferBuffers.acquire(this.#frameSize);
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
    this.#results.add(compress(frame, this.#level, this.#jobs));
    await this.#results.settle(this.#jobs, (out) => this.push(out));
  }
}
