import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createDecompressor, TarParser } from '@img/layer-writer/internal';
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

/** Decompress a whole buffer (gzip: every member; zstd: every frame). */
export async function inflate(format: EstargzFormat, data: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of Readable.from([data]).pipe(
    createDecompressor(format === 'estargz' ? 'gzip' : 'zstd'),
  )) {
    parts.push(part as Buffer);
  }
  return Buffer.concat(parts);
}

function notEstargz(where: string, why: string): EstargzError {
  return new EstargzError('IMG_ESTARGZ_NOT_ESTARGZ', `${where}: not an eStargz or zstd:chunked blob: ${why}`);
}

function corruptToc(where: string, why: string, cause?: unknown): EstargzError {
  return new EstargzError('IMG_ESTARGZ_INVALID_TOC', `${where}: cannot read the TOC: ${why}`, { cause });
}

async function gzipToc(
  fh: FileHandle,
  where: string,
  blobSize: number,
  tail: Buffer,
): Promise<LocatedToc | undefined> {
  const footer = parseGzipFooter(tail);
  if (footer === undefined) return undefined;
  const dataEnd = footer.tocOffset;
  const tocEnd = blobSize - footer.footerSize;
  if (dataEnd >= tocEnd)
    throw notEstargz(where, `footer points at offset ${dataEnd}, past the TOC area (truncated?)`);
  const member = await readRange(fh, dataEnd, tocEnd - dataEnd, where);
  let tar: Buffer;
  try {
    tar = await inflate('estargz', member);
  } catch (err) {
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
  const compressed = await readRange(fh, tocOffset, compressedSize, where);
  let tocJson: Buffer;
  try {
    tocJson = await inflate('zstd:chunked', compressed);
  } catch (err) {
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

/** Read the footer at the end of `fh` and the TOC it points at; `where` names the blob in errors. */
export async function locateToc(fh: FileHandle, where: string): Promise<LocatedToc> {
  const blobSize = (await fh.stat()).size;
  const tailSize = Math.min(TAIL_SIZE, blobSize);
  const tail = await readRange(fh, blobSize - tailSize, tailSize, where);
  const found = (await gzipToc(fh, where, blobSize, tail)) ?? (await zstdToc(fh, where, blobSize, tail));
  if (found === undefined) {
    throw notEstargz(where, `no eStargz footer in its last ${tailSize} bytes (truncated, or a plain layer?)`);
  }
  return found;
}

/** Open a blob for reading, failing with IMG_ESTARGZ_READ_FAILED naming it. */
export async function openBlob(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new EstargzError('IMG_ESTARGZ_READ_FAILED', `${path}: cannot open blob (${code})`, { cause: err });
  }
}

function sha256(bytes: Buffer): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
}
