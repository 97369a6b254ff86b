import type { Readable } from 'node:stream';
import type { Descriptor } from '@img/oci-spec';
import { LoadError } from '../errors.js';
import { type ContainerdClient, grpc, hasCode, rpcError } from './client.js';

/** Bytes per Content.Write message (containerd accepts up to 16 MiB per message). */
export const DEFAULT_WRITE_CHUNK_BYTES = 1024 * 1024;
/** How long to wait for another writer holding the same ingest ref before giving up. */
export const DEFAULT_LOCK_WAIT_MS = 60_000;

export interface ContentInfo {
  readonly digest: string;
  readonly size: number;
  readonly labels: Record<string, string>;
}

/** Content.Info, or undefined when containerd does not have the blob. */
export async function contentInfo(
  client: ContainerdClient,
  digest: string,
): Promise<ContentInfo | undefined> {
  try {
    const res = await client.call<{ info: ContentInfo }>('content', 'Info', { digest });
    return res.info;
  } catch (err) {
    if (hasCode(err, grpc.status.NOT_FOUND)) return undefined;
    throw rpcError(err, `content info ${digest}`);
  }
}

/** Set `labels` on an existing blob, leaving its other labels alone. */
export async function setContentLabels(
  client: ContainerdClient,
  digest: string,
  labels: Record<string, string>,
): Promise<void> {
  const paths = Object.keys(labels).map((k) => `labels.${k}`);
  if (paths.length === 0) return;
  try {
    await client.call('content', 'Update', { info: { digest, labels }, update_mask: { paths } });
  } catch (err) {
    throw rpcError(err, `label content ${digest}`);
  }
}

/** The ingest ref of a blob: stable, so an interrupted write is resumed by the next load. */
export function ingestRef(digest: string): string {
  return `img-load-${digest}`;
}

export interface WriteBlobOptions {
  readonly lease?: string;
  /** Labels applied on commit (e.g. containerd.io/gc.ref.content.*). */
  readonly labels?: Record<string, string>;
  readonly chunkBytes?: number;
  /** Called with the running number of bytes containerd holds for this blob. */
  readonly onBytes?: (offset: number) => void;
  readonly lockWaitMs?: number;
}

export interface WriteBlobResult {
  /** `present` when containerd already had the blob (nothing sent). */
  readonly status: 'written' | 'present';
  /** Bytes sent in this call (less than the size when an earlier ingest was resumed). */
  readonly bytesSent: number;
  /** Offset an earlier, interrupted ingest had reached (0 for a fresh write). */
  readonly resumedAt: number;
}

/**
 * Write one blob through Content.Write: STAT (learn how far an earlier ingest under the same ref
 * got), WRITE from that offset, COMMIT with the expected digest and size (containerd verifies both
 * before the blob becomes visible). `open(offset)` returns the blob's bytes from `offset` on.
 */
export async function writeBlob(
  client: ContainerdClient,
  descriptor: Descriptor,
  open: (offset: number) => Promise<Readable>,
  options: WriteBlobOptions = {},
): Promise<WriteBlobResult> {
  const deadline = Date.now() + (options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS);
  for (let attempt = 0; ; attempt++) {
    try {
      return await writeOnce(client, descriptor, open, options);
    } catch (err) {
      if (hasCode(err, grpc.status.ALREADY_EXISTS)) return { status: 'present', bytesSent: 0, resumedAt: 0 };
      // Another client (or a just-killed one whose stream containerd has not reaped yet) holds the ref.
      const locked =
        hasCode(err, grpc.status.UNAVAILABLE) && /locked/i.test((err as grpc.ServiceError).details);
      if (locked && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 2_000)));
        continue;
      }
      throw rpcError(err, `write ${descriptor.digest} (${descriptor.mediaType}, ${descriptor.size} bytes)`);
    }
  }
}

interface WriteResponse {
  action: string;
  offset: number;
  total: number;
  digest: string;
}

async function writeOnce(
  client: ContainerdClient,
  descriptor: Descriptor,
  open: (offset: number) => Promise<Readable>,
  options: WriteBlobOptions,
): Promise<WriteBlobResult> {
  const ref = ingestRef(descriptor.digest);
  const { digest, size } = descriptor;
  const call = client.openWrite(options.lease);
  const replies = new ReplyQueue<WriteResponse>(call);
  let source: Readable | undefined;
  try {
    call.write({ action: 'STAT', ref, total: size, expected: digest });
    const stat = await replies.next();
    // An ingest longer than the blob cannot be ours: WRITE at offset 0 makes containerd truncate it.
    let offset = stat.offset <= size ? stat.offset : 0;
    const resumedAt = offset;
    options.onBytes?.(offset);
    let sent = 0;
    if (offset < size) {
      source = await open(offset);
      const chunk = options.chunkBytes ?? DEFAULT_WRITE_CHUNK_BYTES;
      for await (const data of rechunk(source, chunk)) {
        if (offset + data.length > size) {
          throw new LoadError(
            'IMG_LOAD_DIGEST_MISMATCH',
            `${digest}: the source has more than the expected ${size} bytes`,
          );
        }
        const ok = call.write({ action: 'WRITE', ref, offset, total: size, expected: digest, data });
        offset += data.length;
        sent += data.length;
        replies.expect(offset);
        options.onBytes?.(offset);
        if (!ok) await replies.drain();
      }
      if (offset !== size) {
        throw new LoadError(
          'IMG_LOAD_DIGEST_MISMATCH',
          `${digest}: the source ended after ${offset} of ${size} bytes`,
        );
      }
    }
    call.write({
      action: 'COMMIT',
      ref,
      offset,
      total: size,
      expected: digest,
      labels: options.labels ?? {},
    });
    const committed = await replies.last();
    if (committed.digest && committed.digest !== digest) {
      throw new LoadError('IMG_LOAD_DIGEST_MISMATCH', `${digest}: containerd committed ${committed.digest}`);
    }
    call.end();
    await replies.closed();
    return { status: 'written', bytesSent: sent, resumedAt };
  } catch (err) {
    source?.destroy();
    call.cancel();
    throw err;
  }
}

/**
 * Replies of a Content.Write stream, read as they come so the server never blocks on us. Each
 * WRITE gets one reply; `next()` awaits the first unread one, `last()` the one after every
 * outstanding write (the commit's).
 */
class ReplyQueue<T extends { offset: number }> {
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
async function* rechunk(source: Readable, size: number): AsyncGenerator<Buffer> {
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
