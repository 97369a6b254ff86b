import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { canAdopt } from '../blob-store.js';
import type { RegistryContext } from '../context.js';
import { type BlobDigest, isDigestAlgorithm } from '../digests.js';
import { contentLength, requestBody } from '../http/body.js';
import { digestInvalid, HttpError } from '../http/http-error.js';
import { digestParam, hasBody } from '../http/params.js';
import { sendEmpty } from '../http/respond.js';
import { type UploadSession, uploadLocation, uploadRange } from '../uploads.js';

function sessionHeaders(session: UploadSession): Record<string, string> {
  return {
    Location: uploadLocation(session),
    Range: uploadRange(session),
    'Docker-Upload-UUID': session.id,
  };
}

function blobCreated(res: ServerResponse, name: string, digest: BlobDigest): void {
  sendEmpty(res, 201, {
    Location: `/v2/${name}/blobs/${digest.value}`,
    'Docker-Content-Digest': digest.value,
  });
}

/** `Content-Range: <first>-<last>` of a chunk, as start and length; undefined when absent. */
function chunkRange(req: IncomingMessage): { start: number; length: number } | undefined {
  const header = req.headers['content-range'];
  if (header === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(header.trim());
  if (!m || Number(m[2]) < Number(m[1])) {
    throw new HttpError(416, 'BLOB_UPLOAD_INVALID', `invalid Content-Range ${JSON.stringify(header)}`);
  }
  return { start: Number(m[1]), length: Number(m[2]) - Number(m[1]) + 1 };
}

/** Appends the request body to the upload, at its `Content-Range` when it has one. */
async function appendChunk(
  ctx: RegistryContext,
  req: IncomingMessage,
  session: UploadSession,
): Promise<void> {
  const range = chunkRange(req);
  const body = requestBody(req, ctx.limits.maxBlobBytes, 'blob');
  await ctx.uploads.append(session, body, range?.start, range?.length);
}

/**
 * POST /v2/<name>/blobs/uploads/: a cross-repository mount (201 when the registry holds the blob, with or
 * without `from`), a single-request upload (`?digest=` with the body), or a new upload session (202).
 */
export async function startUpload(
  ctx: RegistryContext,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  query: URLSearchParams,
): Promise<void> {
  const mount = query.get('mount');
  if (mount !== null) {
    const digest = digestParam(mount, 'mount');
    const mounted = await ctx.lock.withShared(async () => {
      if (!(await ctx.blobs.stat(digest))) return false;
      await ctx.repositories.linkBlobs(name, [digest]);
      ctx.keepAlive?.touch(digest.value);
      return true;
    });
    if (mounted) {
      blobCreated(res, name, digest);
      return;
    }
    // Not held here: the client uploads it through the session started below.
  } else if (query.get('digest') !== null) {
    const digest = digestParam(query.get('digest'));
    const size = contentLength(req);
    const body = requestBody(req, ctx.limits.maxBlobBytes, 'blob');
    await ctx.lock.withShared(async () => {
      await ctx.blobs.write(digest, body, size !== undefined ? { size } : {});
      await ctx.repositories.linkBlobs(name, [digest]);
      ctx.keepAlive?.touch(digest.value);
    });
    blobCreated(res, name, digest);
    return;
  }
  const algorithm = query.get('digest-algorithm') ?? 'sha256';
  if (!isDigestAlgorithm(algorithm)) throw digestInvalid(`unsupported digest-algorithm ${algorithm}`);
  const session = await ctx.uploads.start(name, algorithm);
  sendEmpty(res, 202, sessionHeaders(session));
}

/** PATCH <upload>: appends a chunk (in order: anything else is a 416 with the current Range). */
export async function patchUpload(
  ctx: RegistryContext,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  id: string,
): Promise<void> {
  const session = await ctx.uploads.get(name, id);
  await appendChunk(ctx, req, session);
  sendEmpty(res, 202, sessionHeaders(session));
}

/** PUT <upload>?digest=: appends the last chunk if there is one, verifies the whole blob, stores it. */
export async function finishUpload(
  ctx: RegistryContext,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  id: string,
  query: URLSearchParams,
): Promise<void> {
  const session = await ctx.uploads.get(name, id);
  const digest = digestParam(query.get('digest'));
  if (hasBody(req)) await appendChunk(ctx, req, session);
  const actual = await ctx.uploads.digest(session, digest.algorithm);
  if (actual !== digest.value) {
    await ctx.uploads.remove(session);
    throw digestInvalid(`upload ${id}: content hashes to ${actual}, not ${digest.value}`);
  }
  await ctx.lock.withShared(async () => {
    const path = ctx.uploads.dataPath(session);
    if (canAdopt(ctx.blobs)) await ctx.blobs.adopt(digest, path, session.size);
    else await ctx.blobs.write(digest, createReadStream(path), { size: session.size });
    await ctx.repositories.linkBlobs(name, [digest]);
    ctx.keepAlive?.touch(digest.value);
  });
  await ctx.uploads.remove(session);
  blobCreated(res, name, digest);
}

/** GET <upload>: where the upload stands (204 with Range), for resuming after a 416. */
export async function uploadStatus(
  ctx: RegistryContext,
  res: ServerResponse,
  name: string,
  id: string,
): Promise<void> {
  sendEmpty(res, 204, sessionHeaders(await ctx.uploads.get(name, id)));
}

/** DELETE <upload>: cancels the upload and drops its bytes. */
export async function cancelUpload(
  ctx: RegistryContext,
  res: ServerResponse,
  name: string,
  id: string,
): Promise<void> {
  await ctx.uploads.remove(await ctx.uploads.get(name, id));
  sendEmpty(res, 204);
}
