import { ImgError } from '@img/oci-spec';

export type AssemblyErrorCode =
  | 'IMG_ASSEMBLY_PLATFORM_MISMATCH'
  | 'IMG_ASSEMBLY_INVALID_BASE'
  | 'IMG_ASSEMBLY_INVALID_OPTION'
  | 'IMG_ASSEMBLY_DUPLICATE_PLATFORM';

/** Errors raised while assembling configs, manifests and indexes. */
export class AssemblyError extends ImgError<AssemblyErrorCode> {}
