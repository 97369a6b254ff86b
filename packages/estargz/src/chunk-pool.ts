/**
 * Tar chunk buffers that come back once nothing reads them any more. The assembler keeps pieces of a
 * chunk until the members holding them are compressed; without reuse every chunk becomes garbage, and
 * V8 collects that external memory only after some 64 MiB of it has piled up.
 *
 * A buffer from `allocate` starts with one hold (the tar writer filling it); `release` that hold once
 * the writer has handed the chunk over, and `hold`/`release` once per piece kept. Buffers not from this
 * pool are ignored, so any chunk may be passed.
 */
export class ChunkPool {
  readonly #size: number;
  readonly #maxFree: number;
  readonly #free: Buffer[] = [];
  /** Holds on each buffer handed out and not yet back in `#free`, by its ArrayBuffer. */
  readonly #holds = new Map<ArrayBufferLike, number>();

  constructor(size: number, maxFree: number) {
    this.#size = size;
    this.#maxFree = maxFree;
  }

  /** A buffer of `size` bytes (contents undefined), with one hold. */
  readonly allocate = (): Buffer => {
    const buffer = this.#free.pop() ?? Buffer.allocUnsafeSlow(this.#size);
    this.#holds.set(buffer.buffer, 1);
    return buffer;
  };

  /** One more reader of `bytes` (any view of a pool buffer). */
  hold(bytes: Uint8Array): void {
    const holds = this.#holds.get(bytes.buffer);
    if (holds !== undefined) this.#holds.set(bytes.buffer, holds + 1);
  }

  /** One reader of `bytes` is done; the last one returns the buffer for reuse. */
  release(bytes: Uint8Array): void {
    const holds = this.#holds.get(bytes.buffer);
    if (holds === undefined) return;
    if (holds > 1) {
      this.#holds.set(bytes.buffer, holds - 1);
      return;
    }
    this.#holds.delete(bytes.buffer);
    if (this.#free.length < this.#maxFree) this.#free.push(Buffer.from(bytes.buffer, 0, this.#size));
  }
}
