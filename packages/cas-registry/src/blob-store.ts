import type { Readable } from 'node:stream';
import type { BlobDigest } from './digests.js';

export interface BlobStat {
  readonly size: number;
}

export interface StatBlobOptions {
  readonly signal?: AbortSignal;
  /**
   * The size the caller expects (a manifest's descriptor says it). A store that can only find a blob by
   * digest and size (the REAPI CAS) uses it when it has no size of its own for the digest.
   */
  readonly size?: number;
}

export interface OpenBlobOptions {
  readonly signal?: AbortSignal;
  /** First byte to read (default 0). */
  readonly offset?: number;
  /** Bytes to read from `offset` (default: to the end). */
  readonly length?: number;
}

export interface WriteBlobOptions {
  readonly signal?: AbortSignal;
  /** The expected size: more or fewer bytes fail the write (IMG_CASREG_SIZE_MISMATCH). */
  readonly size?: number;
}

/**
 * Where the registry keeps blob bytes, keyed by digest. The server does everything else (repositories,
 * links, manifests); a store only holds content. Absent blobs are `stat() === undefined` and, from
 * `open()`, a CasRegistryError with code IMG_CASREG_BLOB_NOT_FOUND — never a partial stream.
 */
export interface BlobStore {
  /** The blob's size, or undefined when the store does not hold it. */
  stat(digest: BlobDigest, options?: StatBlobOptions): Promise<BlobStat | undefined>;
  /** A fresh stream of the blob's bytes (or of a range of them). */
  open(digest: BlobDigest, options?: OpenBlobOptions): Promise<Readable>;
  /** Stores `body` under `digest`, verifying digest and size on the way; all or nothing. */
  write(digest: BlobDigest, body: Readable, options?: WriteBlobOptions): Promise<BlobStat>;
  /** Removes the blob; false when it was not there. */
  delete(digest: BlobDigest): Promise<boolean>;
}

/** A store that can take over a verified local file by renaming it (uploads are not copied twice). */
export interface FileAdoptingBlobStore extends BlobStore {
  /** Moves `path`, whose bytes the caller has verified against `digest`, into the store. */
  adopt(digest: BlobDigest, path: string, size: number): Promise<BlobStat>;
}

export interface StoredBlob {
  readonly digest: BlobDigest;
  readonly size: number;
  /** When the store last wrote (or was handed) the blob, ms since the epoch. */
  readonly modifiedMs: number;
}

/** A store that can enumerate what it holds (garbage collection then reclaims unreferenced blobs). */
export interface ListableBlobStore extends BlobStore {
  list(): AsyncIterable<StoredBlob>;
}

/** A blob and its size, as a store that evicts on its own needs them to be asked about. */
export interface SizedBlob {
  readonly digest: BlobDigest;
  readonly size: number;
}

/**
 * A store that drops blobs on its own schedule (the REAPI CAS evicts what nobody asked about lately)
 * and can be asked to keep some: `refresh` marks them as used and returns those it no longer holds.
 */
export interface RefreshableBlobStore extends BlobStore {
  refresh(blobs: readonly SizedBlob[], options?: { readonly signal?: AbortSignal }): Promise<BlobDigest[]>;
}

export function canAdopt(store: BlobStore): store is FileAdoptingBlobStore {
  return 'adopt' in store && typeof store.adopt === 'function';
}

export function canList(store: BlobStore): store is ListableBlobStore {
  return 'list' in store && typeof store.list === 'function';
}

export function canRefresh(store: BlobStore): store is RefreshableBlobStore {
  return 'refresh' in store && typeof store.refresh === 'function';
}
