import { mkdir, rmdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { outputError } from './errors.js';

/**
 * Why a recursive mkdir of `path` failed. Node reports ENOENT for any failure of a recursive mkdir
 * (a read-only file system, a permission), so create the first missing directory on its own to see
 * the real error.
 */
async function realError(path: string, reported: unknown): Promise<unknown> {
  let first = resolve(path);
  for (;;) {
    const parent = dirname(first);
    if (parent === first || (await stat(parent).catch(() => undefined))) break;
    first = parent;
  }
  try {
    await mkdir(first);
    await rmdir(first);
    return reported;
  } catch (err) {
    return err;
  }
}

/**
 * `mkdir -p path`: resolves to the first directory it created (undefined when `path` existed), fails
 * with a one-line OutputError naming `path` and the real cause.
 */
export async function makeDirectory(path: string): Promise<string | undefined> {
  try {
    return await mkdir(path, { recursive: true });
  } catch (err) {
    const cause = (err as NodeJS.ErrnoException).code === 'ENOENT' ? await realError(path, err) : err;
    throw outputError(cause, path, 'cannot create');
  }
}
