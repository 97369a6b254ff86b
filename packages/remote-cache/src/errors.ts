import { ImgError } from '@img/oci-spec';

/**
 * Codes of RemoteCacheError. Match on `code`, never on the message. A blob whose bytes or size do not
 * match its digest fails with @img/oci-spec's IMG_DIGEST_MISMATCH / IMG_SIZE_MISMATCH (SpecError).
 */
export type RemoteCacheErrorCode =
  /** An option is invalid or options conflict (checked before any I/O). */
  | 'IMG_INVALID_OPTIONS'
  /** The endpoint is not `grpc://HOST:PORT`, `grpcs://HOST[:PORT]`, `HOST:PORT` or `unix:PATH`. */
  | 'IMG_REMOTE_CACHE_INVALID_ENDPOINT'
  /** A `bytestream://` URI is malformed. */
  | 'IMG_REMOTE_CACHE_INVALID_URI'
  /** The server is no CAS, or does not offer sha256. */
  | 'IMG_REMOTE_CACHE_UNSUPPORTED'
  /** The blob is not in the cache (evicted, or never uploaded). Never retried. */
  | 'IMG_REMOTE_CACHE_NOT_FOUND'
  /** Any other failed call, after the retries the error allows. */
  | 'IMG_REMOTE_CACHE_RPC'
  /** The vendored .proto files are not where they should be. */
  | 'IMG_REMOTE_CACHE_PROTO_NOT_FOUND';

/** Errors raised by @img/remote-cache. */
export class RemoteCacheError extends ImgError<RemoteCacheErrorCode> {
  /** The gRPC status code of the failed call (`IMG_REMOTE_CACHE_RPC`, `_NOT_FOUND`), when there was one. */
  readonly grpcCode: number | undefined;

  constructor(
    code: RemoteCacheErrorCode,
    message: string,
    options: { cause?: unknown; grpcCode?: number } = {},
  ) {
    super(code, message, { cause: options.cause });
    this.grpcCode = options.grpcCode;
  }
}
