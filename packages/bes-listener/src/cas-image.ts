import {
  type AbortOptions,
  type BlobLocation,
  type BlobSource,
  checkBlobBytes,
  type Descriptor,
  type Digest,
  documentLabel,
  GraphBudget,
  type GraphLimits,
  type ImageGraph,
  isDistributable,
  isDocumentDescriptor,
  parseDocument,
} from '@img/oci-spec';
import { casBlobSource, type RemoteCache } from '@img/remote-cache';
import { BesError } from './errors.js';

/** Reads small blobs (manifests, indexes, configs) from the CAS; may cache them by digest. */
export type ReadDocument = (descriptor: Descriptor, signal?: AbortSignal) => Promise<Uint8Array>;

export interface ReadCasImageOptions extends GraphLimits, AbortOptions {
  /** Registries holding blobs the CAS may lack (layers of a pulled base): mounted or streamed by the push. */
  readonly locations?: ReadonlyMap<Digest, readonly BlobLocation[]>;
  /** Names the image in messages (the push target's label). */
  readonly where?: string;
  /** How documents are read; default `cache.readBlob` (verified). */
  readonly readDocument?: ReadDocument;
}

/**
 * The image under `root` as an ImageGraph whose bytes are in the remote cache: indexes, manifests and
 * configs read (verified) into memory, walked with the shared caps and each document once; every layer
 * the CAS holds is a `casBlobSource`, a layer it lacks keeps only its registry locations. A layer that
 * is in neither fails now (IMG_BES_BLOB_UNAVAILABLE), before anything is pushed.
 */
export async function readCasImage(
  cache: RemoteCache,
  root: Descriptor,
  options: ReadCasImageOptions = {},
): Promise<ImageGraph> {
  const { signal } = options;
  const read: ReadDocument = options.readDocument ?? ((d, s) => cache.readBlob(d, s ? { signal: s } : {}));
  const budget = new GraphBudget(options);
  const documents = new Map<Digest, Uint8Array>();
  const layers = new Map<Digest, Descriptor>();
  const visit = async (descriptor: Descriptor, depth: number): Promise<void> => {
    if (documents.has(descriptor.digest)) return;
    const where = documentLabel(descriptor, options.where);
    budget.admit(depth, where);
    const bytes = await read(descriptor, signal);
    const parsed = parseDocument(bytes, descriptor, where);
    documents.set(descriptor.digest, bytes);
    if (parsed.kind === 'index') {
      budget.checkFanOut(parsed.index.manifests.length, where);
      for (const child of parsed.index.manifests)
        if (isDocumentDescriptor(child)) await visit(child, depth + 1);
      return;
    }
    const { config } = parsed.manifest;
    budget.checkFanOut(parsed.manifest.layers.length, where);
    if (!documents.has(config.digest)) {
      const configBytes = await read(config, signal);
      checkBlobBytes(configBytes, config, `${where}: config`);
      documents.set(config.digest, configBytes);
    }
    for (const layer of parsed.manifest.layers)
      if (isDistributable(layer.mediaType)) layers.set(layer.digest, layer);
  };
  await visit(root, 0);

  const missing = new Set(
    (await cache.findMissingBlobs([...layers.values()], signal ? { signal } : {})).map((b) => b.digest),
  );
  const blobs = new Map<Digest, BlobSource>();
  const locations = new Map<Digest, readonly BlobLocation[]>();
  for (const layer of layers.values()) {
    const elsewhere = options.locations?.get(layer.digest) ?? [];
    if (elsewhere.length > 0) locations.set(layer.digest, elsewhere);
    if (!missing.has(layer.digest)) blobs.set(layer.digest, casBlobSource(cache, layer));
    else if (elsewhere.length === 0) {
      throw new BesError(
        'IMG_BES_BLOB_UNAVAILABLE',
        `${options.where ? `${options.where}: ` : ''}layer ${layer.digest} (${layer.size} bytes) is not in the remote cache ${cache.endpoint.url} (evicted, or built without --remote_cache) and no registry holds it; build the target again, or push with the eager or lazy strategy`,
      );
    }
  }
  return { root, documents, blobs, locations };
}
