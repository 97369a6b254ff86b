import { ImgError } from '@img/oci-spec';

export type OutputErrorCode = 'IMG_OUTPUT_WRITE_FAILED';

/** A file or directory could not be written; the message names it and says why in one line. */
export class OutputError extends ImgError<OutputErrorCode> {}

const REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EBUSY: 'resource busy',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'already exists',
  EFBIG: 'file too large',
  EIO: 'input/output error',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
  ENOENT: 'no such file or directory',
  ENOSPC: 'no space left on device',
  ENOTDIR: 'a parent is not a directory',
  ENOTEMPTY: 'directory not empty',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EXDEV: 'not on the same file system',
};

/** `no space left on device (ENOSPC)` for a Node system error; undefined for any other error. */
export function systemErrorReason(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return undefined;
  const known = REASONS[code];
  if (known) return `${known} (${code})`;
  // Node's own text: "ECODE: description, syscall 'path'" - keep the description only.
  const text = String((err as Error).message ?? '')
    .replace(/^E[A-Z0-9]+: /, '')
    .replace(/,.*$/s, '');
  return `${text || 'system error'} (${code})`;
}

/**
 * The one-line error for a failed system call on `path` (`PATH: cannot write: no space left on
 * device (ENOSPC)`). img's own errors and errors that are not system errors are returned unchanged.
 */
export function outputError(err: unknown, path: string, action = 'cannot write'): unknown {
  if (err instanceof ImgError) return err;
  const reason = systemErrorReason(err);
  if (reason === undefined) return err;
  return new OutputError('IMG_OUTPUT_WRITE_FAILED', `${path}: ${action}: ${reason}`, { cause: err });
}
