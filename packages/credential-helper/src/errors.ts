/**
 * Codes of CredentialHelperError. Match on `code`, never on the message.
 * - IMG_CREDENTIAL_HELPER_FAILED: the helper could not be started, timed out, exited non-zero or
 *   printed something that is not the protocol's JSON.
 */
export type CredentialHelperErrorCode = 'IMG_CREDENTIAL_HELPER_FAILED';

/** `Symbol.for('img.error')`: the brand @img/oci-spec's ImgError recognises (this package depends on nothing). */
const IMG_ERROR_BRAND = Symbol.for('img.error');

/**
 * Errors raised by @img/credential-helper. Carries the same brand as `ImgError` of `@img/oci-spec`, so
 * `err instanceof ImgError` holds without this package depending on it.
 */
export class CredentialHelperError extends Error {
  readonly code: CredentialHelperErrorCode;
  /** The helper executable as configured. */
  readonly helper: string;

  constructor(
    code: CredentialHelperErrorCode,
    helper: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.helper = helper;
    this.name = 'CredentialHelperError';
    Object.defineProperty(this, IMG_ERROR_BRAND, { value: true });
  }
}
