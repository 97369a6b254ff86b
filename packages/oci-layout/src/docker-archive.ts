import {
  type AbortOptions,
  canonicalJsonBytes,
  formatPlatform,
  hostPlatform,
  type ImageEntry,
  type ImageGraph,
  type Platform,
  selectImage,
} from '@img/oci-spec';
import { blobPath } from './blob-file.js';
import { LayoutError } from './errors.js';
import type { FileSink } from './sinks.js';
import { layoutIndex, OCI_LAYOUT_FILE, writeBlobs } from './write-layout.js';

export interface WriteDockerArchiveOptions extends AbortOptions {
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

/** The single image a docker-save archive of `graph` carries (see selectImage), or IMG_LAYOUT_NO_MATCHING_PLATFORM. */
export function dockerArchiveImage(graph: ImageGraph, platform: Platform = hostPlatform()): ImageEntry {
  const image = selectImage(graph, platform);
  if (!image) {
    throw new LayoutError(
      'IMG_LAYOUT_NO_MATCHING_PLATFORM',
      `no image for platform ${formatPlatform(platform)} in ${graph.root.digest}`,
    );
  }
  return image;
}

/**
 * A docker-save archive that `docker load` and `podman load` accept: `manifest.json` with
 * RepoTags (Docker's format since v25), plus `oci-layout`/`index.json` so OCI tools read it too.
 * Layers stay compressed: docker load accepts gzip layer files.
 */
export async function writeDockerArchive(
  graph: ImageGraph,
  sink: FileSink,
  options: WriteDockerArchiveOptions = {},
): Promise<void> {
  try {
    const image = dockerArchiveImage(graph, options.platform);
    const single: ImageGraph = { root: image.descriptor, documents: graph.documents, blobs: graph.blobs };
    await sink.addFile('oci-layout', OCI_LAYOUT_FILE.length, OCI_LAYOUT_FILE);
    await writeBlobs(single, sink, {
      ...(options.omitLayers ? { omitLayers: options.omitLayers } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
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
    options.signal?.throwIfAborted();
    await sink.commit();
  } catch (err) {
    await sink.abort();
    throw options.signal?.aborted ? options.signal.reason : err;
  }
}
