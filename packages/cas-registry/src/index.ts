export type {
  BlobStat,
  BlobStore,
  FileAdoptingBlobStore,
  ListableBlobStore,
  OpenBlobOptions,
  RefreshableBlobStore,
  SizedBlob,
  StatBlobOptions,
  StoredBlob,
  WriteBlobOptions,
} from './blob-store.js';
export type { CasBlobStoreOptions } from './cas-blob-store.js';
export { CasBlobStore } from './cas-blob-store.js';
export type { BlobDigest, DigestAlgorithm } from './digests.js';
export { DIGEST_ALGORITHMS, parseBlobDigest } from './digests.js';
export type { CasRegistryErrorCode } from './errors.js';
export { CasRegistryError } from './errors.js';
export { FileBlobStore } from './fs-blob-store.js';
export type { GarbageReport } from './gc.js';
export type { KeepAliveReport } from './keepalive.js';
export { KEEPALIVE_CHANNEL } from './keepalive.js';
export type { KeepAliveOptions, RegistryServerOptions } from './options.js';
export {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_INTERVAL_MS,
  DEFAULT_KEEPALIVE_MAX_BLOBS,
  DEFAULT_MAX_BLOB_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_MANIFEST_BYTES,
  DEFAULT_MAX_PAGE_SIZE,
  DEFAULT_MAX_TAGS_PER_PUSH,
  DEFAULT_MAX_UPLOADS,
  DEFAULT_UPLOAD_EXPIRY_MS,
} from './options.js';
export type { RegistryServer, RequestEvent } from './server.js';
export { REQUEST_CHANNEL, startRegistryServer } from './server.js';
