import type { Readable } from 'node:stream';
import { LoadError } from '../errors.js';
import type { grpc } from './client.js';

/**
 * Replies of a Content.Write stream, read as they come so the server never blocks on us. Each
 * WRITE gets one reply; `next()` awaits the first unread one, `last()` the one after every
 * outstanding write (the commit's).
 */
export class ReplyQueue<T extends { offset: number }> {
  readonly #call: grpc.ClientDuplexStream<unknown, unknown>;
  readonly #items: T[] = [];
  #error: unknown;
  #ended = false;
  #waiter?: () => void;
  #expected: number[] = [];

  constructor(call: grpc.ClientDuplexStream<unknown, unknown>) {
    this.#call = call;
    call.on('data', (r: T) => {
      const want = this.#expected.shift();
      if (want !== undefined && r.offset !== want) {
        this.#error ??= new LoadError(
          'IMG_LOAD_RPC',
          `containerd reports offset ${r.offset} after a write ending at ${want}`,
        );
      } else if (want === undefined) {
        this.#items.push(r);
      }
      this.#wake();
    });
    call.on('error', (e) => {
      this.#error ??= e;
      this.#wake();
    });
    call.on('end', () => {
      this.#ended = true;
      this.#wake();
    });
  }

  #wake() {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  async #wait(ready: () => boolean): Promise<void> {
    while (!ready()) {
      if (this.#error) throw this.#error;
      if (this.#ended) throw new LoadError('IMG_LOAD_RPC', 'containerd closed the write stream early');
      await new Promise<void>((r) => {
        this.#waiter = r;
      });
    }
    if (this.#error) throw this.#error;
  }

  /** Record that a WRITE was sent whose reply must report `offset`. */
  expect(offset: number) {
    this.#expected.push(offset);
  }

  async next(): Promise<T> {
    await this.#wait(() => this.#items.length > 0);
    return this.#items.shift()!;
  }

  /** The reply to the request sent after every outstanding WRITE. */
  async last(): Promise<T> {
    await this.#wait(() => this.#expected.length === 0 && this.#items.length > 0);
    return this.#items.shift()!;
  }

  /** Resolve when the stream accepts more writes (or fail if it broke meanwhile). */
  async drain(): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = () => {
        this.#call.off('drain', done);
        this.#call.off('error', done);
        this.#call.off('close', done);
        resolve();
      };
      this.#call.on('drain', done);
      this.#call.on('error', done);
      this.#call.on('close', done);
    });
    if (this.#error) throw this.#error;
  }

  async closed(): Promise<void> {
    await this.#wait(() => this.#ended);
  }
}

/** Re-slice a byte stream into chunks of at most `size` bytes (fewer, larger messages). */
export async function* rechunk(source: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of source) {
    let buf = piece as Buffer;
    while (buf.length > 0) {
      const take = Math.min(size - pendingBytes, buf.length);
      pending.push(buf.subarray(0, take));
      pendingBytes += take;
      buf = buf.subarray(take);
      if (pendingBytes === size) {
        yield pending.length === 1 ? pending[0]! : Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}
