import { ImgError } from '@img/oci-spec';

export type LayerErrorCode =
  | 'IMG_LAYER_PATH_ESCAPES'
  | 'IMG_LAYER_INVALID_PATH'
  | 'IMG_LAYER_DUPLICATE_PATH'
  | 'IMG_LAYER_PATH_CONFLICT'
  | 'IMG_LAYER_SOURCE_MISSING'
  | 'IMG_LAYER_SOURCE_CHANGED'
  | 'IMG_LAYER_UNSUPPORTED_FILE_TYPE'
  | 'IMG_LAYER_INVALID_METADATA'
  | 'IMG_LAYER_UNMATCHED_METADATA'
  | 'IMG_LAYER_UNKNOWN_COMPRESSION'
  | 'IMG_LAYER_INVALID_LEVEL'
  | 'IMG_LAYER_INVALID_TAR'
  | 'IMG_LAYER_LIMIT_EXCEEDED'
  | 'IMG_LAYER_INVALID_OPTION';

/** Errors raised by @img/layer-writer. Match on `code`; the message names the path or field. */
export class LayerError extends ImgError<LayerErrorCode> {}
