import { pipeline, type Readable, Transform } from 'node:stream';
import { dockerArchiveImage, StreamSink, writeDockerArchive } from '@img/oci-layout';
import {
  type BlobLocation,
  type BlobSource,
  type Digest,
  type ImageEntry,
  type ImageGraph,
  type Platform,
  remoteBlobSource,
} from '@img/oci-spec';
import { LoadError } from './errors.js';
import type { FetchMissingBlob } from './load-containerd.js';

export interface ArchiveStreamOptions {
  readonly repoTags: readonly string[];
  readonly platform: Platform;
  readonly fetchMissingBlob?: FetchMissingBlob;
  /** Where absent blobs come from when the graph names no location of their own. */
  readonly locations?: readonly BlobLocation[];
  /** Layers listed in manifest.json but not sent (the consumer has them). */
  readonly omitLayers?: ReadonlySet<string>;
}

export interface ArchiveStream {
  /** The image manifest the archive carries. */
  readonly image: ImageEntry;
  /** The docker-save tar, produced as it is read. */
  readonly stream: Readable;
  /** Settles when the whole archive was produced (or rejects with why it was not). */
  readonly done: Promise<void>;
  /** Bytes handed to the consumer so far. */
  bytes(): number;
}

/**
 * A docker-save archive of the image `content` selects for `platform`, built on the fly: layers
 * absent locally come from `fetchMissingBlob` (verified by the archive writer); nothing touches disk.
 */
export function dockerArchiveStream(graph: ImageGraph, options: ArchiveStreamOptions): ArchiveStream {
  return dockerArchiveStreamOf(dockerArchiveImage(graph, options.platform), graph, options);
}

/** As dockerArchiveStream, for an image already selected. */
export function dockerArchiveStreamOf(
  image: ImageEntry,
  graph: ImageGraph,
  options: ArchiveStreamOptions,
): ArchiveStream {
  const blobs = new Map<Digest, BlobSource>(graph.blobs);
  const missing = image.manifest.layers.filter(
    (l) => !blobs.has(l.digest) && !options.omitLayers?.has(l.digest),
  );
  if (missing.length > 0) {
    const fetch = options.fetchMissingBlob;
    if (!fetch) {
      throw new LoadError(
        'IMG_LOAD_BLOB_MISSING',
        `${missing.length} layer(s) are not available locally and no fetcher is configured: ${missing.map((l) => l.digest).join(', ')}`,
      );
    }
    for (const l of missing) {
      const locations = graph.locations?.get(l.digest) ?? options.locations ?? [];
      blobs.set(l.digest, remoteBlobSource(l, locations, fetch));
    }
  }
  const sink = new StreamSink();
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  // pipeline() tears both down together: a consumer that stops reading fails the producer, and an
  // aborted producer ends the consumer's stream with an error instead of a silent EOF.
  pipeline(sink.stream, counter, () => {});
  const single: ImageGraph = { root: image.descriptor, documents: graph.documents, blobs };
  const done = writeDockerArchive(single, sink, {
    repoTags: options.repoTags,
    platform: options.platform,
    ...(options.omitLayers ? { omitLayers: options.omitLayers } : {}),
  });
  done.catch(() => {}); // observed by the caller through `done`
  return { image, stream: counter, done, bytes: () => bytes };
}
