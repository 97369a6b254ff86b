import type { Readable } from 'node:stream';
import type { AbortOptions, Descriptor } from '@img/oci-spec';
import { LoadError } from '../errors.js';
import { type ContainerdClient, grpc, hasCode, rpcError } from './client.js';
import { ReplyQueue, rechunk } from './write-stream.js';

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

export interface WriteBlobOptions extends AbortOptions {
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
      if (options.signal?.aborted) throw options.signal.reason;
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
  options.signal?.throwIfAborted();
  const call = client.openWrite(options.lease);
  const replies = new ReplyQueue<WriteResponse>(call);
  let source: Readable | undefined;
  // Aborting cancels the stream: containerd drops the ingest's writer (the lease still holds it).
  const onAbort = () => {
    source?.destroy(options.signal!.reason);
    call.cancel();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
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
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
