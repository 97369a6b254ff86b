import { type CredentialHelper, createCredentialHelper } from '@img/credential-helper';
import { RemoteCacheError } from './errors.js';
import { DEFAULT_RETRY, type RetryOptions } from './retry.js';

export interface RemoteCacheOptions {
  /** REAPI instance name (Bazel's `--remote_instance_name`). Default '' (the server's default instance). */
  readonly instanceName?: string;
  /** Headers sent with every call (Bazel's `--remote_header`). Default none. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /**
   * A Bazel-protocol credential helper: its path (run with this process's environment) or one made with
   * `createCredentialHelper` from @img/credential-helper. Asked with `https://AUTHORITY/SERVICE` as Bazel does.
   */
  readonly credentialHelper?: string | CredentialHelper;
  /** PEM file of an extra CA trusted for `grpcs://` (besides Node's and, where Node lists them, the system's). */
  readonly caFile?: string;
  /** PEM client certificate and key for mutual TLS (Bazel's `--tls_client_certificate` / `--tls_client_key`). */
  readonly tlsClientCertificate?: string;
  readonly tlsClientKey?: string;
  /**
   * Deadline of each unary call, and how long a stream may go without progress before it is cancelled
   * and resumed. Default DEFAULT_TIMEOUT_MS (Bazel's `--remote_timeout`).
   */
  readonly timeoutMs?: number;
  /** Retries of UNAVAILABLE / RESOURCE_EXHAUSTED / DEADLINE_EXCEEDED. Default DEFAULT_RETRY. */
  readonly retry?: RetryOptions;
  /**
   * Upper bound of one batch request, below the server's `max_batch_total_size_bytes`. Default
   * DEFAULT_MAX_BATCH_BYTES (gRPC's default message limit).
   */
  readonly maxBatchBytes?: number;
  /** Bytes per ByteStream.Write message. Default DEFAULT_WRITE_CHUNK_BYTES. */
  readonly writeChunkBytes?: number;
  /** Directory of the vendored REAPI protos. Default: found beside the package or bundle ($IMG_REAPI_PROTO_DIR). */
  readonly protoDir?: string;
}

/** Bazel's `--remote_timeout` default. */
export const DEFAULT_TIMEOUT_MS = 60_000;
/** gRPC's default message limit: servers without a limit of their own accept at least this. */
export const DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Large enough to keep a Python server's per-message cost low, well under every server's message limit. */
export const DEFAULT_WRITE_CHUNK_BYTES = 1024 * 1024;

export interface ResolvedOptions {
  readonly instanceName: string;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly credentialHelper: CredentialHelper | undefined;
  readonly caFile: string | undefined;
  readonly tlsClientCertificate: string | undefined;
  readonly tlsClientKey: string | undefined;
  readonly timeoutMs: number;
  readonly retry: Required<RetryOptions>;
  readonly maxBatchBytes: number;
  readonly writeChunkBytes: number;
  readonly protoDir: string | undefined;
}

const RESERVED_SEGMENTS = new Set([
  'blobs',
  'uploads',
  'actions',
  'actionResults',
  'operations',
  'capabilities',
  'compressed-blobs',
]);
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** Apply the defaults and reject bad or conflicting options before any I/O (IMG_INVALID_OPTIONS). */
export function resolveOptions(options: RemoteCacheOptions): ResolvedOptions {
  const invalid = (why: string): never => {
    throw new RemoteCacheError('IMG_INVALID_OPTIONS', `remote cache options: ${why}`);
  };
  const instanceName = options.instanceName ?? '';
  if (instanceName !== '') {
    const segments = instanceName.split('/');
    if (segments.some((s) => s === '' || s === '.' || s === '..' || RESERVED_SEGMENTS.has(s))) {
      invalid(`instanceName ${JSON.stringify(instanceName)} has an empty, relative or reserved segment`);
    }
  }
  for (const name of Object.keys(options.headers ?? {})) {
    if (!HEADER_NAME.test(name.toLowerCase())) invalid(`header name ${JSON.stringify(name)} is not valid`);
  }
  const positive = (value: number | undefined, fallback: number, name: string) => {
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || value <= 0)
      invalid(`${name} must be a positive integer, got ${value}`);
    return value;
  };
  if ((options.tlsClientCertificate === undefined) !== (options.tlsClientKey === undefined)) {
    invalid('tlsClientCertificate and tlsClientKey go together');
  }
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  positive(retry.attempts, 1, 'retry.attempts');
  const helper = options.credentialHelper;
  return {
    instanceName,
    headers: options.headers ?? {},
    credentialHelper: typeof helper === 'string' ? createCredentialHelper(helper) : helper,
    caFile: options.caFile,
    tlsClientCertificate: options.tlsClientCertificate,
    tlsClientKey: options.tlsClientKey,
    timeoutMs: positive(options.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs'),
    retry,
    maxBatchBytes: positive(options.maxBatchBytes, DEFAULT_MAX_BATCH_BYTES, 'maxBatchBytes'),
    writeChunkBytes: positive(options.writeChunkBytes, DEFAULT_WRITE_CHUNK_BYTES, 'writeChunkBytes'),
    protoDir: options.protoDir,
  };
}
