import {
  type BlobKind,
  type BlobLocation,
  type BlobSource,
  type Descriptor,
  graphBlobSource,
  type ImageGraph,
  ImgError,
  isDistributable,
  type WalkOptions,
  walkDocuments,
} from '@img/oci-spec';
import { RegistryError } from '../errors.js';
import type { RawDocument } from '../pull/manifest.js';

/** A blob a push needs: its bytes at hand (`source`), or where it lives (`locations`: mounted or streamed). */
export interface BlobToPush {
  readonly descriptor: Descriptor;
  /** What the blob is (progress events say it). Default 'layer'. */
  readonly kind?: Extract<BlobKind, 'config' | 'layer'>;
  readonly source?: BlobSource;
  readonly locations: readonly BlobLocation[];
}

/** What a push sends, in order: blobs, then manifests (children before parents), then the root. */
export interface PushPlan {
  readonly blobs: readonly BlobToPush[];
  /** Manifests and indexes below the root, children before their parents. */
  readonly manifests: readonly RawDocument[];
  readonly root: RawDocument;
}

function invalid(message: string, cause?: unknown): never {
  throw new RegistryError('IMG_REGISTRY_INVALID_IMAGE', message, cause ? { cause } : {});
}

/**
 * Check before any request that the image is complete and consistent: every document passes the
 * shared document rules (size, digest, media type, one kind, schema) within the walk caps, every
 * child is among the documents, and every config and distributable layer is at hand with the
 * manifest's size or has a location. Returns each blob once, in the order the manifests list them.
 */
export function checkPushImage(graph: ImageGraph, options: WalkOptions = {}): PushPlan {
  let walked: ReturnType<typeof walkDocuments>;
  try {
    walked = walkDocuments(graph, options);
  } catch (err) {
    if (err instanceof ImgError) invalid(err.message, err);
    throw err;
  }
  const blobs = new Map<string, BlobToPush>();
  const manifests: RawDocument[] = [];
  for (const doc of walked) {
    const where = `manifest ${doc.descriptor.digest}`;
    const raw = { descriptor: doc.descriptor, bytes: graph.documents.get(doc.descriptor.digest)! };
    if (doc.descriptor.digest !== graph.root.digest) manifests.push(raw);
    if (doc.kind !== 'manifest') continue;
    const needed = [doc.manifest.config, ...doc.manifest.layers.filter((l) => isDistributable(l.mediaType))];
    for (const d of needed) {
      if (blobs.has(d.digest)) continue;
      const source = graphBlobSource(graph, d);
      const locations = graph.locations?.get(d.digest) ?? [];
      if (!source && locations.length === 0) {
        invalid(`${where}: blob ${d.digest} (${d.mediaType}) is not in the image's blobs`);
      }
      if (source && source.descriptor.size !== d.size) {
        invalid(
          `${where}: blob ${d.digest} has size ${d.size} in the manifest but ${source.descriptor.size} in blobs`,
        );
      }
      const kind = d === doc.manifest.config ? 'config' : 'layer';
      blobs.set(d.digest, { descriptor: d, kind, ...(source ? { source } : {}), locations });
    }
  }
  return {
    blobs: [...blobs.values()],
    manifests,
    root: { descriptor: graph.root, bytes: graph.documents.get(graph.root.digest)! },
  };
}
