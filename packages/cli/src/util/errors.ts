import { ImgError } from '@img/oci-spec';

export type CliErrorCode =
  | 'IMG_CLI_USAGE'
  | 'IMG_CLI_INVALID_SPEC'
  | 'IMG_CLI_INVALID_INPUT'
  | 'IMG_CLI_OUTPUT_EXISTS'
  /** The destination refused a push for a reason the deploy strategy explains (cas_registry: a layer it lacks). */
  | 'IMG_CLI_PUSH_REFUSED'
  /** A lazy push or load found a blob in none of its places (evicted from the remote cache). */
  | 'IMG_CLI_BLOB_UNAVAILABLE';

/** Errors of the img command line: bad flags, bad spec files, bad input files. */
export class CliError extends ImgError<CliErrorCode> {}
