import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RegistryContext } from '../context.js';
import { isBlobNotFound } from '../errors.js';
import { blobUnknown } from '../http/http-error.js';
import { digestParam } from '../http/params.js';
import { parseRange } from '../http/range.js';
import { sendEmpty } from '../http/respond.js';

/**
 * Passes bytes through and fails at the end unless exactly `size` went by. The last chunk is held back
 * until the source has ended cleanly: a source that checks its bytes at its end (a CAS read verifies the
 * digest) fails before the client has all of Content-Length, so it sees an aborted transfer, never a
 * complete-looking wrong body.
 */
function exactly(size: number, what: string): Transform {
  let seen = 0;
  let held: Buffer | undefined;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      if (seen > size) {
        cb(new Error(`${what}: the store sent more than ${size} bytes`));
        return;
      }
      if (held) this.push(held);
      held = chunk;
      cb();
    },
    flush(cb: TransformCallback) {
      if (seen !== size) {
        cb(new Error(`${what}: the store sent ${seen} of ${size} bytes`));
        return;
      }
      cb(null, held);
    },
  });
}

/**
 * GET/HEAD /v2/<name>/blobs/<digest>: a blob linked into the repository, whole or one byte range. A blob
 * the store lost is a clean 404 BLOB_UNKNOWN: the store is asked before any header goes out.
 */
export async function getBlob(
  ctx: RegistryContext,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  reference: string,
): Promise<void> {
  const digest = digestParam(reference);
  if (!(await ctx.repositories.hasBlobLink(name, digest))) throw blobUnknown(name, digest.value);
  const stat = await ctx.blobs.stat(digest);
  if (!stat) throw blobUnknown(name, digest.value);
  ctx.keepAlive?.touch(digest.value);
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest.value,
    'Accept-Ranges': 'bytes',
    ETag: `"${digest.value}"`,
  };
  if (req.method === 'HEAD') {
    sendEmpty(res, 200, { ...headers, 'Content-Length': String(stat.size) });
    return;
  }
  const range = parseRange(req.headers.range, stat.size);
  let body: NodeJS.ReadableStream;
  try {
    body = await ctx.blobs.open(digest, range ? { offset: range.offset, length: range.length } : {});
  } catch (err) {
    if (isBlobNotFound(err)) throw blobUnknown(name, digest.value);
    throw err;
  }
  res.writeHead(range ? 206 : 200, {
    ...headers,
    'Content-Length': String(range ? range.length : stat.size),
    ...(range
      ? { 'Content-Range': `bytes ${range.offset}-${range.offset + range.length - 1}/${stat.size}` }
      : {}),
  });
  // A failure mid-body, or a store yielding fewer bytes than announced, destroys the response: the
  // client sees an aborted transfer, never a body that looks complete.
  await pipeline(body, exactly(range ? range.length : stat.size, digest.value), res).catch((err) => {
    res.destroy(err);
  });
}

/** DELETE /v2/<name>/blobs/<digest>: unlinks the blob from the repository (the bytes go with --ttl). */
export async function deleteBlob(
  ctx: RegistryContext,
  res: ServerResponse,
  name: string,
  reference: string,
): Promise<void> {
  const digest = digestParam(reference);
  const removed = await ctx.lock.withShared(() => ctx.repositories.unlinkBlob(name, digest));
  if (!removed) throw blobUnknown(name, digest.value);
  sendEmpty(res, 202, { 'Docker-Content-Digest': digest.value });
}
