import {
  canonicalJsonBytes,
  formatPlatform,
  hostPlatform,
  type Platform,
  platformMatchRank,
} from '@img/oci-spec';
import { LayoutError } from './errors.js';
import { type ImageContent, listManifests } from './image-content.js';
import type { FileSink } from './sinks.js';
import { blobPath, layoutIndex, OCI_LAYOUT_FILE, writeBlobs } from './write-layout.js';

export interface WriteDockerArchiveOptions {
  /** `name:tag` references Docker tags the image with on load. */
  readonly repoTags?: readonly string[];
  /** For an index: which platform's image to save (default: the host's). */
  readonly platform?: Platform;
  /**
   * Layers listed in manifest.json but left out of the archive: `docker load` never opens the file
   * of a layer whose chain it already has, so a loader can send only the layers Docker lacks.
   */
  readonly omitLayers?: ReadonlySet<string>;
}

/** Pick the single image manifest a docker-save archive carries. */
export function selectImage(content: ImageContent, platform: Platform = hostPlatform()) {
  const images = listManifests(content);
  if (images.length === 1) return images[0]!;
  let best: (typeof images)[number] | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const img of images) {
    const c = img.config as { os?: string; architecture?: string; variant?: string };
    const rank = platformMatchRank(platform, {
      os: c.os ?? '',
      architecture: c.architecture ?? '',
      ...(c.variant ? { variant: c.variant } : {}),
    });
    if (rank !== undefined && rank < bestRank) {
      best = img;
      bestRank = rank;
    }
  }
  if (!best) {
    throw new LayoutError(
      'IMG_LAYOUT_NO_MATCHING_PLATFORM',
      `no image for platform ${formatPlatform(platform)} in ${content.root.digest}`,
    );
  }
  return best;
}

/**
 * A docker-save archive that `docker load` and `podman load` accept: `manifest.json` with
 * RepoTags (Docker's format since v25), plus `oci-layout`/`index.json` so OCI tools read it too.
 * Layers stay compressed: docker load accepts gzip layer files.
 */
export async function writeDockerArchive(
  content: ImageContent,
  sink: FileSink,
  options: WriteDockerArchiveOptions = {},
): Promise<void> {
  try {
    const image = selectImage(content, options.platform);
    const single: ImageContent = {
      root: image.descriptor,
      documents: content.documents,
      blobs: content.blobs,
    };
    await sink.addFile('oci-layout', OCI_LAYOUT_FILE.length, OCI_LAYOUT_FILE);
    await writeBlobs(single, sink, options.omitLayers ? { omitLayers: options.omitLayers } : {});
    const firstTag = options.repoTags?.[0];
    const index = layoutIndex(
      image.descriptor,
      firstTag ? { imageName: firstTag, refName: firstTag.split(':').pop() } : {},
    );
    await sink.addFile('index.json', index.length, index);
    const manifestJson = canonicalJsonBytes([
      {
        Config: blobPath(image.manifest.config.digest),
        RepoTags: options.repoTags ?? [],
        Layers: image.manifest.layers.map((l) => blobPath(l.digest)),
      },
    ]);
    await sink.addFile('manifest.json', manifestJson.length, manifestJson);
    await sink.commit();
  } catch (err) {
    await sink.abort();
    throw err;
  }
}
