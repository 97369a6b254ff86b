import { parseDigest, verifyBytes } from './digest.js';
import { parseJson } from './documents.js';
import { SpecError } from './errors.js';
import { isIndex, isManifest, isSchema1 } from './media-types.js';
import type { Descriptor, ImageConfig, Index, Manifest } from './types.js';
import { assertValid, indexViolations, manifestViolations } from './validate.js';

/** A manifest or an index, parsed and checked by `parseDocument`. */
export type ParsedDocument =
  | { readonly kind: 'index'; readonly index: Index }
  | { readonly kind: 'manifest'; readonly manifest: Manifest };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Throws unless `bytes` are exactly `descriptor`'s: its size (IMG_SIZE_MISMATCH) and digest (IMG_DIGEST_MISMATCH). */
export function checkBlobBytes(bytes: Uint8Array, descriptor: Descriptor, where: string): void {
  parseDigest(descriptor.digest, `${where}: digest`);
  if (bytes.length !== descriptor.size) {
    throw new SpecError(
      'IMG_SIZE_MISMATCH',
      `${where}: ${bytes.length} bytes but descriptor size ${descriptor.size}`,
    );
  }
  verifyBytes(bytes, descriptor.digest, where);
}

/**
 * The rules every manifest and index passes, wherever it comes from (a layout, a registry, a build) and
 * whatever reads it (validate, push, pull, load, build): the bytes are the descriptor's (size, digest);
 * the document is one thing, not both (`manifests` beside `layers` or `config` is the CVE-2021-41190
 * confusion); its own `mediaType` agrees with the descriptor's, which names a manifest or an index whose
 * shape the document has; then the image-spec schema and the rules it misses (valid child digests and
 * sizes, no mixed OCI/Docker families...). `where` names the document in every message.
 */
export function parseDocument(bytes: Uint8Array, descriptor: Descriptor, where: string): ParsedDocument {
  checkBlobBytes(bytes, descriptor, where);
  const doc = parseJson(bytes, where);
  const invalid = (why: string): never => {
    throw new SpecError('IMG_INVALID_DOCUMENT', `${where}: ${why}`);
  };
  if (!isObject(doc)) invalid('not a JSON object');
  const d = doc as Record<string, unknown>;
  if ('manifests' in d && ('layers' in d || 'config' in d)) {
    invalid(
      `has both "manifests" and "${'layers' in d ? 'layers' : 'config'}": neither an index nor a manifest`,
    );
  }
  const declared = descriptor.mediaType;
  if (typeof d.mediaType === 'string' && d.mediaType !== declared) {
    invalid(`descriptor says ${declared} but the document says ${d.mediaType}`);
  }
  if (isSchema1(declared)) invalid('Docker schema 1 manifests are not supported');
  if (isIndex(declared)) {
    if (!Array.isArray(d.manifests)) invalid(`media type ${declared} but no "manifests" list`);
    const index = doc as unknown as Index;
    assertValid(indexViolations(index), where);
    return { kind: 'index', index };
  }
  if (isManifest(declared)) {
    if (!isObject(d.config) || !Array.isArray(d.layers)) {
      invalid(`media type ${declared} but no "config" and "layers"`);
    }
    const manifest = doc as unknown as Manifest;
    assertValid(manifestViolations(manifest), where);
    return { kind: 'manifest', manifest };
  }
  return invalid(`media type ${JSON.stringify(declared)} is neither a manifest nor an index`);
}

/** A config blob: the descriptor's bytes (size, digest) holding a JSON object. Its rules: configViolations. */
export function parseConfig(bytes: Uint8Array, descriptor: Descriptor, where: string): ImageConfig {
  checkBlobBytes(bytes, descriptor, where);
  const doc = parseJson(bytes, where);
  if (!isObject(doc)) throw new SpecError('IMG_INVALID_DOCUMENT', `${where}: not a JSON object`);
  return doc as unknown as ImageConfig;
}
