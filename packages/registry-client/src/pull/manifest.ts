import {
  type Descriptor,
  type Digest,
  documentKind,
  isDigest,
  isIndex,
  isManifest,
  isSchema1,
  MANIFEST_ACCEPT,
  MediaType,
  parseJson,
  sha256Digest,
  verifyBytes,
} from '@img/oci-spec';
import { pullScope } from '../auth/scopes.js';
import { RegistryError } from '../errors.js';
import { formatReference, manifestReference, type Reference } from '../reference.js';
import { dump, readAll } from '../transport/body.js';
import { header, type RequestStats, type Transport } from '../transport/transport.js';

/** A manifest or index exactly as received (or to be sent), with its descriptor. */
export interface RawDocument {
  readonly descriptor: Descriptor;
  readonly bytes: Uint8Array;
}

export interface RequestContext {
  readonly stats?: RequestStats;
  readonly signal?: AbortSignal;
}

const ACCEPT = MANIFEST_ACCEPT.join(', ');

function contentType(value: string | undefined): string | undefined {
  const ct = value?.split(';')[0]?.trim();
  return ct === '' ? undefined : ct;
}

/**
 * The media type of a fetched manifest: the Content-Type when it is a manifest type, else the
 * document's `mediaType`, else its shape (OCI documents may omit `mediaType`).
 */
export function manifestMediaType(bytes: Uint8Array, declared: string | undefined, where: string): string {
  const ct = contentType(declared);
  if (ct && isSchema1(ct)) {
    throw new RegistryError(
      'IMG_REGISTRY_UNSUPPORTED_MEDIA_TYPE',
      `${where}: Docker schema 1 manifests are not supported`,
    );
  }
  const doc = parseJson(bytes, where) as { mediaType?: unknown };
  const field = typeof doc?.mediaType === 'string' ? doc.mediaType : undefined;
  const mediaType = ct && (isIndex(ct) || isManifest(ct)) ? ct : field;
  let kind: 'index' | 'manifest';
  try {
    kind = documentKind(doc, mediaType);
  } catch (err) {
    throw new RegistryError('IMG_REGISTRY_UNSUPPORTED_MEDIA_TYPE', `${where}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (mediaType && (isIndex(mediaType) || isManifest(mediaType))) return mediaType;
  return kind === 'index' ? MediaType.OciIndex : MediaType.OciManifest;
}

/**
 * GET a manifest or index by tag or digest with the full Accept list. The bytes are kept exactly and
 * verified: against the requested digest, else against Docker-Content-Digest when the registry sent one.
 */
export async function fetchManifest(
  transport: Transport,
  ref: Reference,
  maxBytes: number,
  ctx: RequestContext = {},
): Promise<RawDocument> {
  const where = formatReference(ref);
  const res = await transport.send({
    method: 'GET',
    url: transport.endpoints(ref.registry).manifest(ref.repository, manifestReference(ref)),
    registry: ref.registry,
    repository: ref.repository,
    scopes: [pullScope(ref.repository)],
    headers: { accept: ACCEPT },
    expect: [200],
    what: 'GET manifest',
    ...ctx,
  });
  const bytes = await readAll(res.body, maxBytes, where);
  const sent = header(res, 'docker-content-digest');
  let digest: Digest;
  if (ref.digest) {
    verifyBytes(bytes, ref.digest, where);
    digest = ref.digest;
  } else if (sent && isDigest(sent) && sent.startsWith('sha256:')) {
    verifyBytes(bytes, sent, `${where} (Docker-Content-Digest)`);
    digest = sent;
  } else {
    digest = sha256Digest(bytes);
  }
  const mediaType = manifestMediaType(bytes, header(res, 'content-type'), where);
  return { descriptor: { mediaType, digest, size: bytes.length }, bytes };
}

/** HEAD a manifest: its descriptor, or undefined when the registry does not have it. */
export async function headManifest(
  transport: Transport,
  ref: Reference,
  ctx: RequestContext = {},
): Promise<Descriptor | undefined> {
  const res = await transport.send({
    method: 'HEAD',
    url: transport.endpoints(ref.registry).manifest(ref.repository, manifestReference(ref)),
    registry: ref.registry,
    repository: ref.repository,
    scopes: [pullScope(ref.repository)],
    headers: { accept: ACCEPT },
    expect: [200, 404],
    what: 'HEAD manifest',
    ...ctx,
  });
  await dump(res.body);
  if (res.status === 404) return undefined;
  const digest = header(res, 'docker-content-digest') ?? ref.digest;
  const size = Number(header(res, 'content-length'));
  const mediaType = contentType(header(res, 'content-type'));
  if (!digest || !isDigest(digest) || !Number.isSafeInteger(size) || !mediaType) {
    throw new RegistryError(
      'IMG_REGISTRY_INVALID_RESPONSE',
      `HEAD manifest ${formatReference(ref)}: missing Docker-Content-Digest, Content-Length or Content-Type`,
      { registry: ref.registry, repository: ref.repository, status: res.status },
    );
  }
  return { mediaType, digest, size };
}
