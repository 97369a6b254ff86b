import { ImgError } from '@img/oci-spec';

export type RegistryErrorCode =
  /** A reference like `registry/repo:tag@digest` that does not parse. */
  | 'IMG_REGISTRY_INVALID_REFERENCE'
  /** Conflicting or out-of-range options, caught before any request. */
  | 'IMG_REGISTRY_INVALID_OPTIONS'
  /** An image handed to push that is inconsistent (bytes vs descriptor, a referenced blob missing). */
  | 'IMG_REGISTRY_INVALID_IMAGE'
  /** 401 after the credentials and the token flow were tried. */
  | 'IMG_REGISTRY_UNAUTHORIZED'
  /** 403: the credentials are valid but not allowed to do this. */
  | 'IMG_REGISTRY_DENIED'
  /** 404: manifest, blob or repository unknown. */
  | 'IMG_REGISTRY_NOT_FOUND'
  /** Any other unexpected HTTP status (5xx and 429 after the retries ran out, 400, 413...). */
  | 'IMG_REGISTRY_HTTP_ERROR'
  /** The connection failed (refused, reset, closed) and the retries, if any, ran out. */
  | 'IMG_REGISTRY_NETWORK_ERROR'
  /** A connect or idle timeout, or the overall deadline of the call, passed. */
  | 'IMG_REGISTRY_TIMEOUT'
  /** A response that breaks the protocol: no Location, bad Range, invalid JSON, too large... */
  | 'IMG_REGISTRY_INVALID_RESPONSE'
  /** A manifest media type we do not handle (Docker schema 1, unknown types). */
  | 'IMG_REGISTRY_UNSUPPORTED_MEDIA_TYPE'
  /** No entry of an index (or no single manifest) matches the requested platform. */
  | 'IMG_REGISTRY_PLATFORM_NOT_FOUND'
  /** A Docker/Podman auth file that cannot be read or parsed. */
  | 'IMG_REGISTRY_AUTH_CONFIG'
  /** A credential helper that failed (other than "credentials not found"). */
  | 'IMG_REGISTRY_CREDENTIAL_HELPER'
  /** The token server refused or answered without a token. */
  | 'IMG_REGISTRY_TOKEN_ERROR'
  /** A blob to push that is not on the destination and has no way to be opened (no open(), no source). */
  | 'IMG_REGISTRY_BLOB_UNAVAILABLE';

/** One entry of a distribution-spec error body `{"errors":[{code,message,detail}]}`. */
export interface RegistryDiagnostic {
  readonly code: string;
  readonly message?: string;
  readonly detail?: unknown;
}

export interface RegistryErrorDetails {
  /** Registry host (`index.docker.io`, `127.0.0.1:5000`). */
  readonly registry?: string;
  readonly repository?: string;
  /** HTTP status of the failing response. */
  readonly status?: number;
  readonly method?: string;
  /** The request URL with credentials and query values redacted. */
  readonly url?: string;
  /** Errors from the response body; the first one's code is `distributionCode`. */
  readonly diagnostics?: readonly RegistryDiagnostic[];
  /** True when repeating the request later may succeed (408, 429, 5xx, connection resets). */
  readonly retryable?: boolean;
  /** The response's `Retry-After`, in ms. */
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
}

/**
 * Errors raised by @img/registry-client. Match on `code`; `distributionCode` carries the
 * distribution-spec code of the response body (MANIFEST_UNKNOWN, BLOB_UPLOAD_INVALID...).
 * Messages and fields never contain credentials: URLs are redacted, secrets scrubbed.
 */
export class RegistryError extends ImgError<RegistryErrorCode> {
  readonly registry?: string;
  readonly repository?: string;
  readonly status?: number;
  readonly method?: string;
  readonly url?: string;
  readonly diagnostics: readonly RegistryDiagnostic[];
  readonly distributionCode?: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;

  constructor(code: RegistryErrorCode, message: string, details: RegistryErrorDetails = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.registry = details.registry;
    this.repository = details.repository;
    this.status = details.status;
    this.method = details.method;
    this.url = details.url;
    this.diagnostics = details.diagnostics ?? [];
    this.distributionCode = this.diagnostics[0]?.code;
    this.retryable = details.retryable ?? false;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
  }
}

/** The code for an unexpected HTTP status. */
export function codeForStatus(status: number): RegistryErrorCode {
  if (status === 401) return 'IMG_REGISTRY_UNAUTHORIZED';
  if (status === 403) return 'IMG_REGISTRY_DENIED';
  if (status === 404) return 'IMG_REGISTRY_NOT_FOUND';
  return 'IMG_REGISTRY_HTTP_ERROR';
}

/** Parse a distribution-spec error body; anything else yields no diagnostics. */
export function parseErrorBody(text: string): RegistryDiagnostic[] {
  try {
    const doc = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(doc.errors)) return [];
    return doc.errors
      .filter(
        (e): e is Record<string, unknown> =>
          typeof e === 'object' && e !== null && typeof e.code === 'string',
      )
      .map((e) => ({
        code: e.code as string,
        message: typeof e.message === 'string' ? e.message : undefined,
        detail: e.detail,
      }));
  } catch {
    return [];
  }
}
