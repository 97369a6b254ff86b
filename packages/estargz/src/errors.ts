import { ImgError } from '@img/oci-spec';

export type EstargzErrorCode =
  | 'IMG_ESTARGZ_INVALID_OPTION'
  | 'IMG_ESTARGZ_RESERVED_PATH'
  | 'IMG_ESTARGZ_PRIORITIZED_NOT_FOUND'
  | 'IMG_ESTARGZ_READ_FAILED'
  | 'IMG_ESTARGZ_NOT_ESTARGZ'
  | 'IMG_ESTARGZ_INVALID_TOC'
  | 'IMG_ESTARGZ_TOC_DIGEST_MISMATCH'
  | 'IMG_ESTARGZ_CHUNK_DIGEST_MISMATCH'
  | 'IMG_ESTARGZ_FILE_DIGEST_MISMATCH'
  | 'IMG_ESTARGZ_CORRUPT_DATA'
  | 'IMG_ESTARGZ_NOT_FOUND'
  | 'IMG_ESTARGZ_NOT_A_FILE'
  | 'IMG_ESTARGZ_LIMIT_EXCEEDED';

/** Errors raised by @img/estargz. Match on `code`; the message names the blob, entry or option. */
export class EstargzError extends ImgError<EstargzErrorCode> {}
