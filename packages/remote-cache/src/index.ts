export type { BlobRef } from './blob-ref.js';
export type { BlobSource, OpenBlobSourceOptions } from './blob-source.js';
export { casBlobSource } from './blob-source.js';
export type { BytestreamBlob } from './bytestream-uri.js';
export { formatBytestreamUri, parseBytestreamUri } from './bytestream-uri.js';
export type { BlobOpener } from './bytestream-write.js';
export { RPC_CHANNEL } from './connection.js';
export type { RemoteCacheEndpoint } from './endpoint.js';
export { parseEndpoint } from './endpoint.js';
export type { RemoteCacheErrorCode } from './errors.js';
export { RemoteCacheError } from './errors.js';
export type { RemoteCacheOptions } from './options.js';
export { DEFAULT_MAX_BATCH_BYTES, DEFAULT_TIMEOUT_MS, DEFAULT_WRITE_CHUNK_BYTES } from './options.js';
export { findProtoDir, PROTO_DIR_ENV } from './proto-dir.js';
export type {
  CallOptions,
  OpenBlobOptions,
  OpenBlobRangeOptions,
  ReadBlobOptions,
  RemoteCacheCapabilities,
} from './remote-cache.js';
export { connectRemoteCache, DEFAULT_MAX_READ_BYTES, RemoteCache } from './remote-cache.js';
export type { RetryOptions } from './retry.js';
export { DEFAULT_RETRY } from './retry.js';
