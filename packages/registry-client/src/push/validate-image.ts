import {
  asIndex,
  asManifest,
  type Descriptor,
  ImgError,
  isDistributable,
  isIndex,
  isManifest,
  parseJson,
  verifyBytes,
} from '@img/oci-spec';
import { RegistryError } from '../errors.js';
import type { RawDocument } from '../pull/manifest.js';
import type { PushBlob } from './push-blob.js';

/** An image to push, as plain data: documents as exact bytes, blobs as descriptors plus a way to get bytes. */
export interface PushImageInput {
  /** The manifest or index the tags will point at. */
  readonly root: RawDocument;
  /** Child manifests (and nested indexes) of an index root, children before their parents. */
  readonly manifests?: readonly RawDocument[];
  /** Every config and layer the manifests reference (duplicates are pushed once). */
  readonly blobs: readonly PushBlob[];
}

function invalid(message: string, cause?: unknown): never {
  throw new RegistryError('IMG_REGISTRY_INVALID_IMAGE', message, cause ? { cause } : {});
}

function checkDocument(doc: RawDocument, where: string): unknown {
  const { descriptor, bytes } = doc;
  if (bytes.length !== descriptor.size)
    invalid(`${where}: ${bytes.length} bytes but descriptor size ${descriptor.size}`);
  try {
    verifyBytes(bytes, descriptor.digest, where);
  } catch (err) {
    if (err instanceof ImgError) invalid(err.message, err);
    throw err;
  }
  if (!isIndex(descriptor.mediaType) && !isManifest(descriptor.mediaType)) {
    invalid(`${where}: media type ${descriptor.mediaType} is neither a manifest nor an index`);
  }
  const parsed = parseJson(bytes, where) as { mediaType?: unknown };
  if (typeof parsed?.mediaType === 'string' && parsed.mediaType !== descriptor.mediaType) {
    invalid(`${where}: descriptor says ${descriptor.mediaType} but the document says ${parsed.mediaType}`);
  }
  return parsed;
}

/**
 * Check before any request that the image is complete and consistent: every document matches its
 * descriptor (size, digest, media type), every blob a manifest references is in `blobs` with the same
 * size, every index child is in `manifests`. Returns the blobs deduplicated, in first-seen order.
 */
export function validatePushImage(image: PushImageInput): PushBlob[] {
  const blobs = new Map<string, PushBlob>();
  for (const blob of image.blobs) {
    const prev = blobs.get(blob.descriptor.digest);
    if (prev && prev.descriptor.size !== blob.descriptor.size) {
      invalid(
        `blob ${blob.descriptor.digest} listed with sizes ${prev.descriptor.size} and ${blob.descriptor.size}`,
      );
    }
    if (!prev) blobs.set(blob.descriptor.digest, blob);
  }
  const docs = new Map<string, RawDocument>();
  for (const doc of [...(image.manifests ?? []), image.root]) {
    const where = `manifest ${doc.descriptor.digest}`;
    const parsed = checkDocument(doc, where);
    if (isIndex(doc.descriptor.mediaType)) {
      for (const child of asIndex(parsed, where).manifests) {
        if (!docs.has(child.digest)) {
          invalid(`${where}: child ${child.digest} is not among the manifests pushed before it`);
        }
      }
    } else {
      const manifest = asManifest(parsed, where);
      const needed: Descriptor[] = [
        manifest.config,
        ...manifest.layers.filter((l) => isDistributable(l.mediaType)),
      ];
      for (const d of needed) {
        const blob = blobs.get(d.digest);
        if (!blob) invalid(`${where}: blob ${d.digest} (${d.mediaType}) is not in the image's blobs`);
        if (blob.descriptor.size !== d.size) {
          invalid(
            `${where}: blob ${d.digest} has size ${d.size} in the manifest but ${blob.descriptor.size} in blobs`,
          );
        }
      }
    }
    docs.set(doc.descriptor.digest, doc);
  }
  return [...blobs.values()];
}
