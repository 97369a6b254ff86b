import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { Digest } from '@img/oci-spec';
import type { ChunkSink } from './tar-writer.js';

/** Passes bytes through while computing their sha256 and count. */
export class DigestCounter extends Transform {
  readonly #hash: Hash = createHash('sha256');
  #bytes = 0;
  #digest: Digest | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.#digest = `sha256:${this.#hash.digest('hex')}` as Digest;
    cb();
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Available after the stream has been flushed. */
  get digest(): Digest {
    if (this.#digest === undefined)
      throw new Error('DigestCounter: digest read before the end of the stream');
    return this.#digest;
  }
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A Readable fed by an async producer through a ChunkSink with back-pressure: the producer starts on
 * the first read, waits whenever the readable buffer is full, and yields to the event loop after every
 * chunk so that threadpool work (zlib, fs) completes while it produces.
 */
export function readableFromProducer(
  produce: (sink: ChunkSink) => Promise<void>,
  highWaterMark = 4 * 1024 * 1024,
): Readable {
  let wake: (() => void) | undefined;
  let started = false;
  const readable = new Readable({
    highWaterMark,
    read() {
      if (!started) {
        started = true;
        produce(sink).then(
          () => readable.push(null),
          (err) => readable.destroy(err),
        );
        return;
      }
      const w = wake;
      wake = undefined;
      w?.();
    },
    destroy(err, cb) {
      const w = wake;
      wake = undefined;
      w?.();
      cb(err);
    },
  });
  const sink: ChunkSink = async (chunk) => {
    if (readable.destroyed) throw new Error('layer stream was destroyed');
    if (readable.push(chunk)) await yieldToEventLoop();
    else await new Promise<void>((resolve) => (wake = resolve));
    if (readable.destroyed) throw new Error('layer stream was destroyed');
  };
  return readable;
}
