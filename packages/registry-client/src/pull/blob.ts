import { pipeline, type Readable, Readable as ReadableStream } from 'node:stream';
import {
  type BlobLocation,
  type BlobSource,
  createVerifyStream,
  type Descriptor,
  parseDigest,
  skipBytes,
  verifyBytes,
} from '@img/oci-spec';
import { pullScope } from '../auth/scopes.js';
import { publishRetry } from '../diagnostics.js';
import { RegistryError } from '../errors.js';
import { redactUrl } from '../redact.js';
import { dump, readAll } from '../transport/body.js';
import { backoffDelay, isRetryableNetworkError, sleep } from '../transport/retry.js';
import type { SendResponse, Transport } from '../transport/transport.js';
import type { RequestContext } from './manifest.js';

function blobRequest(
  transport: Transport,
  source: BlobLocation,
  descriptor: Descriptor,
  ctx: RequestContext,
) {
  // Parsed before it becomes part of a URL: `sha256:../../x` never reaches the transport.
  parseDigest(descriptor.digest, `${source.registry}/${source.repository}: blob digest`);
  return {
    method: 'GET' as const,
    url: transport.endpoints(source.registry).blob(source.repository, descriptor.digest),
    registry: source.registry,
    repository: source.repository,
    scopes: [pullScope(source.repository)],
    what: 'GET blob',
    blobPool: true,
    ...ctx,
  };
}

/**
 * Open a blob as a stream that is verified on the fly: more bytes than `descriptor.size` fail at once,
 * and a wrong size or digest fails before end-of-stream (IMG_SIZE_MISMATCH / IMG_DIGEST_MISMATCH), so
 * a consumer never sees a clean end of bad content. A connection lost mid-body is resumed with
 * `Range: bytes=<offset>-` (or by skipping what was already delivered when the server ignores Range).
 * Rejects (404 and the like) before returning the stream.
 */
export async function openBlob(
  transport: Transport,
  source: BlobLocation,
  descriptor: Descriptor,
  ctx: RequestContext = {},
): Promise<Readable> {
  const request = blobRequest(transport, source, descriptor, ctx);
  const first = await transport.send({ ...request, expect: [200] });
  const { retry } = transport.config;
  const where = `${source.registry}/${source.repository}@${descriptor.digest}`;

  async function* chunks(): AsyncGenerator<Buffer> {
    let res: SendResponse = first;
    let offset = 0;
    let retries = 0;
    for (;;) {
      // Bytes of this response already delivered earlier (a server that ignored our Range).
      let skip = res.status === 200 ? offset : 0;
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          let c = chunk;
          if (skip > 0) {
            const n = Math.min(skip, c.length);
            skip -= n;
            c = c.subarray(n);
            if (c.length === 0) continue;
          }
          offset += c.length;
          yield c;
        }
        return;
      } catch (err) {
        if (ctx.signal?.aborted || !isRetryableNetworkError(err) || retries >= retry.retries) {
          throw new RegistryError(
            'IMG_REGISTRY_NETWORK_ERROR',
            `GET blob ${where}: connection lost after ${offset} bytes: ${(err as Error).message}`,
            {
              registry: source.registry,
              repository: source.repository,
              retryable: isRetryableNetworkError(err),
              cause: err,
            },
          );
        }
        const delayMs = backoffDelay(retries++, retry);
        if (ctx.stats) ctx.stats.retries++;
        publishRetry({
          method: 'GET',
          url: redactUrl(res.url),
          attempt: retries,
          delayMs,
          reason: 'body interrupted',
        });
        await sleep(delayMs, ctx.signal);
        res = await transport.send({
          ...request,
          headers: { range: `bytes=${offset}-` },
          expect: [200, 206],
        });
      }
    }
  }

  const verify = createVerifyStream({ digest: descriptor.digest, size: descriptor.size }, where);
  return pipeline(ReadableStream.from(chunks(), { objectMode: false }), verify, () => {});
}

/** Fetch a small blob (a config) into memory and verify it. */
export async function fetchBlobBytes(
  transport: Transport,
  source: BlobLocation,
  descriptor: Descriptor,
  maxBytes: number,
  ctx: RequestContext = {},
): Promise<Uint8Array> {
  const where = `${source.registry}/${source.repository}@${descriptor.digest}`;
  if (descriptor.size > maxBytes) {
    throw new RegistryError(
      'IMG_REGISTRY_INVALID_RESPONSE',
      `${where}: ${descriptor.size} bytes exceeds the ${maxBytes}-byte limit`,
    );
  }
  const res = await transport.send({ ...blobRequest(transport, source, descriptor, ctx), expect: [200] });
  const bytes = await readAll(res.body, maxBytes, where);
  verifyBytes(bytes, descriptor.digest, where);
  return bytes;
}

/** HEAD a blob: true when the repository has it. */
export async function blobExists(
  transport: Transport,
  target: BlobLocation,
  descriptor: Pick<Descriptor, 'digest'>,
  scopes: readonly string[],
  ctx: RequestContext = {},
): Promise<boolean> {
  const res = await transport.send({
    method: 'HEAD',
    url: transport.endpoints(target.registry).blob(target.repository, descriptor.digest),
    registry: target.registry,
    repository: target.repository,
    scopes,
    expect: [200, 404],
    what: 'HEAD blob',
    ...ctx,
  });
  await dump(res.body);
  return res.status === 200;
}

/**
 * A blob in a registry repository as a BlobSource: every open() GETs it, verified against the
 * descriptor before its end (and resumed on a lost connection); `offset` skips verified bytes.
 */
export function registryBlobSource(
  transport: Transport,
  location: BlobLocation,
  descriptor: Descriptor,
  ctx: RequestContext = {},
): BlobSource {
  return {
    descriptor,
    open: async (options = {}) => {
      const signal = options.signal ?? ctx.signal;
      const stream = await openBlob(transport, location, descriptor, {
        ...ctx,
        ...(signal ? { signal } : {}),
      });
      return skipBytes(stream, options.offset ?? 0);
    },
  };
}
