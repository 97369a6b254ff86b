/** The single requests of a blob upload session: POST, PATCH, PUT ?digest= and the status GET. */
import { pipeline, Readable } from 'node:stream';
import { type Descriptor, SpecError } from '@img/oci-spec';
import { RegistryError } from '../errors.js';
import { dump } from '../transport/body.js';
import { resolveLocation, withQuery } from '../transport/endpoints.js';
import { header, type RequestStats, type SendResponse, type Transport } from '../transport/transport.js';
import { countBytes } from './byte-streams.js';

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

/** A streaming PATCH the registry refused outright: the caller switches to chunked uploads. */
export class PatchRejected extends Error {}

const SESSION_LOST_CODES = new Set(['BLOB_UPLOAD_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'RANGE_INVALID']);

/** The registry no longer knows the session, or disagrees on its offset: start a new one. */
export function isSessionLost(err: unknown): boolean {
  if (!(err instanceof RegistryError)) return false;
  if (err.distributionCode && SESSION_LOST_CODES.has(err.distributionCode)) return true;
  return err.status === 404 || err.status === 416;
}

export function locationOf(
  ctx: UploadContext,
  res: SendResponse,
  fallback: URL | undefined,
  what: string,
): URL {
  if (header(res, 'location') === undefined && fallback) return fallback;
  return resolveLocation(header(res, 'location'), res.url, `${what} ${ctx.registry}/${ctx.repository}`);
}

export async function startSession(ctx: UploadContext): Promise<URL> {
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

/**
 * A PATCH body: a stream (counted here as it flows), or chunks that report their own sizes through
 * `onBytes` (a file read by `fileChunks`).
 */
export type PatchBody = Readable | AsyncIterable<Buffer>;

export async function patch(
  ctx: UploadContext,
  location: URL,
  body: PatchBody,
  from: number,
  length: number,
  withRange: boolean,
): Promise<URL> {
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'content-length': String(length),
  };
  if (withRange) headers['content-range'] = `${from}-${from + length - 1}`;
  const counted = body instanceof Readable ? pipeline(body, countBytes(ctx.onBytes), () => {}) : body;
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
    if (body instanceof Readable) body.destroy();
    if (contentLengthMismatch(err)) {
      throw new SpecError(
        'IMG_SIZE_MISMATCH',
        `blob upload ${ctx.registry}/${ctx.repository}: the source did not deliver the ${length} bytes its descriptor promises`,
        { cause: err },
      );
    }
    if (
      !withRange &&
      err instanceof RegistryError &&
      err.status &&
      STREAM_REJECTED.has(err.status) &&
      !isSessionLost(err)
    ) {
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

export async function putDigest(ctx: UploadContext, descriptor: Descriptor, location: URL): Promise<void> {
  const res = await ctx.transport
    .send({
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
    })
    .catch((err: unknown) => {
      // The registry hashed what we sent and it is not this digest: the source changed or lied.
      if (err instanceof RegistryError && err.distributionCode === 'DIGEST_INVALID') {
        throw new SpecError(
          'IMG_DIGEST_MISMATCH',
          `${ctx.registry}/${ctx.repository}@${descriptor.digest}: digest mismatch: the registry computed another digest for the bytes sent`,
          { cause: err },
        );
      }
      throw err;
    });
  await dump(res.body);
}

function contentLengthMismatch(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    if ((e as { code?: unknown }).code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** `0-1023` -> 1023. */
function rangeEnd(range: string): number | undefined {
  const m = /^(?:bytes=)?(\d+)-(\d+)$/.exec(range.trim());
  return m ? Number(m[2]) : undefined;
}

/** Where an interrupted session stands: GET the upload URL (204 + Range), or undefined when it is gone. */
export async function sessionOffset(
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
