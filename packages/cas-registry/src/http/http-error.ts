/** Error codes of the distribution spec (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes). */
export type DistributionErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'UNAVAILABLE';

/** A request the registry refuses: an HTTP status plus the spec's error code and a one-line message. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: DistributionErrorCode;
  readonly detail: unknown;
  /** Extra response headers (Range on a 416, Location for the client to resume an upload). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: DistributionErrorCode,
    message: string,
    options: { detail?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.detail = options.detail ?? null;
    this.headers = options.headers ?? {};
  }
}

export const nameInvalid = (name: string) =>
  new HttpError(400, 'NAME_INVALID', `invalid repository name ${JSON.stringify(name)}`);
export const nameUnknown = (name: string) =>
  new HttpError(404, 'NAME_UNKNOWN', `repository ${name} not known to registry`);
export const blobUnknown = (name: string, digest: string) =>
  new HttpError(404, 'BLOB_UNKNOWN', `blob ${digest} unknown to repository ${name}`, { detail: { digest } });
export const manifestUnknown = (name: string, reference: string) =>
  new HttpError(404, 'MANIFEST_UNKNOWN', `manifest ${reference} unknown to repository ${name}`, {
    detail: { reference },
  });
export const digestInvalid = (message: string) => new HttpError(400, 'DIGEST_INVALID', message);
export const manifestInvalid = (message: string) => new HttpError(400, 'MANIFEST_INVALID', message);
export const uploadUnknown = (id: string) =>
  new HttpError(404, 'BLOB_UPLOAD_UNKNOWN', `blob upload ${id} unknown to registry`);
export const unsupported = (message: string, status = 405) => new HttpError(status, 'UNSUPPORTED', message);
