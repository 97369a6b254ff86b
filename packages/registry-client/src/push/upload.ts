import { pipeline, type Readable } from 'node:stream';
import { createVerifyStream, type Descriptor, ImgError } from '@img/oci-spec';
import { publishRetry } from '../diagnostics.js';
import { RegistryError } from '../errors.js';
import type { UploadMode } from '../options.js';
import { blobExists } from '../pull/blob.js';
import { dump } from '../transport/body.js';
import { resolveLocation, withQuery } from '../transport/endpoints.js';
import { backoffDelay, isRetryableNetworkError, sleep } from '../transport/retry.js';
import { header, type RequestStats, type SendResponse, type Transport } from '../transport/transport.js';
import { ByteSlicer, countBytes, skipBytes } from './byte-streams.js';

/** Opens the blob's bytes from the start; `verified` when the stream already checks digest and size. */
export interface BlobOpener {
  open(): Promise<Readable>;
  readonly verified: boolean;
}

export interface UploadContext {
  readonly transport: Transport;
  readonly registry: string;
  readonly repository: string;
  readonly scopes: readonly string[];
  readonly stats: RequestStats;
  readonly signal?: AbortSignal;
  readonly chunkSize: number;
  /** Called with the number of bytes as they are sent (retried bytes included). */
  readonly onBytes: (n: number) => void;
  /** Called with the blob's acknowledged offset after a resume or a chunk. */
  readonly onOffset: (offset: number) => void;
}

/** Statuses that mean "this registry does not take a streaming PATCH": switch to chunked. */
const STREAM_REJECTED = new Set([400, 405, 411, 413, 415, 416]);

/** Per-registry memory of a rejected streaming PATCH, so the next blobs go chunked at once. */
const chunkedRegistries = new WeakMap<Transport, Set<string>>();

class PatchRejected extends Error {}

/**
 * Upload one blob into a session (`start` from a mount's 202, else a new POST): one streaming PATCH
 * with Content-Length (or chunked PATCHes with Content-Range), then `PUT ?digest=`. On a broken
 * connection or a retryable status it asks the session for its offset (GET the upload URL, `Range`)
 * and resumes from there with Content-Range; a session the registry lost is restarted with a new POST.
 */
export async function uploadBlob(
  ctx: UploadContext,
  descriptor: Descriptor,
  opener: BlobOpener,
  mode: UploadMode,
  start?: URL,
): Promise<void> {
  const { transport } = ctx;
  const remembered = chunkedRegistries.get(transport) ?? new Set<string>();
  chunkedRegistries.set(transport, remembered);
  if (remembered.has(ctx.registry)) mode = 'chunked';
  const where = `${ctx.registry}/${ctx.repository}@${descriptor.digest}`;
  let location = start;
  let offset = 0;
  let attempt = 0;
  for (;;) {
    try {
      if (!location) {
        location = await startSession(ctx);
        offset = 0;
      }
      if (descriptor.size > offset) {
        location =
          mode === 'stream'
            ? await patchRest(ctx, descriptor, opener, location, offset, where)
            : await patchChunks(ctx, descriptor, opener, location, offset, where);
      }
      offset = descriptor.size;
      await putDigest(ctx, descriptor, location);
      return;
    } catch (err) {
      if (err instanceof PatchRejected && mode === 'stream') {
        mode = 'chunked';
        remembered.add(ctx.registry);
        location = undefined;
        continue;
      }
      if (ctx.signal?.aborted || !isRetryable(err) || attempt >= transport.config.retry.retries)
        throw unwrap(err);
      const delayMs = backoffDelay(attempt++, transport.config.retry);
      ctx.stats.retries++;
      publishRetry({ method: 'PATCH', url: where, attempt, delayMs, reason: (err as Error).message });
      await sleep(delayMs, ctx.signal);
      // An interrupted PUT may have completed: then the blob is there and we are done.
      if (await blobExists(transport, ctx, descriptor, ctx.scopes, ctx)) return;
      const status = location ? await sessionOffset(ctx, location) : undefined;
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

function locationOf(ctx: UploadContext, res: SendResponse, fallback: URL | undefined, what: string): URL {
  if (header(res, 'location') === undefined && fallback) return fallback;
  return resolveLocation(header(res, 'location'), res.url, `${what} ${ctx.registry}/${ctx.repository}`);
}

async function startSession(ctx: UploadContext): Promise<URL> {
  const res = await ctx.transport.send({
    method: 'POST',
    url: ctx.transport.endpoints(ctx.registry).uploads(ctx.repository),
    registry: ctx.registry,
    repository: ctx.repository,
    scopes: ctx.scopes,
    headers: { 'content-length': '0' },
    body: '',
    expect: [202],
    what: 'POST blob upload',
    stats: ctx.stats,
    signal: ctx.signal,
  });
  await dump(res.body);
  return locationOf(ctx, res, undefined, 'POST blob upload');
}

/** Source bytes from `offset` to the end, verified unless the opener already verifies. */
async function openFrom(
  opener: BlobOpener,
  descriptor: Descriptor,
  offset: number,
  where: string,
): Promise<Readable> {
  const streams: NodeJS.ReadWriteStream[] = [];
  if (!opener.verified)
    streams.push(createVerifyStream({ digest: descriptor.digest, size: descriptor.size }, where));
  if (offset > 0) streams.push(skipBytes(offset));
  const source = await opener.open();
  if (streams.length === 0) return source;
  return pipeline([source, ...streams], () => {}) as unknown as Readable;
}

async function patch(
  ctx: UploadContext,
  location: URL,
  body: Readable,
  from: number,
  length: number,
  withRange: boolean,
): Promise<URL> {
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'content-length': String(length),
  };
  if (withRange) headers['content-range'] = `${from}-${from + length - 1}`;
  const counted = pipeline(body, countBytes(ctx.onBytes), () => {});
  let res: SendResponse;
  try {
    res = await ctx.transport.send({
      method: 'PATCH',
      url: location,
      registry: ctx.registry,
      repository: ctx.repository,
      scopes: ctx.scopes,
      headers,
      body: counted,
      expect: [201, 202, 204],
      what: 'PATCH blob upload',
      stats: ctx.stats,
      signal: ctx.signal,
    });
  } catch (err) {
    body.destroy();
    if (!withRange && err instanceof RegistryError && err.status && STREAM_REJECTED.has(err.status)) {
      throw new PatchRejected(err.message, { cause: err });
    }
    throw err;
  }
  await dump(res.body);
  const range = header(res, 'range');
  const end = range ? rangeEnd(range) : undefined;
  if (end !== undefined && end + 1 !== from + length && !(from + length === 0 && end === 0)) {
    throw new RegistryError(
      'IMG_REGISTRY_INVALID_RESPONSE',
      `PATCH blob upload ${ctx.registry}/${ctx.repository}: registry acknowledged ${end + 1} bytes, sent ${from + length}`,
      { registry: ctx.registry, repository: ctx.repository, status: res.status, retryable: true },
    );
  }
  return locationOf(ctx, res, location, 'PATCH blob upload');
}

async function patchRest(
  ctx: UploadContext,
  descriptor: Descriptor,
  opener: BlobOpener,
  location: URL,
  offset: number,
  where: string,
): Promise<URL> {
  const body = await openFrom(opener, descriptor, offset, where);
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

async function putDigest(ctx: UploadContext, descriptor: Descriptor, location: URL): Promise<void> {
  const res = await ctx.transport.send({
    method: 'PUT',
    url: withQuery(location, 'digest', descriptor.digest),
    registry: ctx.registry,
    repository: ctx.repository,
    scopes: ctx.scopes,
    headers: { 'content-length': '0' },
    body: '',
    expect: [201],
    what: 'PUT blob upload',
    stats: ctx.stats,
    signal: ctx.signal,
  });
  await dump(res.body);
}

/** `0-1023` -> 1023. */
function rangeEnd(range: string): number | undefined {
  const m = /^(?:bytes=)?(\d+)-(\d+)$/.exec(range.trim());
  return m ? Number(m[2]) : undefined;
}

/** Where an interrupted session stands: GET the upload URL (204 + Range), or undefined when it is gone. */
async function sessionOffset(
  ctx: UploadContext,
  location: URL,
): Promise<{ location: URL; offset: number } | undefined> {
  let res: SendResponse;
  try {
    res = await ctx.transport.send({
      method: 'GET',
      url: location,
      registry: ctx.registry,
      repository: ctx.repository,
      scopes: ctx.scopes,
      expect: [204, 200],
      what: 'GET blob upload status',
      stats: ctx.stats,
      signal: ctx.signal,
      followRedirects: false,
    });
  } catch (err) {
    if (err instanceof RegistryError) return undefined;
    throw err;
  }
  await dump(res.body);
  const range = header(res, 'range');
  const end = range ? rangeEnd(range) : undefined;
  // "0-0" is ambiguous (nothing or one byte); restarting the session costs nothing then.
  if (end === undefined || end === 0) return undefined;
  return { location: locationOf(ctx, res, location, 'GET blob upload status'), offset: end + 1 };
}
