import {
  type Descriptor,
  type Index,
  isDistributable,
  isIndex,
  isManifest,
  isSchema1,
  type Manifest,
  MediaType,
  schemaViolations,
} from '@img/oci-spec';
import { type BlobDigest, digestOf, parseBlobDigest } from './digests.js';
import { manifestInvalid } from './http/http-error.js';

/** Manifest media types the registry stores: OCI and Docker schema 2 manifests and indexes. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MediaType.OciManifest,
  MediaType.OciIndex,
  MediaType.DockerManifest,
  MediaType.DockerManifestList,
];

/** A pushed manifest after the checks that need no storage: what the server must look up next. */
export interface PushedManifest {
  readonly mediaType: string;
  readonly kind: 'manifest' | 'index';
  /** Blobs that must be in the store (config and distributable layers), with the sizes they must have. */
  readonly blobs: ReadonlyArray<{
    readonly digest: BlobDigest;
    readonly size: number;
    readonly where: string;
  }>;
  /** Manifests (of an index) that must be in the same repository. */
  readonly children: ReadonlyArray<{
    readonly digest: BlobDigest;
    readonly size: number;
    readonly where: string;
  }>;
  readonly subject?: BlobDigest;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The media type without parameters (`type/subtype; charset=...` -> `type/subtype`). */
export function baseMediaType(value: string | undefined): string {
  return (value ?? '').split(';')[0]!.trim().toLowerCase();
}

function checkedDigest(d: Descriptor, where: string): BlobDigest {
  const digest = parseBlobDigest(d.digest);
  if (!digest) throw manifestInvalid(`${where}.digest: ${d.digest} is not a sha256 or sha512 digest`);
  return digest;
}

/** A descriptor's embedded `data` must be base64 of exactly the bytes its digest and size name. */
function checkData(d: Descriptor, where: string): void {
  if (d.data === undefined) return;
  const bytes = Buffer.from(d.data, 'base64');
  if (bytes.toString('base64') !== d.data.replace(/\s+/g, ''))
    throw manifestInvalid(`${where}.data: not base64`);
  const digest = checkedDigest(d, where);
  if (bytes.length !== d.size || digestOf(digest.algorithm, bytes) !== digest.value) {
    throw manifestInvalid(`${where}.data: does not match the descriptor's digest and size`);
  }
}

function mediaTypeOf(doc: Record<string, unknown>, contentType: string): string {
  if (doc.mediaType !== undefined) {
    if (typeof doc.mediaType !== 'string') throw manifestInvalid('mediaType: must be a string');
    if (contentType && MANIFEST_MEDIA_TYPES.includes(contentType) && contentType !== doc.mediaType) {
      throw manifestInvalid(`mediaType ${doc.mediaType} differs from the Content-Type ${contentType}`);
    }
    return doc.mediaType;
  }
  if (MANIFEST_MEDIA_TYPES.includes(contentType)) return contentType;
  // Neither says: the shape decides (an OCI index has manifests, an OCI manifest config and layers).
  return Array.isArray(doc.manifests) ? MediaType.OciIndex : MediaType.OciManifest;
}

/**
 * Parses and checks a pushed manifest: JSON, a media type we store (matching the Content-Type), the
 * image-spec schema (unless `schema: false`), digests we can verify and embedded data. Throws 400
 * MANIFEST_INVALID.
 */
export function checkPushedManifest(
  bytes: Uint8Array,
  contentTypeHeader: string | undefined,
  options: { readonly schema?: boolean } = {},
): PushedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw manifestInvalid(`not JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw manifestInvalid('not a JSON object');
  const mediaType = mediaTypeOf(doc, baseMediaType(contentTypeHeader));
  if (isSchema1(mediaType))
    throw manifestInvalid(`${mediaType}: Docker schema 1 manifests are not supported`);
  if (!isManifest(mediaType) && !isIndex(mediaType)) {
    throw manifestInvalid(`unsupported manifest media type ${mediaType}`);
  }
  const kind = isIndex(mediaType) ? 'index' : 'manifest';
  if (doc.schemaVersion !== 2) throw manifestInvalid('schemaVersion: must be 2');
  // Garbage collection re-reads stored (already checked) manifests: it skips the schema.
  const violations = options.schema === false ? [] : schemaViolations(kind, doc);
  if (violations.length > 0) {
    throw manifestInvalid(
      `${violations[0]}${violations.length > 1 ? ` (and ${violations.length - 1} more)` : ''}`,
    );
  }
  const subject = doc.subject as Descriptor | undefined;
  const common = {
    mediaType,
    kind,
    ...(subject ? { subject: checkedDigest(subject, 'subject') } : {}),
    ...(typeof doc.artifactType === 'string' ? { artifactType: doc.artifactType } : {}),
    ...(isObject(doc.annotations) ? { annotations: doc.annotations as Record<string, string> } : {}),
  } as const;
  if (kind === 'index') {
    const index = doc as unknown as Index;
    const children = index.manifests.map((d, i) => {
      const where = `manifests[${i}]`;
      checkData(d, where);
      return { digest: checkedDigest(d, where), size: d.size, where };
    });
    return { ...common, blobs: [], children };
  }
  const manifest = doc as unknown as Manifest;
  const referenced: Array<[Descriptor, string]> = [
    [manifest.config, 'config'],
    ...manifest.layers.map((l, i): [Descriptor, string] => [l, `layers[${i}]`]),
  ];
  const blobs = [];
  for (const [d, where] of referenced) {
    checkData(d, where);
    // Non-distributable layers live elsewhere (their urls): the registry never holds them.
    if (where !== 'config' && !isDistributable(d.mediaType)) continue;
    blobs.push({ digest: checkedDigest(d, where), size: d.size, where });
  }
  return {
    ...common,
    ...(common.artifactType === undefined ? { artifactType: manifest.config.mediaType } : {}),
    blobs,
    children: [],
  };
}

/** The descriptor of a manifest in the referrers list of its subject. */
export function referrerDescriptor(pushed: PushedManifest, digest: BlobDigest, size: number): Descriptor {
  return {
    mediaType: pushed.mediaType,
    digest: digest.value as Descriptor['digest'],
    size,
    ...(pushed.artifactType !== undefined ? { artifactType: pushed.artifactType } : {}),
    ...(pushed.annotations ? { annotations: pushed.annotations } : {}),
  };
}
