import { parseConfig } from './document-rules.js';
import { SpecError } from './errors.js';
import { type ImageGraph, type WalkOptions, walkDocuments } from './image-graph.js';
import { isImageConfig } from './media-types.js';
import { platformMatchRank } from './platform.js';
import type { Descriptor, ImageConfig, Manifest, Platform } from './types.js';

/** One image of a graph: a manifest whose config is an image config, both parsed. */
export interface ImageEntry {
  readonly descriptor: Descriptor;
  readonly manifest: Manifest;
  readonly config: ImageConfig;
  /** The index entry's platform, else the config's. */
  readonly platform: Platform;
}

/** The platform an image config declares (`os`, `architecture`, `variant`, `os.version`). */
export function platformOfConfig(config: ImageConfig): Platform {
  return {
    os: String(config.os ?? ''),
    architecture: String(config.architecture ?? ''),
    ...(typeof config.variant === 'string' && config.variant ? { variant: config.variant } : {}),
    ...(typeof config['os.version'] === 'string' && config['os.version']
      ? { 'os.version': config['os.version'] }
      : {}),
  };
}

/**
 * Every image under the root (the root itself, or an index's image manifests, each once), with its
 * config. Manifests of other artifacts (a config that is not an image config) are left out.
 */
export function listManifests(graph: ImageGraph, options: WalkOptions = {}): ImageEntry[] {
  const out: ImageEntry[] = [];
  for (const doc of walkDocuments(graph, options)) {
    if (doc.kind !== 'manifest' || !isImageConfig(doc.manifest.config.mediaType)) continue;
    const d = doc.manifest.config;
    const where = `${options.where ? `${options.where}: ` : ''}manifest ${doc.descriptor.digest}: config`;
    const bytes = graph.documents.get(d.digest);
    if (!bytes) throw new SpecError('IMG_DOCUMENT_MISSING', `${where} ${d.digest} is missing`);
    const config = parseConfig(bytes, d, where);
    out.push({
      descriptor: doc.descriptor,
      manifest: doc.manifest,
      config,
      platform: doc.descriptor.platform ?? platformOfConfig(config),
    });
  }
  return out;
}

/**
 * The one image a single-platform consumer (a docker archive, a classic Docker store) takes: the only
 * image of the graph whatever its platform, else the one that best serves `platform` (see bestImage),
 * else undefined.
 */
export function selectImage(
  graph: ImageGraph,
  platform: Platform,
  options: WalkOptions = {},
): ImageEntry | undefined {
  const images = listManifests(graph, options);
  return images.length === 1 ? images[0] : bestImage(images, platform);
}

/**
 * The entry of `images` that best serves `platform`: exact variant first, then the nearest older
 * variant (linux/arm/v7 takes v6); among equals the first, as the image-spec says. Undefined when none does.
 */
export function bestImage(images: readonly ImageEntry[], platform: Platform): ImageEntry | undefined {
  let best: ImageEntry | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const image of images) {
    const rank = platformMatchRank(platform, image.platform);
    if (rank !== undefined && rank < bestRank) {
      best = image;
      bestRank = rank;
    }
  }
  return best;
}
