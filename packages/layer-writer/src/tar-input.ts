import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import type { LayerCompression } from '@img/oci-spec';
import { createDecompressor, detectCompression } from './decompress.js';
import { LayerError } from './errors.js';

async function readMagic(path: string): Promise<Buffer> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new LayerError(
      'IMG_LAYER_SOURCE_MISSING',
      `${path}: cannot read input tar (${(err as NodeJS.ErrnoException).code})`,
      { cause: err },
    );
  }
  try {
    const buf = Buffer.alloc(8);
    const { bytesRead } = await fh.read(buf, 0, 8, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The compression of a tar file, by magic bytes. */
export async function detectFileCompression(path: string): Promise<LayerCompression> {
  return detectCompression(await readMagic(path), path);
}

/** The uncompressed tar bytes of a (possibly compressed) tar file; errors name the file. */
export function openTarStream(path: string, format: LayerCompression): Readable {
  const read = createReadStream(path, { highWaterMark: 1024 * 1024 });
  const decompressor = createDecompressor(format);
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  const fail = (err: Error) => out.destroy(wrapDecompressError(path, err));
  read.on('error', fail);
  decompressor.on('error', fail);
  out.on('close', () => {
    read.destroy();
    decompressor.destroy();
  });
  read.pipe(decompressor).pipe(out);
  return out;
}

export function wrapDecompressError(path: string, err: Error): Error {
  if (err.message.includes(path)) return err;
  if (err instanceof LayerError) return new LayerError(err.code, `${path}: ${err.message}`, { cause: err });
  if (
    (err as NodeJS.ErrnoException).code?.startsWith('Z_') ||
    (err as NodeJS.ErrnoException).code?.startsWith('ERR_')
  ) {
    return new LayerError('IMG_LAYER_INVALID_TAR', `${path}: cannot decompress: ${err.message}`, {
      cause: err,
    });
  }
  return err;
}
