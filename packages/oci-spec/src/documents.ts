import { isDigest } from './digest.js';
import { SpecError } from './errors.js';
import { isIndex, isManifest, isSchema1 } from './media-types.js';
import type { Index, LayerMetadata, Manifest } from './types.js';

/** Parse JSON text or bytes, naming `where` in the error. */
export function parseJson(data: string | Uint8Array, where: string): unknown {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SpecError('IMG_INVALID_DOCUMENT', `${where}: invalid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What a manifest-like document is, from its mediaType or, failing that, its shape. */
export function documentKind(doc: unknown, declaredMediaType?: string): 'index' | 'manifest' {
  const mt = declaredMediaType || (isObject(doc) && typeof doc.mediaType === 'string' ? doc.mediaType : '');
  if (mt && isSchema1(mt)) {
    throw new SpecError('IMG_INVALID_DOCUMENT', `${mt}: Docker schema 1 manifests are not supported`);
  }
  if (mt && isIndex(mt)) return 'index';
  if (mt && isManifest(mt)) return 'manifest';
  if (isObject(doc) && Array.isArray(doc.manifests)) return 'index';
  if (isObject(doc) && isObject(doc.config) && Array.isArray(doc.layers)) return 'manifest';
  throw new SpecError('IMG_INVALID_DOCUMENT', `unrecognised document (mediaType ${JSON.stringify(mt)})`);
}

export function asManifest(doc: unknown, where: string): Manifest {
  if (!isObject(doc) || doc.schemaVersion !== 2 || !isObject(doc.config) || !Array.isArray(doc.layers)) {
    throw new SpecError(
      'IMG_INVALID_DOCUMENT',
      `${where}: not an image manifest (schemaVersion 2, config, layers)`,
    );
  }
  return doc as unknown as Manifest;
}

export function asIndex(doc: unknown, where: string): Index {
  if (!isObject(doc) || doc.schemaVersion !== 2 || !Array.isArray(doc.manifests)) {
    throw new SpecError('IMG_INVALID_DOCUMENT', `${where}: not an image index (schemaVersion 2, manifests)`);
  }
  return doc as unknown as Index;
}

/** Parse and check a layer metadata JSON document (see LayerMetadata). */
export function parseLayerMetadata(data: string | Uint8Array, where: string): LayerMetadata {
  const doc = parseJson(data, where);
  if (!isObject(doc))
    throw new SpecError('IMG_INVALID_LAYER_METADATA', `${where}: layer metadata must be an object`);
  const bad = (field: string, why: string): never => {
    throw new SpecError('IMG_INVALID_LAYER_METADATA', `${where}: ${field}: ${why}`);
  };
  if (!isDigest(doc.diff_id)) bad('diff_id', `invalid digest ${JSON.stringify(doc.diff_id)}`);
  if (!isDigest(doc.digest)) bad('digest', `invalid digest ${JSON.stringify(doc.digest)}`);
  if (typeof doc.mediaType !== 'string' || !doc.mediaType.includes('/'))
    bad('mediaType', 'missing or invalid');
  if (!Number.isSafeInteger(doc.size) || (doc.size as number) < 0)
    bad('size', 'must be a non-negative integer');
  if (doc.annotations !== undefined) {
    if (!isObject(doc.annotations) || Object.values(doc.annotations).some((v) => typeof v !== 'string')) {
      bad('annotations', 'must map strings to strings');
    }
  }
  if (doc.history !== undefined && !Array.isArray(doc.history)) bad('history', 'must be an array');
  if (doc.sources !== undefined && !Array.isArray(doc.sources)) bad('sources', 'must be an array');
  return doc as unknown as LayerMetadata;
}

/** RFC 3339 UTC text of a Unix time in seconds, as Go writes it (`1970-01-01T00:00:00Z`). */
export function unixToRfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}
