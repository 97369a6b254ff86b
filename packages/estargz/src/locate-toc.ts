import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { LayerError } from '@img/layer-writer';
import { createDecompressor, openRegularFile, TarParser } from '@img/layer-writer/internal';
import type { Digest } from '@img/oci-spec';
import type { EstargzFormat } from './codec.js';
import { CS_ZSTD_CHUNKED_FOOTER_MAGIC, ZSTD_CHUNKED_FOOTER_MAGIC } from './codec.js';
import {
  CS_ZSTD_CHUNKED_FOOTER_SIZE,
  TOC_TAR_NAME,
  ZSTD_CHUNKED_FOOTER_SIZE,
  ZSTD_SKIPPABLE_FRAME_HEADER_SIZE,
} from './constants.js';
import { EstargzError } from './errors.js';
import { parseGzipFooter } from './gzip-member.js';
import { asEstargzLimit, type EstargzReadOptions, resolveMaxTocSize, tocTooLarge } from './read-options.js';

/** Where a blob's TOC is and what it says, as read from the footer. */
export interface LocatedToc {
  readonly format: EstargzFormat;
  readonly blobSize: number;
  /** Blob offset of the TOC (gzip: its member; zstd: the compressed TOC inside its skippable frame). */
  readonly tocOffset: number;
  /** Where payload members end (the TOC member or the TOC's skippable frame starts). */
  readonly dataEnd: number;
  readonly tocJson: Buffer;
  readonly tocDigest: Digest;
}

const TAIL_SIZE = CS_ZSTD_CHUNKED_FOOTER_SIZE + ZSTD_SKIPPABLE_FRAME_HEADER_SIZE;

export async function readRange(
  fh: FileHandle,
  start: number,
  length: number,
  where: string,
): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, start + done);
    if (bytesRead === 0) {
      throw new EstargzError(
        'IMG_ESTARGZ_NOT_ESTARGZ',
        `${where}: blob ends at ${start + done}, expected ${start + length} bytes`,
      );
    }
    done += bytesRead;
  }
  return buf;
}

/**
 * Decompress a whole buffer (gzip: every member; zstd: every frame), failing with `tooLarge()` as soon
 * as the output passes `max` bytes.
 */
export async function inflate(
  format: EstargzFormat,
  data: Buffer,
  max: number,
  tooLarge: () => Error,
  options: EstargzReadOptions = {},
): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  const inflater = Readable.from([data]).pipe(
    createDecompressor(format === 'estargz' ? 'gzip' : 'zstd', options),
  );
  try {
    for await (const part of inflater) {
      size += (part as Buffer).length;
      if (size > max) throw tooLarge();
      parts.push(part as Buffer);
    }
  } finally {
    inflater.destroy();
  }
  return Buffer.concat(parts);
}

function notEstargz(where: string, why: string): EstargzError {
  return new EstargzError('IMG_ESTARGZ_NOT_ESTARGZ', `${where}: not an eStargz or zstd:chunked blob: ${why}`);
}

function corruptToc(where: string, why: string, cause?: unknown): EstargzError {
  return new EstargzError('IMG_ESTARGZ_INVALID_TOC', `${where}: cannot read the TOC: ${why}`, { cause });
}

/** A TOC tar holds the JSON plus a header or two, its padding and the end-of-archive blocks. */
const TOC_TAR_OVERHEAD = 64 * 1024;

async function gzipToc(
  fh: FileHandle,
  where: string,
  blobSize: number,
  tail: Buffer,
  options: EstargzReadOptions,
): Promise<LocatedToc | undefined> {
  const footer = parseGzipFooter(tail);
  if (footer === undefined) return undefined;
  const dataEnd = footer.tocOffset;
  const tocEnd = blobSize - footer.footerSize;
  if (dataEnd >= tocEnd)
    throw notEstargz(where, `footer points at offset ${dataEnd}, past the TOC area (truncated?)`);
  const maxToc = resolveMaxTocSize(options);
  if (tocEnd - dataEnd > maxToc)
    throw tocTooLarge(where, `the compressed TOC (${tocEnd - dataEnd} bytes)`, maxToc);
  const member = await readRange(fh, dataEnd, tocEnd - dataEnd, where);
  let tar: Buffer;
  try {
    tar = await inflate(
      'estargz',
      member,
      maxToc + TOC_TAR_OVERHEAD,
      () => tocTooLarge(where, 'the TOC', maxToc),
      options,
    );
  } catch (err) {
    if (err instanceof EstargzError) throw err;
    throw corruptToc(
      where,
      `TOC member at offset ${dataEnd} is not valid gzip (${(err as Error).message})`,
      err,
    );
  }
  let name: string | undefined;
  let size = 0;
  let entries = 0;
  const data: Buffer[] = [];
  const parser = new TarParser({
    onEntry: (e) => {
      entries++;
      if (entries === 1) {
        name = e.name;
        size = e.size;
      }
    },
    onData: (b) => {
      if (entries === 1) data.push(Buffer.from(b));
    },
  });
  try {
    parser.push(tar);
  } catch (err) {
    if (err instanceof LayerError && err.code === 'IMG_LAYER_LIMIT_EXCEEDED') throw asEstargzLimit(err);
    throw corruptToc(where, `TOC member is not a tar entry (${(err as Error).message})`, err);
  }
  if (name !== TOC_TAR_NAME) {
    throw corruptToc(
      where,
      `TOC tar entry is named ${JSON.stringify(name ?? '')}, expected ${JSON.stringify(TOC_TAR_NAME)}`,
    );
  }
  const tocJson = Buffer.concat(data).subarray(0, size);
  if (tocJson.length !== size)
    throw corruptToc(where, `TOC entry is truncated (${tocJson.length} of ${size} bytes)`);
  return { format: 'estargz', blobSize, tocOffset: dataEnd, dataEnd, tocJson, tocDigest: sha256(tocJson) };
}

const SKIPPABLE_MAGIC = 0x184d2a50;

/**
 * Size of the zstd:chunked footer at the end of `tail`: containers/storage's 64 bytes (magic
 * "GNUlInUx"; its skippable frame header says 64) or stargz-snapshotter's 40 ("GnUlInUx"); undefined
 * when neither is there.
 */
function zstdFooterSize(tail: Buffer): number | undefined {
  if (tail.length < ZSTD_CHUNKED_FOOTER_SIZE + ZSTD_SKIPPABLE_FRAME_HEADER_SIZE) return undefined;
  const magic = tail.subarray(tail.length - 8);
  const sizes = magic.equals(CS_ZSTD_CHUNKED_FOOTER_MAGIC)
    ? [CS_ZSTD_CHUNKED_FOOTER_SIZE]
    : magic.equals(ZSTD_CHUNKED_FOOTER_MAGIC)
      ? [CS_ZSTD_CHUNKED_FOOTER_SIZE, ZSTD_CHUNKED_FOOTER_SIZE]
      : [];
  for (const size of sizes) {
    const header = tail.length - size - ZSTD_SKIPPABLE_FRAME_HEADER_SIZE;
    if (
      header >= 0 &&
      tail.readUInt32LE(header) === SKIPPABLE_MAGIC &&
      tail.readUInt32LE(header + 4) === size
    ) {
      return size;
    }
  }
  return undefined;
}

async function zstdToc(
  fh: FileHandle,
  where: string,
  blobSize: number,
  tail: Buffer,
  options: EstargzReadOptions,
): Promise<LocatedToc | undefined> {
  const footerSize = zstdFooterSize(tail);
  if (footerSize === undefined) return undefined;
  // Both layouts start with the manifest's offset, compressed and uncompressed size.
  const footer = tail.subarray(tail.length - footerSize);
  const tocOffset = Number(footer.readBigUInt64LE(0));
  const compressedSize = Number(footer.readBigUInt64LE(8));
  const rawSize = Number(footer.readBigUInt64LE(16));
  const footerFrame = blobSize - footerSize - ZSTD_SKIPPABLE_FRAME_HEADER_SIZE;
  if (
    !Number.isSafeInteger(tocOffset) ||
    tocOffset < ZSTD_SKIPPABLE_FRAME_HEADER_SIZE ||
    tocOffset + compressedSize > footerFrame
  ) {
    throw notEstargz(
      where,
      `zstd:chunked footer points at ${tocOffset}+${compressedSize}, outside the blob (truncated?)`,
    );
  }
  const maxToc = resolveMaxTocSize(options);
  if (rawSize > maxToc) throw tocTooLarge(where, `the TOC (${rawSize} bytes, says the footer)`, maxToc);
  if (compressedSize > maxToc)
    throw tocTooLarge(where, `the compressed TOC (${compressedSize} bytes)`, maxToc);
  const compressed = await readRange(fh, tocOffset, compressedSize, where);
  let tocJson: Buffer;
  try {
    tocJson = await inflate(
      'zstd:chunked',
      compressed,
      rawSize,
      () => corruptToc(where, `TOC is larger than the ${rawSize} bytes the footer says`),
      options,
    );
  } catch (err) {
    if (err instanceof EstargzError) throw err;
    throw corruptToc(
      where,
      `TOC frame at offset ${tocOffset} is not valid zstd (${(err as Error).message})`,
      err,
    );
  }
  if (tocJson.length !== rawSize) {
    throw corruptToc(where, `TOC is ${tocJson.length} bytes, the footer says ${rawSize}`);
  }
  const dataEnd = tocOffset - ZSTD_SKIPPABLE_FRAME_HEADER_SIZE;
  return { format: 'zstd:chunked', blobSize, tocOffset, dataEnd, tocJson, tocDigest: sha256(tocJson) };
}

/**
 * Read the footer at the end of `fh` and the TOC it points at; `where` names the blob in errors. The
 * TOC is capped by `options.maxTocSize` before and while it is decompressed.
 */
export async function locateToc(
  fh: FileHandle,
  where: string,
  options: EstargzReadOptions = {},
): Promise<LocatedToc> {
  const blobSize = (await fh.stat()).size;
  const tailSize = Math.min(TAIL_SIZE, blobSize);
  const tail = await readRange(fh, blobSize - tailSize, tailSize, where);
  const found =
    (await gzipToc(fh, where, blobSize, tail, options)) ??
    (await zstdToc(fh, where, blobSize, tail, options));
  if (found === undefined) {
    throw notEstargz(where, `no eStargz footer in its last ${tailSize} bytes (truncated, or a plain layer?)`);
  }
  return found;
}

/**
 * Open a blob for reading, failing with IMG_ESTARGZ_READ_FAILED naming it; it must be a regular file
 * (a FIFO or a device is refused without reading it).
 */
export async function openBlob(path: string): Promise<FileHandle> {
  try {
    return (await openRegularFile(path, 'blob')).handle;
  } catch (err) {
    const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    const message = code === undefined ? (err as Error).message : `${path}: cannot open blob (${code})`;
    throw new EstargzError('IMG_ESTARGZ_READ_FAILED', message, { cause: err });
  }
}

function sha256(bytes: Buffer): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
}
