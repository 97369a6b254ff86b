import { pipeline, type Readable } from 'node:stream';
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
import { RegistryError } from '../errors.js';
import { dump, readAll } from '../transport/body.js';
import type { Transport } from '../transport/transport.js';
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
    resumable: true,
    ...ctx,
  };
}

/**
 * Open a blob as a stream that is verified on the fly: more bytes than `descriptor.size` fail at once,
 * and a wrong size or digest fails before end-of-stream (IMG_SIZE_MISMATCH / IMG_DIGEST_MISMATCH), so
 * a consumer never sees a clean end of bad content. A connection lost mid-body is resumed by the
 * retry layer with `Range: bytes=<offset>-` (or by skipping what was already delivered when the server
 * ignores Range). Rejects (404 and the like) before returning the stream.
 */
export async function openBlob(
  transport: Transport,
  source: BlobLocation,
  descriptor: Descriptor,
  ctx: RequestContext = {},
): Promise<Readable> {
  const res = await transport.send({ ...blobRequest(transport, source, descriptor, ctx), expect: [200] });
  const where = `${source.registry}/${source.repository}@${descriptor.digest}`;

  const verify = createVerifyStream({ digest: descriptor.digest, size: descriptor.size }, where);
  return pipeline(res.body, verify, () => {});
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
