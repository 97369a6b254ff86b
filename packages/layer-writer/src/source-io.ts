import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { LayerError } from './errors.js';

/** Files up to this size are read with synchronous calls (cheaper than several async calls per file). */
export const SMALL_FILE_SIZE = 256 * 1024;
const HASH_BUFFER_SIZE = 1024 * 1024;

export function sourceMissing(hostPath: string, err: unknown): LayerError {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return new LayerError('IMG_LAYER_SOURCE_MISSING', `${hostPath}: cannot read source file (${code})`, {
    cause: err,
  });
}

export function sourceChanged(hostPath: string, expected: number, actual?: number): never {
  throw new LayerError(
    'IMG_LAYER_SOURCE_CHANGED',
    `${hostPath}: file changed while writing the layer (expected ${expected} bytes${actual === undefined ? '' : `, found ${actual}`})`,
  );
}

export function openSourceSync(hostPath: string): number {
  try {
    return openSync(hostPath, 'r');
  } catch (err) {
    throw sourceMissing(hostPath, err);
  }
}

/** The whole content of a small host file, which must still be `size` bytes long. */
export function readSmallFile(hostPath: string, size: number): Buffer {
  const fd = openSourceSync(hostPath);
  try {
    const actual = fstatSync(fd).size;
    if (actual !== size) sourceChanged(hostPath, size, actual);
    const buf = Buffer.allocUnsafe(size);
    let pos = 0;
    while (pos < size) {
      const got = readSync(fd, buf, pos, size - pos, pos);
      if (got === 0) sourceChanged(hostPath, size);
      pos += got;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** sha256 (hex) of a host file, which must be `size` bytes long. */
export async function hashHostFile(hostPath: string, size: number): Promise<string> {
  if (size <= SMALL_FILE_SIZE)
    return createHash('sha256').update(readSmallFile(hostPath, size)).digest('hex');
  const fh = await open(hostPath, 'r').catch((err: unknown) => {
    throw sourceMissing(hostPath, err);
  });
  try {
    const actual = (await fh.stat()).size;
    if (actual !== size) sourceChanged(hostPath, size, actual);
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(HASH_BUFFER_SIZE);
    let pos = 0;
    while (pos < size) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
      if (bytesRead === 0) sourceChanged(hostPath, size);
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return hash.digest('hex');
  } finally {
    await fh.close();
  }
}
