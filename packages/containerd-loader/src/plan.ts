import {
  type BlobKind,
  type Descriptor,
  formatPlatform,
  type ImageGraph,
  type Platform,
  selectImage,
  walkDocuments,
} from '@img/oci-spec';
import { LoadError } from './errors.js';

/** Which images of an index to load: one platform (best match), or every one. */
export type PlatformSelection = Platform | 'all';

/** A blob to load, with the labels containerd should carry on it. */
export interface PlannedBlob {
  readonly descriptor: Descriptor;
  readonly kind: BlobKind;
  /** containerd.io/gc.ref.content.* labels: what this document keeps alive. */
  readonly labels: Record<string, string>;
}

export interface LoadPlan {
  /** The image record's target (the root, also when only part of an index is loaded). */
  readonly root: Descriptor;
  /** Layer blobs, each once, in manifest order. */
  readonly layers: readonly PlannedBlob[];
  /** JSON documents in write order: every child before the document that refers to it. */
  readonly documents: readonly PlannedBlob[];
  /** The image manifests selected. */
  readonly manifests: readonly Descriptor[];
}

export const GC_REF_CONFIG = 'containerd.io/gc.ref.content.config';
export const gcLayerLabel = (i: number) => `containerd.io/gc.ref.content.l.${i}`;
export const gcManifestLabel = (i: number) => `containerd.io/gc.ref.content.m.${i}`;

/**
 * Decide what to write for `graph` (walked by the shared, deduplicating, capped walker): for an index,
 * the image that serves `platform` best (see selectImage) and the indexes leading to it, or everything
 * with 'all'. The root stays the target either way, and an index's gc labels name only the children
 * loaded, as containerd does for a platform pull.
 */
export function planLoad(graph: ImageGraph, platform: PlatformSelection): LoadPlan {
  const walked = walkDocuments(graph);
  let wanted: string | undefined;
  if (platform !== 'all') {
    const image = selectImage(graph, platform);
    if (!image) {
      throw new LoadError(
        'IMG_LOAD_NO_MATCHING_PLATFORM',
        `${graph.root.digest}: no image for platform ${formatPlatform(platform)} in the index`,
      );
    }
    wanted = image.descriptor.digest;
  }
  const layers = new Map<string, PlannedBlob>();
  const documents = new Map<string, PlannedBlob>();
  const manifests: Descriptor[] = [];
  // Post-order: a document is loaded when it is the wanted image or leads to a loaded child.
  const loaded = new Set<string>();
  for (const doc of walked) {
    const d = doc.descriptor;
    if (doc.kind === 'manifest') {
      if (wanted !== undefined && d.digest !== wanted) continue;
      const m = doc.manifest;
      const labels: Record<string, string> = { [GC_REF_CONFIG]: m.config.digest };
      m.layers.forEach((l, i) => {
        labels[gcLayerLabel(i)] = l.digest;
        if (!layers.has(l.digest)) layers.set(l.digest, { descriptor: l, kind: 'layer', labels: {} });
      });
      if (!documents.has(m.config.digest)) {
        if (!graph.documents.has(m.config.digest)) {
          throw new LoadError('IMG_LOAD_INVALID_IMAGE', `${d.digest}: config ${m.config.digest} is missing`);
        }
        documents.set(m.config.digest, { descriptor: m.config, kind: 'config', labels: {} });
      }
      documents.set(d.digest, { descriptor: d, kind: 'manifest', labels });
      manifests.push(d);
      loaded.add(d.digest);
      continue;
    }
    const labels: Record<string, string> = {};
    doc.index.manifests.forEach((c, i) => {
      if (loaded.has(c.digest)) labels[gcManifestLabel(i)] = c.digest;
    });
    if (Object.keys(labels).length === 0 && d.digest !== graph.root.digest) continue;
    documents.set(d.digest, { descriptor: d, kind: 'index', labels });
    loaded.add(d.digest);
  }
  return { root: graph.root, layers: [...layers.values()], documents: [...documents.values()], manifests };
}
