import { Transform, type TransformCallback } from 'node:stream';
import { compressWorkers, sharedBuffers } from './compress-workers.js';
import { InOrder } from './in-order.js';
import { zstdBackendName, zstdOutputSize, zstdTask } from './zstd-backend.js';

/**
 * A buffer of `frameSize` bytes that ZstdFrames(…, frameSize, …) takes over instead of copying: write it
 * whole (or, as the last chunk, a view of its start) and never touch it again; it is reused once its
 * frame is compressed. Lets a producer (the tar writer) fill frames in place.
 */
export function zstdFrameBuffer(frameSize: number): Buffer {
  return sharedBuffers.acquire(zstdOutputSize(frameSize)).subarray(0, frameSize);
}

/** Size of the chunks that a ZstdFrames with `lendOutput` emits (the last of a frame may be shorter). */
const LENT_CHUNK_SIZE = 1024 * 1024;

/**
 * Hand back a chunk that a ZstdFrames with `lendOutput` emitted, once it has been consumed; anything
 * else is ignored.
 */
export function releaseCompressedChunk(chunk: Uint8Array): void {
  sharedBuffers.release(chunk);
}

export interface ZstdFramesOptions {
  /**
   * Emit each frame as a view of a reusable buffer instead of a copy of its own; the consumer hands it
   * back with releaseCompressedChunk (unreleased buffers are garbage-collected). Saves one allocation
   * per frame, and with it most of the full GCs of a multi-GiB layer. Default false.
   */
  readonly lendOutput?: boolean;
  /**
   * Byte budget of the frames in flight (input and output space of each); at least one frame is.
   * Default: no budget beyond `jobs` frames.
   */
  readonly inFlightBytes?: number;
}

/**
 * zstd as a series of independent frames of `frameSize` input bytes, each compressed one-shot on a
 * worker thread (at most `jobs` threads). At most `jobs` frames are in flight, fewer when their
 * buffers would exceed `inFlightBytes`, plus the one being filled. Output order and bytes do not
 * depend on either.
 */
export class ZstdFrames extends Transform {
  readonly #level: number;
  readonly #frameSize: number;
  readonly #jobs: number;
  readonly #lendOutput: boolean;
  readonly #inFlightBytes: number;
  readonly #results = new InOrder<Buffer[]>();
  #buf: Buffer | undefined;
  #fill = 0;

  constructor(level: number, frameSize: number, jobs: number, options: ZstdFramesOptions = {}) {
    super();
    this.#level = level;
    this.#frameSize = frameSize;
    this.#jobs = jobs;
    this.#lendOutput = options.lendOutput ?? false;
    this.#inFlightBytes = options.inFlightBytes ?? Number.POSITIVE_INFINITY;
    zstdBackendName(level).catch(() => {}); // start the self-check now
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#take(chunk).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    (async () => {
      if (this.#fill > 0) await this.#submit(this.#buf!, this.#fill);
      this.#buf = undefined;
      await this.#results.settle(0, (r) => this.#emit(r));
    })().then(() => cb(), cb);
  }

  async #take(chunk: Buffer): Promise<void> {
    const own = this.#buf === undefined ? sharedBuffers.lent(chunk) : undefined;
    if (
      own !== undefined &&
      own.length === zstdOutputSize(this.#frameSize) &&
      chunk.length <= this.#frameSize
    ) {
      // A zstdFrameBuffer: take it over as the frame being filled.
      this.#buf = own;
      this.#fill = chunk.length;
      await this.#submitIfFull();
      return;
    }
    let off = 0;
    while (off < chunk.length) {
      this.#buf ??= sharedBuffers.acquire(zstdOutputSize(this.#frameSize));
      const n = Math.min(this.#frameSize - this.#fill, chunk.length - off);
      chunk.copy(this.#buf, this.#fill, off, off + n);
      this.#fill += n;
      off += n;
      await this.#submitIfFull();
    }
  }

  async #submitIfFull(): Promise<void> {
    if (this.#fill !== this.#frameSize) return;
    const frame = this.#buf!;
    this.#buf = undefined;
    this.#fill = 0;
    await this.#submit(frame, this.#frameSize);
  }

  /** Compress input[0, length) on a worker, which writes the frame over it (the buffer fits the bound). */
  async #submit(input: Buffer, length: number): Promise<void> {
    // Room first: at most `jobs` frames, within the byte budget (or this one alone).
    await this.#results.settle(this.#jobs - 1, (r) => this.#emit(r), this.#inFlightBytes - input.length);
    const job = (async () => {
      try {
        const task = await zstdTask(this.#level, length);
        const r = await compressWorkers().run(task, input, this.#jobs);
        return this.#lendOutput ? lentChunks(r.output) : [Buffer.from(r.output)];
      } finally {
        sharedBuffers.release(input);
      }
    })();
    this.#results.add(job, input.length);
  }

  #emit(chunks: Buffer[]): void {
    for (const chunk of chunks) this.push(chunk);
  }
}

/** `frame` copied into reusable chunks (so that the large frame buffer is free again at once). */
function lentChunks(frame: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < frame.length; off += LENT_CHUNK_SIZE) {
    const n = Math.min(LENT_CHUNK_SIZE, frame.length - off);
    const chunk = sharedBuffers.acquire(n);
    frame.copy(chunk, 0, off, off + n);
    out.push(chunk);
  }
  return out;
}
