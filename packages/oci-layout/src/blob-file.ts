import { constants, createReadStream } from 'node:fs';
import { type FileHandle, lstat, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  type BlobSource,
  type Descriptor,
  type Digest,
  digestAlgorithm,
  digestHex,
  parseDigest,
} from '@img/oci-spec';
import { LayoutError } from './errors.js';

/**
 * Read size of blob streams. Node's 64 KiB default costs a read, a socket write and a trip through
 * the stream machinery per 64 KiB; 1 MiB reads halve the CPU of pushing or loading a layer.
 */
export const READ_CHUNK = 1024 * 1024;

/**
 * Never follow a symlink in the last component; never block on opening a FIFO (it is then refused as
 * not a regular file). O_NONBLOCK changes nothing for regular files.
 */
const SAFE_OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** For a path the user named (a build input, often a symlink in a Bazel sandbox): follow it, never block. */
const NAMED_OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/**
 * `blobs/<algorithm>/<hex>` of a digest, parsed first: a string that is not a registered digest
 * (`sha256:../../x`) never becomes a path.
 */
export function blobPath(digest: string, where = 'digest'): string {
  const parsed: Digest = parseDigest(digest, where);
  return `blobs/${digestAlgorithm(parsed)}/${digestHex(parsed)}`;
}

function notRegular(path: string, what: string): LayoutError {
  return new LayoutError('IMG_LAYOUT_INVALID', `${path}: ${what}, not a regular file (refused)`);
}

/**
 * Open a regular file for reading, refusing symlinks, devices, FIFOs and sockets without following,
 * reading or blocking on them. Undefined when it does not exist. With `follow` (a path the user
 * trusts, such as Bazel's runfiles) a symlink is followed; what it leads to must still be regular.
 */
export async function openRegularFile(path: string, follow = false): Promise<FileHandle | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, follow ? NAMED_OPEN_FLAGS : SAFE_OPEN_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP') throw notRegular(path, 'a symbolic link');
    throw e;
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw notRegular(path, st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a device' : 'something else');
  }
  return fh;
}

/**
 * Size of a regular file, or undefined when it does not exist. A symlink is refused (lstat), unless
 * `follow` (a path the user named): then the file it leads to must be regular.
 */
export async function regularFileSize(path: string, follow = false): Promise<number | undefined> {
  try {
    const st = follow ? await stat(path) : await lstat(path);
    if (!st.isFile()) throw notRegular(path, st.isSymbolicLink() ? 'a symbolic link' : 'not a file');
    return st.size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** A whole regular file of at most `maxBytes` bytes; undefined when absent. */
export async function readRegularFile(
  path: string,
  maxBytes: number,
  follow = false,
): Promise<Buffer | undefined> {
  const fh = await openRegularFile(path, follow);
  if (!fh) return undefined;
  try {
    const { size } = await fh.stat();
    if (size > maxBytes) {
      throw new LayoutError(
        'IMG_LAYOUT_INVALID',
        `${path}: ${size} bytes, more than the limit of ${maxBytes}`,
      );
    }
    const buf = Buffer.alloc(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await fh.read(buf, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buf.subarray(0, filled);
  } finally {
    await fh.close();
  }
}

/**
 * A stream of a regular file from `start`: checked first, then opened without blocking on a FIFO and,
 * unless `follow`, without following a symlink (a file swapped in between is refused by the flags).
 */
export async function regularFileStream(path: string, start = 0, follow = false): Promise<Readable> {
  if ((await regularFileSize(path, follow)) === undefined) {
    throw new LayoutError('IMG_LAYOUT_BLOB_MISSING', `${path}: no such file`);
  }
  // Node's types want a string for flags; fs.open takes the numbers too.
  const flags = (follow ? NAMED_OPEN_FLAGS : SAFE_OPEN_FLAGS) as unknown as string;
  return createReadStream(path, { flags, start, highWaterMark: READ_CHUNK });
}

/**
 * A blob held by a local file that holds exactly its bytes (a layer `img layer` or `img build` wrote):
 * `path` lets a layout writer hard-link it instead of copying. The path may be a symlink (Bazel sandboxes
 * link their inputs); what it leads to must be a regular file.
 */
export function fileBlobSource(descriptor: Descriptor, path: string): BlobSource {
  return { descriptor, path, open: (options) => regularFileStream(path, options?.offset ?? 0, true) };
}

/**
 * A blob file of a layout directory, opened safely, without `path` (its bytes are not trusted);
 * `follow` only for a layout the user trusts (symlinks followed, the target must be regular).
 */
export function layoutBlobSource(root: string, descriptor: Descriptor, follow = false): BlobSource {
  const path = join(root, blobPath(descriptor.digest));
  return { descriptor, open: (options) => regularFileStream(path, options?.offset ?? 0, follow) };
}
