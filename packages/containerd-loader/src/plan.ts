import type { ImageContent } from '@img/oci-layout';
import {
  asIndex,
  asManifest,
  type Descriptor,
  documentKind,
  formatPlatform,
  isImageConfig,
  type Platform,
  parseJson,
  platformMatchRank,
} from '@img/oci-spec';
import { LoadError } from './errors.js';

/** Which images of an index to load: one platform (best match), or every one. */
export type PlatformSelection = Platform | 'all';

export type BlobKind = 'layer' | 'config' | 'manifest' | 'index';

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

function isChildDocument(d: Descriptor): boolean {
  return /manifest|index/.test(d.mediaType);
}

/**
 * Decide what to write for `content`: for an index, the children matching `platform` (the best
 * match per index, like containerd's pull) or all of them; the root stays the target either way,
 * and an index's gc labels name only the children loaded, as containerd does for a platform pull.
 */
export function planLoad(content: ImageContent, platform: PlatformSelection): LoadPlan {
  const layers = new Map<string, PlannedBlob>();
  const documents = new Map<string, PlannedBlob>();
  const manifests: Descriptor[] = [];

  const read = (d: Descriptor, where: string): unknown => {
    const bytes = content.documents.get(d.digest);
    if (!bytes)
      throw new LoadError(
        'IMG_LOAD_INVALID_IMAGE',
        `${where}: document ${d.digest} (${d.mediaType}) is missing`,
      );
    return parseJson(bytes, where);
  };

  const platformOf = (d: Descriptor, where: string): Platform | undefined => {
    if (d.platform) return d.platform;
    if (!content.documents.has(d.digest)) return undefined;
    const doc = read(d, where);
    if (documentKind(doc, d.mediaType) !== 'manifest') return undefined;
    const m = asManifest(doc, where);
    const cfg = content.documents.get(m.config.digest);
    if (!cfg || !isImageConfig(m.config.mediaType)) return undefined;
    const c = parseJson(cfg, `${where} config`) as { os?: string; architecture?: string; variant?: string };
    if (!c.os || !c.architecture) return undefined;
    return { os: c.os, architecture: c.architecture, ...(c.variant ? { variant: c.variant } : {}) };
  };

  const visitManifest = (d: Descriptor, where: string) => {
    if (documents.has(d.digest)) return;
    const m = asManifest(read(d, where), where);
    const labels: Record<string, string> = { [GC_REF_CONFIG]: m.config.digest };
    m.layers.forEach((l, i) => {
      labels[gcLayerLabel(i)] = l.digest;
      if (!layers.has(l.digest)) layers.set(l.digest, { descriptor: l, kind: 'layer', labels: {} });
    });
    if (!documents.has(m.config.digest)) {
      if (!content.documents.has(m.config.digest)) {
        throw new LoadError('IMG_LOAD_INVALID_IMAGE', `${where}: config ${m.config.digest} is missing`);
      }
      documents.set(m.config.digest, { descriptor: m.config, kind: 'config', labels: {} });
    }
    documents.set(d.digest, { descriptor: d, kind: 'manifest', labels });
    manifests.push(d);
  };

  const visit = (d: Descriptor, where: string) => {
    const doc = read(d, where);
    if (documentKind(doc, d.mediaType) !== 'index') return visitManifest(d, where);
    const children = asIndex(doc, where)
      .manifests.map((c, i) => ({ c, i }))
      .filter(({ c }) => isChildDocument(c));
    let chosen = children;
    if (platform !== 'all') {
      let best: typeof children = [];
      let bestRank = Number.POSITIVE_INFINITY;
      for (const entry of children) {
        const p = platformOf(entry.c, `${where}.manifests[${entry.i}]`);
        const rank = p ? platformMatchRank(platform, p) : undefined;
        if (rank !== undefined && rank < bestRank) {
          best = [entry];
          bestRank = rank;
        }
      }
      chosen = best;
    }
    const labels: Record<string, string> = {};
    for (const { c, i } of chosen) {
      visit(c, `${where}.manifests[${i}]`);
      labels[gcManifestLabel(i)] = c.digest;
    }
    if (platform !== 'all' && chosen.length === 0 && d.digest === content.root.digest) {
      throw new LoadError(
        'IMG_LOAD_NO_MATCHING_PLATFORM',
        `${d.digest}: no image for platform ${formatPlatform(platform)} in the index`,
      );
    }
    documents.set(d.digest, { descriptor: d, kind: 'index', labels });
  };

  visit(content.root, content.root.digest);
  return { root: content.root, layers: [...layers.values()], documents: [...documents.values()], manifests };
}
