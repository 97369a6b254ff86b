import * as zlib from 'node:zlib';
import { FOOTER_SIZE, LEGACY_FOOTER_SIZE } from './constants.js';

/**
 * Header of every gzip member we write: no name, mtime 0, XFL 0, OS 255 ("unknown", as Go writes it).
 * Fixed bytes, so the blob does not depend on the host OS (zlib's own header carries its OS code).
 */
const MEMBER_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);
/** Output buffer size for deflate; fixed at level 0, whose stored blocks are cut to the output space. */
const DEFLATE_CHUNK_SIZE = 64 * 1024;

/** Room for deflate's output of `length` bytes in one chunk (stored blocks: ~0.03% over, plus the end). */
function deflateBound(length: number): number {
  return length + (length >>> 8) + 1024;
}

/**
 * Members up to this size are deflated in one call, their pieces joined first: a stream per member
 * costs more CPU than the copy (most members of a tree are small files). Larger members stream their
 * pieces, so no joined copy of a multi-MiB chunk is made.
 */
const ONE_CALL_LIMIT = 256 * 1024;

/** Raw deflate of the bytes `pieces` hold in order, as the output chunks zlib produced. */
function deflateRaw(pieces: readonly Buffer[], options: zlib.ZlibOptions): Promise<Buffer[]> {
  if (pieces.length === 1) {
    return new Promise((resolve, reject) => {
      zlib.deflateRaw(pieces[0]!, options, (err, out) => (err ? reject(err) : resolve([out])));
    });
  }
  return new Promise((resolve, reject) => {
    const stream = zlib.createDeflateRaw(options);
    const out: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => out.push(chunk));
    stream.once('error', reject);
    stream.once('end', () => resolve(out));
    for (let i = 0; i < pieces.length - 1; i++) stream.write(pieces[i]);
    stream.end(pieces[pieces.length - 1]);
  });
}

/**
 * One complete gzip member of the bytes `pieces` hold in order (our fixed header, raw deflate by
 * Node's zlib, CRC32 and size), as buffers to write in order: one buffer when it is small. The pieces
 * are read until the promise settles and never kept.
 */
export async function gzipMember(pieces: readonly Buffer[], level: number): Promise<Buffer[]> {
  let length = 0;
  let crc = 0;
  for (const piece of pieces) {
    length += piece.length;
    crc = zlib.crc32(piece, crc);
  }
  // Levels 1-9 give the same bytes for any output chunkSize and however the input is cut; most members
  // of a tree are small files, and a 64 KiB output buffer for each is GiBs of short-lived allocations.
  // Level 0's stored blocks follow both, so it deflates one buffer into fixed 64 KiB chunks.
  const chunkSize = level === 0 ? DEFLATE_CHUNK_SIZE : Math.min(DEFLATE_CHUNK_SIZE, deflateBound(length));
  const join = pieces.length > 1 && (level === 0 || length <= ONE_CALL_LIMIT);
  const input = join ? [Buffer.concat(pieces, length)] : pieces;
  const body = await deflateRaw(input, { level, chunkSize });
  const trailer = Buffer.allocUnsafe(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(length % 2 ** 32, 4);
  if (body.length <= 1) return [Buffer.concat([MEMBER_HEADER, ...body, trailer])];
  return [MEMBER_HEADER, ...body, trailer];
}

/**
 * The 51-byte eStargz footer: an empty gzip member (one final empty stored block) whose FEXTRA field
 * holds subfield 'SG' with `%016x` of the TOC member's offset followed by "STARGZ".
 */
export function estargzFooter(tocOffset: number): Buffer {
  const subfield = Buffer.from(`${tocOffset.toString(16).padStart(16, '0')}STARGZ`, 'latin1');
  const footer = Buffer.alloc(FOOTER_SIZE);
  Buffer.from([0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0x00, 0xff]).copy(footer, 0);
  footer.writeUInt16LE(4 + subfield.length, 10);
  footer.write('SG', 12, 'latin1');
  footer.writeUInt16LE(subfield.length, 14);
  subfield.copy(footer, 16);
  // Final stored block of length 0 (BFINAL=1, BTYPE=00, LEN=0, NLEN=0xffff); CRC32 and ISIZE are 0.
  Buffer.from([0x01, 0x00, 0x00, 0xff, 0xff]).copy(footer, 38);
  return footer;
}

export interface ParsedFooter {
  readonly tocOffset: number;
  readonly footerSize: number;
}

function parseOffset(hex: Buffer): number | undefined {
  const text = hex.toString('latin1');
  if (!/^[0-9a-fA-F]{16}$/.test(text)) return undefined;
  const value = Number.parseInt(text, 16);
  return Number.isSafeInteger(value) ? value : undefined;
}

function isGzipHeaderWithExtra(b: Buffer): boolean {
  return b[0] === 0x1f && b[1] === 0x8b && b[2] === 0x08 && (b[3]! & 0x04) !== 0;
}

/**
 * Read the TOC offset from the end of a blob (pass at least its last 51 bytes): the eStargz footer,
 * or the 47-byte legacy stargz footer. Undefined when neither is there.
 */
export function parseGzipFooter(tail: Buffer): ParsedFooter | undefined {
  if (tail.length >= FOOTER_SIZE) {
    const f = tail.subarray(tail.length - FOOTER_SIZE);
    if (
      isGzipHeaderWithExtra(f) &&
      f.readUInt16LE(10) === 26 &&
      f[12] === 0x53 && // 'S'
      f[13] === 0x47 && // 'G'
      f.readUInt16LE(14) === 22 &&
      f.subarray(32, 38).toString('latin1') === 'STARGZ'
    ) {
      const tocOffset = parseOffset(f.subarray(16, 32));
      if (tocOffset !== undefined) return { tocOffset, footerSize: FOOTER_SIZE };
    }
  }
  if (tail.length >= LEGACY_FOOTER_SIZE) {
    const f = tail.subarray(tail.length - LEGACY_FOOTER_SIZE);
    if (
      isGzipHeaderWithExtra(f) &&
      f.readUInt16LE(10) === 22 &&
      f.subarray(28, 34).toString('latin1') === 'STARGZ'
    ) {
      const tocOffset = parseOffset(f.subarray(12, 28));
      if (tocOffset !== undefined) return { tocOffset, footerSize: LEGACY_FOOTER_SIZE };
    }
  }
  return undefined;
}
