import { pipeline, type Readable } from 'node:stream';
import { createVerifyStream, type Descriptor, ImgError } from '@img/oci-spec';
import { publishRetry } from '../diagnostics.js';
import { RegistryError } from '../errors.js';
import type { UploadMode } from '../options.js';
import { blobExists } from '../pull/blob.js';
import { backoffDelay, isRetryableNetworkError, retryAfterAcceptable, sleep } from '../transport/retry.js';
import type { Transport } from '../transport/transport.js';
import { ByteSlicer, skipBytes } from './byte-streams.js';
import { fileChunks, fileRangeOf, isRegularFile } from './file-body.js';
import {
  isSessionLost,
  type PatchBody,
  PatchRejected,
  patch,
  putDigest,
  sessionOffset,
  startSession,
  type UploadContext,
} from './upload-requests.js';

export type { UploadContext } from './upload-requests.js';

/** Opens the blob's bytes from the start; `verify` asks for a digest/size check on the client while sending. */
export interface BlobOpener {
  open(): Promise<Readable>;
  readonly verify: boolean;
}

/** Per-registry memory of a rejected streaming PATCH, so the next blobs go chunked at once. */
const chunkedRegistries = new WeakMap<Transport, Set<string>>();

/**
 * Upload one blob into a session (`start` from a mount's 202, else a new POST): one streaming PATCH
 * with Content-Length (or chunked PATCHes with Content-Range), then `PUT ?digest=`. This loop repeats
 * only what the retry layer below cannot: a PATCH (its body is a stream) that broke or got a retryable
 * status is resumed from the offset the session reports (GET the upload URL, `Range`) with
 * Content-Range, and a session the registry lost is restarted with a new POST, `retry.retries` times
 * in all. The POST, PUT and status GET were already retried below: their other failures are final.
 */
export async function uploadBlob(
  ctx: UploadContext,
  descriptor: Descriptor,
  opener: BlobOpener,
  mode: UploadMode,
  start?: URL,
): Promise<void> {
  const { transport } = ctx;
  const { retry } = transport.config;
  const remembered = chunkedRegistries.get(transport) ?? new Set<string>();
  chunkedRegistries.set(transport, remembered);
  if (remembered.has(ctx.registry)) mode = 'chunked';
  const where = `${ctx.registry}/${ctx.repository}@${descriptor.digest}`;
  let location = start;
  let offset = 0;
  let attempt = 0;
  for (;;) {
    let step: 'start' | 'patch' | 'put' = 'start';
    try {
      if (!location) {
        location = await startSession(ctx);
        offset = 0;
      }
      step = 'patch';
      if (descriptor.size > offset) {
        location =
          mode === 'stream'
            ? await patchRest(ctx, descriptor, opener, location, offset, where)
            : await patchChunks(ctx, descriptor, opener, location, offset, where);
      }
      offset = descriptor.size;
      step = 'put';
      await putDigest(ctx, descriptor, location);
      return;
    } catch (err) {
      if (err instanceof PatchRejected && mode === 'stream') {
        mode = 'chunked';
        remembered.add(ctx.registry);
        location = undefined;
        continue;
      }
      // A 404 to the POST is the repository, not a session.
      const lost = step !== 'start' && isSessionLost(err);
      const resumable = step === 'patch' && isRetryable(err);
      const retryAfterMs = err instanceof RegistryError ? err.retryAfterMs : undefined;
      if (
        ctx.signal?.aborted ||
        !(lost || resumable) ||
        attempt >= retry.retries ||
        !retryAfterAcceptable(retryAfterMs, retry)
      ) {
        throw unwrap(err);
      }
      const delayMs = backoffDelay(attempt++, retry, retryAfterMs);
      ctx.stats.retries++;
      publishRetry({ method: 'PATCH', url: where, attempt, delayMs, reason: (err as Error).message });
      await sleep(delayMs, ctx.signal);
      // A PUT whose answer was lost may have completed (its retry then finds no session): check first.
      if (await blobExists(transport, ctx, descriptor, ctx.scopes, ctx)) return;
      const status = location && !lost ? await sessionOffset(ctx, location) : undefined;
      location = status?.location;
      offset = status?.offset ?? 0;
      ctx.onOffset(offset);
    }
  }
}

function isRetryable(err: unknown): boolean {
  if (err instanceof RegistryError) return err.retryable;
  if (err instanceof ImgError) return false;
  return isRetryableNetworkError(err);
}

function unwrap(err: unknown): unknown {
  return err instanceof PatchRejected ? err.cause : err;
}

/** `source` from `offset` to the end, verified on the way when the opener asks for it. */
function fromOffset(
  source: Readable,
  verify: boolean,
  descriptor: Descriptor,
  offset: number,
  where: string,
): Readable {
  const streams: NodeJS.ReadWriteStream[] = [];
  if (verify) streams.push(createVerifyStream({ digest: descriptor.digest, size: descriptor.size }, where));
  if (offset > 0) streams.push(skipBytes(offset));
  if (streams.length === 0) return source;
  return pipeline([source, ...streams], () => {}) as unknown as Readable;
}

/** Source bytes from `offset` to the end, verified on the way when the opener asks for it. */
async function openFrom(
  opener: BlobOpener,
  descriptor: Descriptor,
  offset: number,
  where: string,
): Promise<Readable> {
  return fromOffset(await opener.open(), opener.verify, descriptor, offset, where);
}

async function patchRest(
  ctx: UploadContext,
  descriptor: Descriptor,
  opener: BlobOpener,
  location: URL,
  offset: number,
  where: string,
): Promise<URL> {
  const source = await opener.open();
  const file = fileRangeOf(source);
  let body: PatchBody;
  if (file && (await isRegularFile(file.path))) {
    // A file: read it ourselves into two recycled buffers (no allocation per chunk) and seek instead
    // of skipping on a resume.
    source.destroy();
    body = fileChunks(file, descriptor, {
      offset,
      verify: opener.verify,
      recycle: ctx.transport.ownsDispatchers,
      onChunk: ctx.onBytes,
      where,
    });
  } else {
    body = fromOffset(source, opener.verify, descriptor, offset, where);
  }
  // A fresh session gets the plain streaming PATCH (the de-facto protocol); a resume names its range.
  return patch(ctx, location, body, offset, descriptor.size - offset, offset > 0);
}

async function patchChunks(
  ctx: UploadContext,
  descriptor: Descriptor,
  opener: BlobOpener,
  location: URL,
  offset: number,
  where: string,
): Promise<URL> {
  const slicer = new ByteSlicer(await openFrom(opener, descriptor, offset, where));
  try {
    let at = offset;
    while (at < descriptor.size) {
      const length = Math.min(ctx.chunkSize, descriptor.size - at);
      location = await patch(ctx, location, slicer.slice(length), at, length, true);
      at += length;
      ctx.onOffset(at);
    }
    await slicer.finish();
    return location;
  } finally {
    slicer.destroy();
  }
}
