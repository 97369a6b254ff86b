import type { Dispatcher } from 'undici';
import type { CredentialProvider } from './auth/credentials.js';
import { DockerKeychain, type KeychainOptions } from './auth/keychain.js';
import { RegistryError } from './errors.js';
import type { BlobLocations } from './push/blob-locations.js';
import { SecretScrubber } from './redact.js';
import { type RetryOptions, resolveRetry } from './transport/retry.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DEADLINE_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  type TimeoutOptions,
} from './transport/timeouts.js';
import type { TransportConfig } from './transport/transport.js';

/**
 * Parallel blob transfers of one push or pull, and the connection limit per registry origin.
 * crane's default; the registry round-trips, not the CPU, are what parallelism hides.
 */
export const DEFAULT_JOBS = 4;
/** Manifests and indexes larger than this are refused (the spec's SHOULD-accept size is 4 MiB). */
export const DEFAULT_MAX_MANIFEST_BYTES = 8 * 1024 * 1024;
/** Image configs larger than this are refused. */
export const DEFAULT_MAX_CONFIG_BYTES = 64 * 1024 * 1024;
/** Chunk size of the chunked upload (used when a registry rejects the single streaming PATCH). */
export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;
export const DEFAULT_USER_AGENT = 'img-registry-client/0.1';

export type UploadMode = 'stream' | 'chunked';

export interface RegistryClientOptions extends TimeoutOptions {
  /**
   * Registries reached over plain HTTP (`host` or `host:port`), or `true` for all (crane's
   * `--insecure`). Loopback registries (localhost, 127.0.0.1, [::1]) always use HTTP. Default [].
   */
  readonly insecure?: boolean | readonly string[];
  /** Blobs transferred in parallel and connections per registry; see DEFAULT_JOBS. */
  readonly jobs?: number;
  /**
   * Retry policy for 408/429/5xx and broken connections; see DEFAULT_RETRY. There is one retry layer:
   * a request is sent at most `retries + 1` times, an interrupted upload or download resumes at most
   * `retries` times.
   */
  readonly retry?: RetryOptions;
  /** Where credentials come from. Default a DockerKeychain built from `auth`. */
  readonly credentialProvider?: CredentialProvider;
  /** Options of the default DockerKeychain (env, auth files, Bazel helper, fixed credentials). */
  readonly auth?: KeychainOptions;
  /** An undici Dispatcher to send every request through instead of our own keep-alive Agents. */
  readonly dispatcher?: Dispatcher;
  readonly userAgent?: string;
  /** Default DEFAULT_MAX_MANIFEST_BYTES. */
  readonly maxManifestBytes?: number;
  /** Default DEFAULT_MAX_CONFIG_BYTES. */
  readonly maxConfigBytes?: number;
  /**
   * `stream` (default): one PATCH carrying the whole blob with Content-Length, like crane; falls back
   * to `chunked` for a registry that rejects it. `chunked`: PATCHes of `chunkSize` with Content-Range.
   */
  readonly uploadMode?: UploadMode;
  /** Default DEFAULT_CHUNK_SIZE. */
  readonly chunkSize?: number;
  /**
   * Also hash blobs read from `open()` on the client while uploading, failing before the commit.
   * Default false: the registry checks the digest when the upload is committed, and a mismatch is
   * reported as IMG_DIGEST_MISMATCH all the same; client hashing costs the CPU the registry needs
   * when both share a machine. Blobs streamed from another registry are always verified.
   */
  readonly verifyUploads?: boolean;
  /**
   * Where blobs were pushed before (e.g. a FileBlobLocations): a push mounts a blob the registry
   * holds in another repository instead of uploading it, and records what it pushed. Default none.
   */
  readonly blobLocations?: BlobLocations;
}

export interface ResolvedOptions {
  readonly jobs: number;
  readonly maxManifestBytes: number;
  readonly maxConfigBytes: number;
  readonly uploadMode: UploadMode;
  readonly chunkSize: number;
  readonly verifyUploads: boolean;
  readonly blobLocations?: BlobLocations;
  /** Overall deadline of each call, 0 for none. */
  readonly deadlineMs: number;
  readonly transport: TransportConfig;
}

function invalid(message: string): never {
  throw new RegistryError('IMG_REGISTRY_INVALID_OPTIONS', message);
}

/** setTimeout's limit: a longer delay would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function positiveInt(
  value: number | undefined,
  name: string,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > max)
    invalid(`${name} must be an integer in 1..${max}`);
  return value;
}

/** Apply defaults and reject conflicting or out-of-range options before any I/O. */
export function resolveOptions(options: RegistryClientOptions = {}): ResolvedOptions {
  if (options.credentialProvider && options.auth) invalid('pass either credentialProvider or auth, not both');
  const jobs = positiveInt(options.jobs, 'jobs', DEFAULT_JOBS, 256);
  if (
    options.uploadMode !== undefined &&
    options.uploadMode !== 'stream' &&
    options.uploadMode !== 'chunked'
  ) {
    invalid(`uploadMode must be "stream" or "chunked", not ${JSON.stringify(options.uploadMode)}`);
  }
  const retry = resolveRetry(options.retry);
  for (const [k, v] of Object.entries(retry)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      invalid(`retry.${k} must be a non-negative number`);
  }
  const timeouts = {
    connectTimeoutMs: positiveInt(
      options.connectTimeoutMs,
      'connectTimeoutMs',
      DEFAULT_CONNECT_TIMEOUT_MS,
      MAX_TIMER_MS,
    ),
    idleTimeoutMs: positiveInt(options.idleTimeoutMs, 'idleTimeoutMs', DEFAULT_IDLE_TIMEOUT_MS, MAX_TIMER_MS),
    deadlineMs:
      options.deadlineMs === 0
        ? 0
        : positiveInt(options.deadlineMs, 'deadlineMs', DEFAULT_DEADLINE_MS, MAX_TIMER_MS),
  };
  const insecure = options.insecure ?? [];
  if (insecure !== true && insecure !== false && !Array.isArray(insecure)) {
    invalid('insecure must be a boolean or a list of registries');
  }
  return {
    jobs,
    maxManifestBytes: positiveInt(options.maxManifestBytes, 'maxManifestBytes', DEFAULT_MAX_MANIFEST_BYTES),
    maxConfigBytes: positiveInt(options.maxConfigBytes, 'maxConfigBytes', DEFAULT_MAX_CONFIG_BYTES),
    uploadMode: options.uploadMode ?? 'stream',
    chunkSize: positiveInt(options.chunkSize, 'chunkSize', DEFAULT_CHUNK_SIZE),
    verifyUploads: options.verifyUploads ?? false,
    ...(options.blobLocations && { blobLocations: options.blobLocations }),
    deadlineMs: timeouts.deadlineMs,
    transport: {
      insecure,
      retry,
      timeouts,
      connections: jobs,
      userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
      ...(options.dispatcher && { dispatcher: options.dispatcher }),
      keychain: options.credentialProvider ?? new DockerKeychain(options.auth),
      scrubber: new SecretScrubber(),
    },
  };
}
