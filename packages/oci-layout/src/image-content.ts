import type { Readable } from 'node:stream';
import {
  asIndex,
  asManifest,
  type BlobSource,
  type Descriptor,
  documentKind,
  type Index,
  isImageConfig,
  isIndex,
  type Manifest,
  parseJson,
} from '@img/oci-spec';
import { LayoutError } from './errors.js';

/** A blob whose bytes can be opened as often as needed (a fresh stream each call). */
export interface BlobHandle {
  readonly descriptor: Descriptor;
  open(): Promise<Readable>;
}

/**
 * An image (or index) as plain data: the root descriptor, the JSON documents reachable from it
 * (indexes, manifests, configs) as their exact bytes, and the layer blobs by digest.
 * A blob absent from `blobs` is one this image does not have locally (a shallow base layer).
 */
export interface ImageContent {
  readonly root: Descriptor;
  readonly documents: ReadonlyMap<string, Uint8Array>;
  readonly blobs: ReadonlyMap<string, BlobHandle>;
  /**
   * Registries/repositories holding blobs, by digest (layers of a pulled base). A blob absent from
   * `blobs` but with sources can be mounted on push, fetched on load, or left out of a shallow layout.
   */
  readonly sources?: ReadonlyMap<string, readonly BlobSource[]>;
}

/** One image manifest of an ImageContent, with its parsed manifest and config. */
export interface ResolvedManifest {
  readonly descriptor: Descriptor;
  readonly manifest: Manifest;
  readonly config: Record<string, unknown>;
}

function documentOf(content: ImageContent, d: Descriptor): Uint8Array {
  const bytes = content.documents.get(d.digest);
  if (!bytes)
    throw new LayoutError('IMG_LAYOUT_BLOB_MISSING', `document ${d.digest} (${d.mediaType}) is missing`);
  return bytes;
}

/** Every image manifest under the root (the root itself, or an index's children, depth first). */
export function listManifests(content: ImageContent): ResolvedManifest[] {
  const out: ResolvedManifest[] = [];
  const visit = (d: Descriptor, where: string) => {
    const doc = parseJson(documentOf(content, d), where);
    if (documentKind(doc, d.mediaType) === 'index') {
      const ix: Index = asIndex(doc, where);
      ix.manifests.forEach((child, i) => {
        if (isIndex(child.mediaType) || child.mediaType.includes('manifest'))
          visit(child, `${where}.manifests[${i}]`);
      });
      return;
    }
    const manifest = asManifest(doc, where);
    if (!isImageConfig(manifest.config.mediaType)) return;
    const config = parseJson(documentOf(content, manifest.config), `${where}.config`) as Record<
      string,
      unknown
    >;
    out.push({ descriptor: d, manifest, config });
  };
  visit(content.root, content.root.digest);
  return out;
}

/** Every descriptor reachable from the root, documents first (children before parents), then blobs. */
export function reachableDescriptors(content: ImageContent): {
  documents: Descriptor[];
  layers: Descriptor[];
} {
  const documents: Descriptor[] = [];
  const layers = new Map<string, Descriptor>();
  const seen = new Set<string>();
  const visit = (d: Descriptor) => {
    if (seen.has(d.digest)) return;
    seen.add(d.digest);
    const doc = parseJson(documentOf(content, d), d.digest);
    if (documentKind(doc, d.mediaType) === 'index') {
      for (const child of asIndex(doc, d.digest).manifests) visit(child);
    } else {
      const m = asManifest(doc, d.digest);
      if (!seen.has(m.config.digest)) {
        seen.add(m.config.digest);
        documents.push(m.config);
      }
      for (const l of m.layers) if (!layers.has(l.digest)) layers.set(l.digest, l);
    }
    documents.push(d);
  };
  visit(content.root);
  return { documents, layers: [...layers.values()] };
}
