import { createHash } from 'node:crypto';
import { END_OF_ARCHIVE_SIZE, encodeTarHeader, paddingFor, zstdBackend } from '@img/layer-writer';
import {
  TOC_TAR_NAME,
  ZSTD_CHUNKED_FOOTER_SIZE,
  ZSTD_CHUNKED_MANIFEST_CHECKSUM_ANNOTATION,
  ZSTD_CHUNKED_MANIFEST_POSITION_ANNOTATION,
  ZSTD_SKIPPABLE_FRAME_HEADER_SIZE,
} from './constants.js';
import { estargzFooter, gzipMember } from './gzip-member.js';

export type EstargzFormat = 'estargz' | 'zstd:chunked';

/** What follows the last payload member: the TOC and the footer. */
export interface BlobTail {
  /** Uncompressed bytes the tail adds to the layer's tar stream (gzip: the TOC entry and archive end). */
  readonly streamBytes: Buffer;
  /** Compressed bytes to append to the blob, in order. */
  readonly blobBytes: readonly Buffer[];
  /** Extra layer annotations of this format. */
  readonly annotations: Readonly<Record<string, string>>;
}

/** How one format compresses members and closes the blob. */
export interface MemberCodec {
  readonly format: EstargzFormat;
  /**
   * Whether the tar stream's own end-of-archive blocks stay in the payload (zstd:chunked) or are
   * dropped because the TOC entry's member carries them (eStargz).
   */
  readonly keepsArchiveEnd: boolean;
  member(data: Buffer): Promise<Buffer>;
  tail(tocJson: Buffer, tocOffset: number): Promise<BlobTail>;
}

/** gzip eStargz: gzip members; the TOC is the tar entry `stargz.index.json` in its own member. */
export function gzipCodec(level: number): MemberCodec {
  return {
    format: 'estargz',
    keepsArchiveEnd: false,
    member: (data) => gzipMember(data, level),
    async tail(tocJson, tocOffset) {
      const header = encodeTarHeader({
        name: TOC_TAR_NAME,
        type: 'file',
        mode: 0,
        uid: 0,
        gid: 0,
        mtime: 0,
        size: tocJson.length,
      });
      const streamBytes = Buffer.concat([
        header,
        tocJson,
        Buffer.alloc(paddingFor(tocJson.length) + END_OF_ARCHIVE_SIZE),
      ]);
      return {
        streamBytes,
        blobBytes: [await gzipMember(streamBytes, level), estargzFooter(tocOffset)],
        annotations: {},
      };
    },
  };
}

const SKIPPABLE_FRAME_MAGIC = Buffer.from([0x50, 0x2a, 0x4d, 0x18]);
/** Footer magic of stargz-snapshotter's zstd:chunked ("GnUlInUx"). */
export const ZSTD_CHUNKED_FOOTER_MAGIC = Buffer.from([0x47, 0x6e, 0x55, 0x6c, 0x49, 0x6e, 0x55, 0x78]);
const MANIFEST_TYPE_CRFS = 1n;

function skippableFrame(payload: Buffer): Buffer {
  const header = Buffer.allocUnsafe(ZSTD_SKIPPABLE_FRAME_HEADER_SIZE);
  SKIPPABLE_FRAME_MAGIC.copy(header, 0);
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/**
 * zstd:chunked as stargz-snapshotter writes it: one zstd frame per member; the TOC JSON compressed
 * into a skippable frame (not part of the tar stream); a 40-byte footer (TOC offset, compressed and
 * uncompressed TOC size, manifest type 1, magic) in a second skippable frame.
 */
export function zstdChunkedCodec(level: number): MemberCodec {
  const backend = zstdBackend(level);
  backend.catch(() => {});
  return {
    format: 'zstd:chunked',
    keepsArchiveEnd: true,
    member: async (data) => (await backend)(data, level),
    async tail(tocJson, tocFrameOffset) {
      const compressed = await (await backend)(tocJson, level);
      const tocOffset = tocFrameOffset + ZSTD_SKIPPABLE_FRAME_HEADER_SIZE;
      const footer = Buffer.alloc(ZSTD_CHUNKED_FOOTER_SIZE);
      footer.writeBigUInt64LE(BigInt(tocOffset), 0);
      footer.writeBigUInt64LE(BigInt(compressed.length), 8);
      footer.writeBigUInt64LE(BigInt(tocJson.length), 16);
      footer.writeBigUInt64LE(MANIFEST_TYPE_CRFS, 24);
      ZSTD_CHUNKED_FOOTER_MAGIC.copy(footer, 32);
      return {
        streamBytes: Buffer.alloc(0),
        blobBytes: [skippableFrame(compressed), skippableFrame(footer)],
        annotations: {
          [ZSTD_CHUNKED_MANIFEST_CHECKSUM_ANNOTATION]: `sha256:${createHash('sha256').update(compressed).digest('hex')}`,
          [ZSTD_CHUNKED_MANIFEST_POSITION_ANNOTATION]: `${tocOffset}:${compressed.length}:${tocJson.length}:1`,
        },
      };
    },
  };
}
