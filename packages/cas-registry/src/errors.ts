import { ImgError } from '@img/oci-spec';

export type CasRegistryErrorCode =
  | 'IMG_CASREG_INVALID_OPTION'
  | 'IMG_CASREG_BLOB_NOT_FOUND'
  | 'IMG_CASREG_DIGEST_MISMATCH'
  | 'IMG_CASREG_SIZE_MISMATCH'
  | 'IMG_CASREG_TOO_LARGE'
  | 'IMG_CASREG_LISTEN'
  | 'IMG_CASREG_UNAVAILABLE';

/** Errors raised by @img/cas-registry (its options, blob stores and server start-up). Match on `code`. */
export class CasRegistryError extends ImgError<CasRegistryErrorCode> {}

/** The error a BlobStore raises for a digest it does not hold (also when it vanished mid-read). */
export function blobNotFound(digest: string, where: string): CasRegistryError {
  return new CasRegistryError('IMG_CASREG_BLOB_NOT_FOUND', `${where}: blob ${digest} not found`);
}

export function isBlobNotFound(err: unknown): boolean {
  return err instanceof CasRegistryError && err.code === 'IMG_CASREG_BLOB_NOT_FOUND';
}
