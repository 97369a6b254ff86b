import type { AbortOptions } from '@img/oci-spec';
import type { BlobStore } from './blob-store.js';
import { CasRegistryError } from './errors.js';

/** Spec: registries should accept manifests of at least 4 MB; Docker's registry caps them at 4 MiB. */
export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Largest blob accepted: 64 GiB, far above real layers, far below a full disk. */
export const DEFAULT_MAX_BLOB_BYTES = 64 * 1024 ** 3;
/** Upload sessions open at once (429 above): each holds a file until it finishes or expires. */
export const DEFAULT_MAX_UPLOADS = 1000;
/** An upload without a byte for this long is dropped (Docker's registry waits a week). */
export const DEFAULT_UPLOAD_EXPIRY_MS = 24 * 60 * 60 * 1000;
/** Tags or repositories per list page when `n` asks for more or is absent (a Link header gives the rest). */
export const DEFAULT_MAX_PAGE_SIZE = 1000;
/** `tag` parameters on one manifest PUT; the spec asks for at least 10. */
export const DEFAULT_MAX_TAGS_PER_PUSH = 100;
/** Time for a client to send the request line and headers. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 30_000;
/** A connection without a byte in either direction for this long is closed (uploads included). */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** Concurrent connections; more are refused until some close. */
export const DEFAULT_MAX_CONNECTIONS = 512;

/** How often `keepAlive` asks the store about live blobs: well inside any cache's eviction horizon. */
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 10 * 60 * 1000;
/** Live blobs `keepAlive` asks about per pass (10 FindMissingBlobs requests of 10 000 digests). */
export const DEFAULT_KEEPALIVE_MAX_BLOBS = 100_000;

export interface KeepAliveOptions {
  /** Time between passes. Default DEFAULT_KEEPALIVE_INTERVAL_MS. */
  readonly intervalMs?: number;
  /** Most blobs kept alive (the most recently used live ones). Default DEFAULT_KEEPALIVE_MAX_BLOBS. */
  readonly maxBlobs?: number;
}

/**
 * `signal`: aborting before the server listens rejects the start with `signal.reason`; after, it
 * closes the server as `close()` does.
 */
export interface RegistryServerOptions extends AbortOptions {
  /** Directory for manifests, tags, blob links, uploads and (by default) blobs. Required. */
  readonly storage: string;
  /** Where blobs live. Default: a FileBlobStore in `<storage>/blobs`. */
  readonly blobStore?: BlobStore;
  /** Interface to listen on. Default 127.0.0.1: the registry has no authentication. */
  readonly host?: string;
  /** Port; 0 (the default) picks a free one, see `RegistryServer.port`. */
  readonly port?: number;
  /**
   * Garbage collection: drop manifests and blobs no tag has reached for longer than this. Default:
   * none (nothing is ever deleted except by the DELETE endpoints). Must exceed the longest push.
   */
  readonly ttlMs?: number;
  /** How often garbage collection runs with `ttlMs`. Default: a tenth of the TTL, from 1 s to 1 h. */
  readonly gcIntervalMs?: number;
  /**
   * Keep live blobs (those a tag reaches) alive in a store that evicts on its own, such as a
   * CasBlobStore: at every interval, FindMissingBlobs on the most recently used ones. Default: off.
   * Needs a store with `refresh()`.
   */
  readonly keepAlive?: KeepAliveOptions;
  /** Default DEFAULT_MAX_MANIFEST_BYTES. */
  readonly maxManifestBytes?: number;
  /** Default DEFAULT_MAX_BLOB_BYTES. */
  readonly maxBlobBytes?: number;
  /** Default DEFAULT_MAX_UPLOADS. */
  readonly maxUploads?: number;
  /** Default DEFAULT_UPLOAD_EXPIRY_MS. */
  readonly uploadExpiryMs?: number;
  /** Default DEFAULT_MAX_PAGE_SIZE. */
  readonly maxPageSize?: number;
  /** Default DEFAULT_HEADERS_TIMEOUT_MS. */
  readonly headersTimeoutMs?: number;
  /** Default DEFAULT_IDLE_TIMEOUT_MS. */
  readonly idleTimeoutMs?: number;
  /** Default DEFAULT_MAX_CONNECTIONS. */
  readonly maxConnections?: number;
}

export type ResolvedOptions = Required<
  Omit<RegistryServerOptions, 'blobStore' | 'ttlMs' | 'keepAlive' | 'signal'>
> &
  Pick<RegistryServerOptions, 'blobStore' | 'ttlMs'> & {
    readonly maxTagsPerPush: number;
    readonly keepAlive?: Required<KeepAliveOptions>;
  };

function positive(value: number | undefined, fallback: number, name: string, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new CasRegistryError(
      'IMG_CASREG_INVALID_OPTION',
      `${name}: expected an integer >= ${min}, got ${value}`,
    );
  }
  return value;
}

export function resolveOptions(options: RegistryServerOptions): ResolvedOptions {
  if (typeof options.storage !== 'string' || options.storage === '') {
    throw new CasRegistryError('IMG_CASREG_INVALID_OPTION', 'storage: a directory is required');
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CasRegistryError('IMG_CASREG_INVALID_OPTION', `port: expected 0 to 65535, got ${port}`);
  }
  const ttlMs = options.ttlMs === undefined ? undefined : positive(options.ttlMs, 0, 'ttlMs');
  const gcDefault = ttlMs === undefined ? 0 : Math.min(Math.max(Math.floor(ttlMs / 10), 1000), 3_600_000);
  return {
    storage: options.storage,
    ...(options.blobStore ? { blobStore: options.blobStore } : {}),
    host: options.host ?? '127.0.0.1',
    port,
    ...(ttlMs !== undefined ? { ttlMs } : {}),
    gcIntervalMs: positive(options.gcIntervalMs, gcDefault, 'gcIntervalMs', 0),
    ...(options.keepAlive
      ? {
          keepAlive: {
            intervalMs: positive(
              options.keepAlive.intervalMs,
              DEFAULT_KEEPALIVE_INTERVAL_MS,
              'keepAlive.intervalMs',
            ),
            maxBlobs: positive(options.keepAlive.maxBlobs, DEFAULT_KEEPALIVE_MAX_BLOBS, 'keepAlive.maxBlobs'),
          },
        }
      : {}),
    maxManifestBytes: positive(options.maxManifestBytes, DEFAULT_MAX_MANIFEST_BYTES, 'maxManifestBytes'),
    maxBlobBytes: positive(options.maxBlobBytes, DEFAULT_MAX_BLOB_BYTES, 'maxBlobBytes'),
    maxUploads: positive(options.maxUploads, DEFAULT_MAX_UPLOADS, 'maxUploads'),
    uploadExpiryMs: positive(options.uploadExpiryMs, DEFAULT_UPLOAD_EXPIRY_MS, 'uploadExpiryMs'),
    maxPageSize: positive(options.maxPageSize, DEFAULT_MAX_PAGE_SIZE, 'maxPageSize'),
    headersTimeoutMs: positive(options.headersTimeoutMs, DEFAULT_HEADERS_TIMEOUT_MS, 'headersTimeoutMs'),
    idleTimeoutMs: positive(options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS, 'idleTimeoutMs'),
    maxConnections: positive(options.maxConnections, DEFAULT_MAX_CONNECTIONS, 'maxConnections'),
    maxTagsPerPush: DEFAULT_MAX_TAGS_PER_PUSH,
  };
}
