import { createHash, type Hash } from 'node:crypto';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import type { Digest, LayerMetadata } from '@img/oci-spec';
import type { ChunkSink } from './tar-writer.js';

/** sha256 and byte count of everything passed to `update`. */
export class HashCounter {
  readonly #hash: Hash = createHash('sha256');
  #bytes = 0;
  #digest: Digest | undefined;

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
  }

  /** Finish hashing (once); later calls return the same digest. */
  finish(): Digest {
    this.#digest ??= `sha256:${this.#hash.digest('hex')}` as Digest;
    return this.#digest;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Available after finish(). */
  get digest(): Digest {
    if (this.#digest === undefined) throw new Error('HashCounter: digest read before the end of the stream');
    return this.#digest;
  }
}

/** Passes bytes through while computing their sha256 and count. */
export class DigestCounter extends Transform {
  readonly counter = new HashCounter();

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.counter.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.counter.finish();
    cb();
  }

  get bytes(): number {
    return this.counter.bytes;
  }

  /** Available after the stream has been flushed. */
  get digest(): Digest {
    return this.counter.digest;
  }
}

/** Fixed-size buffers for reuse once their consumer is done with them (bounded free list). */
export class BufferPool {
  readonly size: number;
  readonly #free: Buffer[] = [];
  readonly #max: number;

  constructor(size: number, maxFree = 16) {
    this.size = size;
    this.#max = maxFree;
  }

  acquire(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** Return a buffer (or a view from its start); anything else is ignored. */
  release(buf: Buffer): void {
    if (buf.byteOffset !== 0 || buf.buffer.byteLength !== this.size || this.#free.length >= this.#max) return;
    this.#free.push(buf.length === this.size ? buf : Buffer.from(buf.buffer, 0, this.size));
  }
}

/** Resolves on 'drain'; rejects if the stream errors or closes first. */
export function waitForDrain(stream: NodeJS.WritableStream & NodeJS.EventEmitter): Promise<void> {
  // Destroyed (an abort, a failed stage): its 'close' has been emitted already, so it never drains.
  if ((stream as { destroyed?: boolean }).destroyed)
    return Promise.reject(new Error('stream closed before drain'));
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onError = (err: Error) => done(err);
    const onClose = () => done(new Error('stream closed before drain'));
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/** Let pending I/O and threadpool callbacks run. */
export const yieldToEventLoop = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

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

/**
 * Pipe `source` through `last` (the stage that counts the blob) and expose the result the way every
 * layer writer does: the blob stream, and metadata that `finish()` builds once every byte went
 * through (rejected with the pipeline's error otherwise).
 */
export function pipeToResult(
  source: NodeJS.ReadableStream,
  last: Transform,
  finish: () => LayerMetadata,
): { stream: Readable; metadata: Promise<LayerMetadata> } {
  let resolveMeta!: (m: LayerMetadata) => void;
  let rejectMeta!: (e: unknown) => void;
  const metadata = new Promise<LayerMetadata>((res, rej) => {
    resolveMeta = res;
    rejectMeta = rej;
  });
  metadata.catch(() => {});
  const stream = pipeline(source, last, (err) => {
    if (err) rejectMeta(err);
    else {
      try {
        resolveMeta(finish());
      } catch (e) {
        rejectMeta(e);
      }
    }
  });
  return { stream, metadata };
}
