import { ImgError } from '@img/oci-spec';

/** Codes of BesError. Match on `code`, never on the message. */
export type BesErrorCode =
  /** An option is invalid (checked before the server starts). */
  | 'IMG_INVALID_OPTIONS'
  /** The vendored .proto files are not where the bundle or `$IMG_BES_PROTO_DIR` says. */
  | 'IMG_BES_PROTO_NOT_FOUND'
  /** The address or port cannot be listened on. */
  | 'IMG_BES_LISTEN'
  /** A push target's request is missing from its outputs, not in the remote cache, or not a BES push request. */
  | 'IMG_BES_PUSH_REQUEST'
  /** A blob of the image is neither in the remote cache nor in a registry the request names. */
  | 'IMG_BES_BLOB_UNAVAILABLE';

/** Errors raised by @img/bes-listener. */
export class BesError extends ImgError<BesErrorCode> {}
