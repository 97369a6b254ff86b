import type { Readable } from 'node:stream';
import type { Descriptor } from '@img/oci-spec';
import { toReapiDigest } from './blob-ref.js';
import type { RemoteCache } from './remote-cache.js';

/** Options of BlobSource.open (the shared contract; moves to @img/oci-spec). */
export interface OpenBlobSourceOptions {
  readonly signal?: AbortSignal;
  /** Start at this byte. */
  readonly offset?: number;
}

/**
 * A reopenable blob: every open() returns a fresh stream of exactly descriptor.size bytes (the shared
 * contract, declared here structurally until @img/oci-spec has it).
 */
export interface BlobSource {
  readonly descriptor: Descriptor;
  /** A local regular file holding exactly these bytes, when there is one. Never set for the cache. */
  readonly path?: string;
  open(options?: OpenBlobSourceOptions): Promise<Readable>;
}

/**
 * The blob `descriptor` names, in the remote cache, as a BlobSource: each open() streams it afresh,
 * verified against the descriptor's digest and size. Throws IMG_INVALID_OPTIONS now for a digest the
 * cache cannot hold (not sha256); a blob missing from the cache fails open() with IMG_REMOTE_CACHE_NOT_FOUND.
 */
export function casBlobSource(cache: RemoteCache, descriptor: Descriptor): BlobSource {
  toReapiDigest(descriptor);
  return {
    descriptor,
    open: (options = {}) => cache.openBlob(descriptor, options),
  };
}
