import { Readable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { SpecError } from '@img/oci-spec';
import type { BlobRef } from './blob-ref.js';
import type { Connection } from './connection.js';
import { backoff, grpcCodeOf, isRetryableCode, type RetryOptions } from './retry.js';

export interface ResumableReadOptions {
  readonly connection: Connection;
  readonly resource: string;
  readonly blob: BlobRef;
  /** First byte to read (default 0). */
  readonly start?: number;
  /** Bytes to read from `start` (default: to the end of the blob). */
  readonly length?: number;
  readonly retry: Required<RetryOptions>;
  /** A stream that delivers nothing for this long is cancelled and resumed. */
  readonly idleTimeoutMs: number;
  readonly signal?: AbortSignal;
}

/**
 * The raw bytes of a blob (or of the range `start`, `length`) from ByteStream.Read. A stream that breaks with a retryable
 * code (or goes idle) is reopened at `read_offset` = the bytes delivered so far, never
 * restarted; retries are counted per failure without progress. Not verified: see openBlob.
 */
export class ResumableRead extends Readable {
  readonly #o: ResumableReadOptions;
  readonly #first: number;
  /** Bytes this stream delivers in all. */
  readonly #expected: number;
  #received = 0;
  #failures = 0;
  #progressSinceFailure = false;
  #call: grpc.ClientReadableStream<unknown> | undefined;
  #starting = false;
  #idle: NodeJS.Timeout | undefined;
  readonly #onAbort = () => this.destroy(this.#o.signal?.reason);

  constructor(options: ResumableReadOptions) {
    super({ highWaterMark: 1024 * 1024 });
    this.#o = options;
    this.#first = options.start ?? 0;
    this.#expected = options.length ?? options.blob.size - this.#first;
    options.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Bytes received so far (`start` + this is the `read_offset` of the next attempt). */
  get received(): number {
    return this.#received;
  }

  override _read(): void {
    if (this.#call !== undefined) {
      this.#call.resume();
      this.#armIdle(this.#call);
    } else if (!this.#starting) void this.#start();
  }

  async #start(): Promise<void> {
    this.#starting = true;
    const { connection, resource, blob } = this.#o;
    let md: grpc.Metadata;
    try {
      md = await connection.metadata('bytestream', this.#o.signal);
    } catch (err) {
      this.destroy(
        this.#o.signal?.aborted ? this.#o.signal.reason : connection.error(err, `reading ${blob.digest}`),
      );
      return;
    } finally {
      this.#starting = false;
    }
    if (this.destroyed) return;
    const offset = this.#first + this.#received;
    // read_limit 0 reads to the end: used when the end is the blob's, so whole reads ask as before.
    const toEnd = this.#first + this.#expected === blob.size;
    const limit = toEnd ? 0 : this.#expected - this.#received;
    connection.publish({ method: 'bytestream.Read', resource, offset, attempt: this.#failures + 1 });
    const call = connection.serverStream(
      'bytestream',
      'Read',
      { resource_name: resource, read_offset: offset, read_limit: limit },
      md,
    );
    this.#call = call;
    this.#armIdle(call);
    call.on('data', (message: { data?: Buffer }) => {
      if (call !== this.#call) return;
      this.#armIdle(call);
      const data = message.data;
      if (data === undefined || data.length === 0) return;
      if (this.#received + data.length > this.#expected) {
        this.#detach(call);
        this.destroy(
          new SpecError(
            'IMG_SIZE_MISMATCH',
            `${blob.digest} from ${connection.endpoint.url}: more than the expected ${this.#expected} bytes`,
          ),
        );
        return;
      }
      this.#received += data.length;
      this.#progressSinceFailure = true;
      if (!this.push(data)) call.pause();
    });
    call.on('error', (err) => {
      if (call === this.#call) void this.#failed(call, err);
    });
    call.on('end', () => {
      if (call !== this.#call) return;
      this.#detach(call);
      if (this.#received === this.#expected) {
        this.push(null);
      } else {
        // A clean end says "that was all": the blob is shorter than its descriptor (a broken stream ends
        // with an error status instead, and is resumed).
        const message = `${blob.digest} from ${connection.endpoint.url}: expected ${this.#expected} bytes, got ${this.#received}`;
        this.destroy(new SpecError('IMG_SIZE_MISMATCH', message));
      }
    });
  }

  async #failed(call: grpc.ClientReadableStream<unknown>, err: unknown): Promise<void> {
    this.#detach(call);
    if (this.destroyed) return;
    const { connection, blob, retry, signal } = this.#o;
    if (this.#progressSinceFailure) this.#failures = 0;
    this.#progressSinceFailure = false;
    this.#failures += 1;
    if (signal?.aborted) {
      this.destroy(signal.reason);
      return;
    }
    if (!isRetryableCode(grpcCodeOf(err)) || this.#failures >= retry.attempts) {
      this.destroy(connection.error(err, `reading ${blob.digest} at offset ${this.#first + this.#received}`));
      return;
    }
    try {
      await backoff(this.#failures, retry, signal);
    } catch (abort) {
      this.destroy(abort as Error);
      return;
    }
    if (!this.destroyed) void this.#start();
  }

  #armIdle(call: grpc.ClientReadableStream<unknown>): void {
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      if (call !== this.#call || call.isPaused()) return;
      const idle = Object.assign(new Error(`no data for ${this.#o.idleTimeoutMs} ms`), {
        code: status.DEADLINE_EXCEEDED,
      });
      void this.#failed(call, idle);
    }, this.#o.idleTimeoutMs);
    this.#idle.unref();
  }

  #detach(call: grpc.ClientReadableStream<unknown>): void {
    clearTimeout(this.#idle);
    if (this.#call === call) this.#call = undefined;
    call.removeAllListeners('data');
    call.on('error', () => {});
    call.cancel();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#o.signal?.removeEventListener('abort', this.#onAbort);
    if (this.#call !== undefined) this.#detach(this.#call);
    clearTimeout(this.#idle);
    callback(err);
  }
}
