import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { createVerifyStream, ImgError } from '@img/oci-spec';
import { type BlobRef, writeResourceName } from './blob-ref.js';
import type { Connection } from './connection.js';
import { backoff, grpcCodeOf, isRetryableCode, type RetryOptions } from './retry.js';

/** Something that opens a fresh stream of a blob's bytes from the start (a BlobSource is one). */
export interface BlobOpener {
  open(options?: { signal?: AbortSignal }): Promise<Readable>;
}

export interface ByteStreamWriteOptions {
  readonly connection: Connection;
  readonly instanceName: string;
  readonly blob: BlobRef;
  readonly content: BlobOpener;
  readonly retry: Required<RetryOptions>;
  readonly timeoutMs: number;
  readonly chunkBytes: number;
  readonly signal?: AbortSignal;
}

/**
 * Upload a blob with ByteStream.Write. The bytes are checked against the digest and size as they are
 * sent, and `finish_write` goes out only after the check passed, so a wrong source never commits. A
 * broken upload asks QueryWriteStatus where to go on and resumes there (the bytes before it are read
 * and hashed again, not sent); a server without it (UNIMPLEMENTED) gets the upload again from 0.
 */
export async function byteStreamWrite(o: ByteStreamWriteOptions): Promise<void> {
  let resource = writeResourceName(o.instanceName, randomUUID(), o.blob);
  let offset = 0;
  let failures = 0;
  for (;;) {
    o.signal?.throwIfAborted();
    const progress = { committed: offset };
    try {
      await writeOnce(o, resource, offset, progress);
      return;
    } catch (err) {
      // The source's own failures (a missing file, wrong bytes) are not the cache's: passed on as they are.
      if (err instanceof ImgError || grpcCodeOf(err) === undefined || o.signal?.aborted) throw err;
      if (!isRetryableCode(grpcCodeOf(err))) throw o.connection.error(err, `writing ${o.blob.digest}`);
      failures = progress.committed > offset ? 1 : failures + 1;
      if (failures >= o.retry.attempts) throw o.connection.error(err, `writing ${o.blob.digest}`);
      await backoff(failures, o.retry, o.signal);
      const resume = await queryWriteStatus(o, resource);
      if (resume === 'complete') return;
      if (resume === undefined) {
        resource = writeResourceName(o.instanceName, randomUUID(), o.blob);
        offset = 0;
      } else {
        offset = resume;
      }
    }
  }
}

/** Where the server says an upload stands: committed bytes, 'complete', or undefined to start over. */
async function queryWriteStatus(
  o: ByteStreamWriteOptions,
  resource: string,
): Promise<number | 'complete' | undefined> {
  try {
    const res = await o.connection.unary<{ committed_size: number; complete: boolean }>(
      'bytestream',
      'QueryWriteStatus',
      { resource_name: resource },
      { timeoutMs: o.timeoutMs, signal: o.signal },
    );
    if (res.complete) return 'complete';
    const committed = Number(res.committed_size);
    return Number.isSafeInteger(committed) && committed > 0 && committed <= o.blob.size
      ? committed
      : undefined;
  } catch (err) {
    if (o.signal?.aborted) throw err;
    return undefined; // UNIMPLEMENTED, NOT_FOUND, or unreachable: the next attempt starts over
  }
}

async function writeOnce(
  o: ByteStreamWriteOptions,
  resource: string,
  offset: number,
  progress: { committed: number },
): Promise<void> {
  const { connection, blob } = o;
  const md = await connection.metadata('bytestream', o.signal);
  const source = await o.content.open({ signal: o.signal });
  connection.publish({ method: 'bytestream.Write', resource, offset });
  let call!: grpc.ClientWritableStream<unknown>;
  const response = new Promise<{ committed_size: number }>((resolve, reject) => {
    call = connection.clientStream('bytestream', 'Write', md, (err, res) =>
      err ? reject(err) : resolve(res as { committed_size: number }),
    );
  });
  let answered = false;
  const answer = response.then(
    (res) => {
      answered = true;
      return res;
    },
    (err: unknown) => {
      answered = true;
      throw err;
    },
  );
  answer.catch(() => {});
  const onAbort = () => call.cancel();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const verified = pipeline(source, createVerifyStream(blob, `${blob.digest} (upload source)`), () => {});
  let writeOffset = offset;
  let first = true;
  let skipped = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const send = async (data: Buffer, finish: boolean) => {
    const message = {
      resource_name: first ? resource : '',
      write_offset: writeOffset,
      finish_write: finish,
      data,
    };
    first = false;
    writeOffset += data.length;
    if (!call.write(message)) {
      const timeout = AbortSignal.timeout(o.timeoutMs);
      await Promise.race([
        once(call, 'drain', { signal: timeout }).catch(() => {
          throw deadlineError(`upload stalled for ${o.timeoutMs} ms`);
        }),
        answer,
      ]);
    }
    progress.committed = writeOffset;
  };
  try {
    for await (const chunk of verified as AsyncIterable<Buffer>) {
      if (answered) break;
      let data = chunk;
      if (skipped < offset) {
        const skip = Math.min(offset - skipped, data.length);
        skipped += skip;
        data = data.subarray(skip);
        if (data.length === 0) continue;
      }
      pending.push(data);
      pendingBytes += data.length;
      while (pendingBytes >= o.chunkBytes) {
        // One source chunk of exactly the message size (the common case) goes out without a copy.
        const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
        await send(all.subarray(0, o.chunkBytes), false);
        pending = pendingBytes > o.chunkBytes ? [all.subarray(o.chunkBytes)] : [];
        pendingBytes -= o.chunkBytes;
      }
    }
    if (!answered) {
      await send(Buffer.concat(pending, pendingBytes), true);
      call.end();
    }
    const res = await Promise.race([answer, stalled(o.timeoutMs, 'no answer to the finished upload')]);
    const committed = Number(res.committed_size);
    if (committed !== blob.size && committed !== -1) {
      throw connection.error(
        Object.assign(new Error(`server committed ${committed} of ${blob.size} bytes`), {
          code: status.DATA_LOSS,
        }),
        `writing ${blob.digest}`,
      );
    }
  } catch (err) {
    call.cancel();
    throw err;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    verified.destroy();
  }
}

function deadlineError(message: string): Error {
  return Object.assign(new Error(message), { code: status.DEADLINE_EXCEEDED });
}

/** Rejects with a retryable DEADLINE_EXCEEDED after `ms` (the timer does not keep the process alive). */
function stalled(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) =>
    setTimeout(() => reject(deadlineError(`${what} within ${ms} ms`)), ms).unref(),
  );
}
