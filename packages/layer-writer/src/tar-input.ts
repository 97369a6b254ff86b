import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { type Duplex, PassThrough, type Readable } from 'node:stream';
import type { LayerCompression } from '@img/oci-spec';
import { createDecompressionLimit, createDecompressor, detectCompression } from './decompress.js';
import { LayerError } from './errors.js';
import { type DecompressionLimits, limitExceeded } from './limits.js';

const READ_CHUNK = 1024 * 1024;

/** An open regular file and its size. */
export interface OpenedFile {
  readonly handle: FileHandle;
  readonly size: number;
}

/**
 * Open `path` for reading; it must be a regular file once symlinks are followed. FIFOs, devices,
 * sockets and directories are refused (IMG_LAYER_UNSUPPORTED_FILE_TYPE) without blocking or reading:
 * the file is opened non-blocking and checked with fstat, so a FIFO swapped in after a stat cannot
 * hang us either. `what` says what the file is for in errors ("input tar").
 */
export async function openRegularFile(path: string, what = 'input tar'): Promise<OpenedFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new LayerError(
      'IMG_LAYER_SOURCE_MISSING',
      `${path}: cannot read ${what} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      { cause: err },
    );
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      const kind = st.isFIFO()
        ? 'a FIFO'
        : st.isCharacterDevice() || st.isBlockDevice()
          ? 'a device'
          : st.isDirectory()
            ? 'a directory'
            : st.isSocket()
              ? 'a socket'
              : 'not a regular file';
      throw new LayerError(
        'IMG_LAYER_UNSUPPORTED_FILE_TYPE',
        `${path}: ${what} is ${kind}, not a regular file`,
      );
    }
    return { handle, size: st.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

async function readMagic(path: string): Promise<Buffer> {
  const { handle } = await openRegularFile(path);
  try {
    const buf = Buffer.alloc(8);
    const { bytesRead } = await handle.read(buf, 0, 8, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The compression of a tar file, by magic bytes; the file must be a regular file. */
export async function detectFileCompression(path: string): Promise<LayerCompression> {
  return detectCompression(await readMagic(path), path);
}

/**
 * The uncompressed bytes of a (possibly compressed) regular file, read in 1 MiB chunks through a
 * back-pressured decompressor and capped by `limits`; errors name the file.
 */
export function openTarStream(
  path: string,
  format: LayerCompression,
  limits: DecompressionLimits = {},
): Readable {
  const out = new PassThrough({ highWaterMark: READ_CHUNK });
  const fail = (err: Error) => out.destroy(wrapDecompressError(path, err));
  openRegularFile(path).then(({ handle, size }) => {
    if (out.destroyed) {
      handle.close().catch(() => {});
      return;
    }
    const read = handle.createReadStream({ highWaterMark: READ_CHUNK });
    const stages: Array<Readable | Duplex> = [read];
    let tail: Readable = read;
    if (format !== 'none') {
      const decompressor = createDecompressor(format, { ...limits, where: path });
      const limit = createDecompressionLimit({ ...limits, compressedSize: size, where: path });
      stages.push(decompressor, limit);
      tail = read.pipe(decompressor).pipe(limit);
    }
    for (const s of stages) s.on('error', fail);
    out.on('close', () => {
      for (const s of stages) s.destroy();
    });
    tail.pipe(out);
  }, fail);
  return out;
}

export function wrapDecompressError(path: string, err: Error): Error {
  if (err.message.includes(path)) return err;
  if (err instanceof LayerError) return new LayerError(err.code, `${path}: ${err.message}`, { cause: err });
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ZSTD_error_frameParameter_windowTooLarge') {
    return limitExceeded(
      path,
      `a zstd frame needs a window above the cap (${err.message})`,
      'maxZstdWindowSize',
    );
  }
  if (code?.startsWith('Z_') || code?.startsWith('ZSTD_') || code?.startsWith('ERR_')) {
    return new LayerError('IMG_LAYER_INVALID_TAR', `${path}: cannot decompress: ${err.message}`, {
      cause: err,
    });
  }
  return err;
}
