import type { Readable } from 'node:stream';
import { type BlobLocation, type BlobSource, type OpenBlobOptions, skipBytes } from './blob-source.js';
import type { Digest } from './digest.js';
import { type ImageGraph, reachableDescriptors, type WalkOptions } from './image-graph.js';
import type { Descriptor } from './types.js';
import { createVerifyStream } from './verify-stream.js';

/**
 * Opens a blob that is not at hand from where it lives (its registry locations), from its first byte.
 * The result is verified by whoever calls it through `withRemoteBlobs` / `remoteBlobSource`.
 */
export type FetchBlob = (
  descriptor: Descriptor,
  locations: readonly BlobLocation[],
  options?: { readonly signal?: AbortSignal },
) => Promise<Readable>;

/** A source over `fetch`, verified against the descriptor before its end, honouring `offset`. */
export function remoteBlobSource(
  descriptor: Descriptor,
  locations: readonly BlobLocation[],
  fetch: FetchBlob,
): BlobSource {
  return {
    descriptor,
    async open(options: OpenBlobOptions = {}) {
      const source = await fetch(descriptor, locations, options.signal ? { signal: options.signal } : {});
      const verified = source.pipe(createVerifyStream(descriptor, `blob ${descriptor.digest}`));
      source.on('error', (e) => verified.destroy(e));
      return skipBytes(verified, options.offset ?? 0);
    },
  };
}

/**
 * The graph with a source for every reachable layer that is not at hand but has locations (its own in
 * `graph.locations`, else `options.locations`): opened through `fetch` only when a consumer reads it.
 */
export function withRemoteBlobs(
  graph: ImageGraph,
  fetch: FetchBlob,
  options: WalkOptions & { readonly locations?: readonly BlobLocation[] } = {},
): ImageGraph {
  const missing = reachableDescriptors(graph, options).layers.filter((l) => !graph.blobs.has(l.digest));
  if (missing.length === 0) return graph;
  const blobs = new Map<Digest, BlobSource>(graph.blobs);
  for (const layer of missing) {
    const locations = graph.locations?.get(layer.digest) ?? options.locations ?? [];
    if (locations.length > 0) blobs.set(layer.digest, remoteBlobSource(layer, locations, fetch));
  }
  return { ...graph, blobs };
}
