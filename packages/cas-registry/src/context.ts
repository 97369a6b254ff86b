import type { BlobStore } from './blob-store.js';
import type { SharedExclusiveLock } from './lock.js';
import type { RepositoryStore } from './repository-store.js';
import type { UploadManager } from './uploads.js';

/** Bounds on what one client may make the registry hold or compute. */
export interface RegistryLimits {
  /** Largest manifest accepted (413 above). */
  readonly maxManifestBytes: number;
  /** Largest blob accepted, through any upload method (413 above). */
  readonly maxBlobBytes: number;
  /** Most entries in one tags or catalog page, whatever `n` asks for (a Link header gives the rest). */
  readonly maxPageSize: number;
  /** Most `tag` parameters on one manifest PUT (414 above). */
  readonly maxTagsPerPush: number;
}

/** What handlers tell about blob use (a BlobKeepAlive; typed here by role so keepalive.ts can import the context). */
export interface BlobUseTracker {
  /** Marks a blob as just used. */
  touch(digest: string): void;
}

/** What every request handler works with. */
export interface RegistryContext {
  readonly blobs: BlobStore;
  readonly repositories: RepositoryStore;
  readonly uploads: UploadManager;
  readonly limits: RegistryLimits;
  /** Shared by pushes, exclusive for garbage collection. */
  readonly lock: SharedExclusiveLock;
  /** With the keepAlive option: told about every blob used, so the most recent are kept alive. */
  keepAlive?: BlobUseTracker;
}
