import { ImgError } from '@img/oci-spec';

export type LayoutErrorCode =
  | 'IMG_LAYOUT_NOT_FOUND'
  | 'IMG_LAYOUT_INVALID'
  | 'IMG_LAYOUT_BLOB_MISSING'
  | 'IMG_LAYOUT_DIGEST_MISMATCH'
  | 'IMG_LAYOUT_SIZE_MISMATCH'
  | 'IMG_LAYOUT_DIFF_ID_MISMATCH'
  | 'IMG_LAYOUT_NO_MATCHING_PLATFORM'
  | 'IMG_LAYOUT_UNSUPPORTED'
  | 'IMG_LAYOUT_LOCKED'
  | 'IMG_LAYOUT_NOT_A_LAYOUT';

/** Errors raised reading, writing or validating image layouts and archives. */
export class LayoutError extends ImgError<LayoutErrorCode> {}
