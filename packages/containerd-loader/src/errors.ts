import { ImgError } from '@img/oci-spec';

export type LoadErrorCode =
  | 'IMG_LOAD_CONNECT'
  | 'IMG_LOAD_PROTO_NOT_FOUND'
  | 'IMG_LOAD_RPC'
  | 'IMG_LOAD_BLOB_MISSING'
  | 'IMG_LOAD_DIGEST_MISMATCH'
  | 'IMG_LOAD_NO_MATCHING_PLATFORM'
  | 'IMG_LOAD_INVALID_NAME'
  | 'IMG_LOAD_INVALID_IMAGE'
  | 'IMG_LOAD_DAEMON'
  | 'IMG_LOAD_UNSUPPORTED';

/** Errors raised loading an image into containerd, Docker or Podman. */
export class LoadError extends ImgError<LoadErrorCode> {}
