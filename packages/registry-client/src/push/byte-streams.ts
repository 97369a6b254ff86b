import { type Readable, Readable as ReadableStream, Transform } from 'node:stream';

/** Drops the first `n` bytes (resuming an upload re-reads the source from the start and skips). */
export function skipBytes(n: number): Transform {
  let left = n;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (left === 0) return cb(null, chunk);
      if (chunk.length <= left) {
        left -= chunk.length;
        return cb();
      }
      const rest = chunk.subarray(left);
      left = 0;
      cb(null, rest);
    },
  });
}

/** Counts bytes flowing through, reporting each chunk's size. */
export function countBytes(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      onBytes(chunk.length);
      cb(null, chunk);
    },
  });
}

/**
 * Cuts one source stream into consecutive slices of exact lengths (one per chunked PATCH) without
 * buffering more than a chunk of the source at a time.
 */
export class ByteSlicer {
  readonly #source: Readable;
  readonly #it: AsyncIterator<Buffer>;
  #leftover: Buffer | undefined;

  constructor(source: Readable) {
    this.#source = source;
    this.#it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** The next `length` bytes as a stream; fails when the source ends early. */
  slice(length: number): Readable {
    const self = this;
    async function* gen(): AsyncGenerator<Buffer> {
      let remaining = length;
      while (remaining > 0) {
        let chunk = self.#leftover;
        self.#leftover = undefined;
        if (!chunk) {
          const next = await self.#it.next();
          if (next.done) throw new Error(`source ended ${remaining} bytes before the end of the chunk`);
          chunk = next.value;
        }
        if (chunk.length > remaining) {
          self.#leftover = chunk.subarray(remaining);
          chunk = chunk.subarray(0, remaining);
        }
        remaining -= chunk.length;
        yield chunk;
      }
    }
    return ReadableStream.from(gen(), { objectMode: false });
  }

  /** Drain to the end (so a verifying source reaches its digest check), then close. */
  async finish(): Promise<void> {
    if (this.#leftover && this.#leftover.length > 0)
      throw new Error('source is longer than the descriptor size');
    for (;;) {
      const next = await this.#it.next();
      if (next.done) break;
      if (next.value.length > 0) throw new Error('source is longer than the descriptor size');
    }
  }

  destroy(): void {
    this.#source.destroy();
  }
}
