import { createHash } from 'node:crypto';
import {
  END_OF_ARCHIVE_SIZE,
  encodeTarHeader,
  type FrameFiller,
  paddingFor,
  zstdBackend,
} from '@img/layer-writer/internal';
import type { Digest } from '@img/oci-spec';
import {
  CS_MANIFEST_CHECKSUM_ANNOTATION,
  CS_MANIFEST_POSITION_ANNOTATION,
  CS_TARSPLIT_CHECKSUM_ANNOTATION,
  CS_TARSPLIT_POSITION_ANNOTATION,
  CS_ZSTD_CHUNKED_FOOTER_SIZE,
  TOC_TAR_NAME,
  ZSTD_CHUNKED_FOOTER_SIZE,
  ZSTD_CHUNKED_MANIFEST_CHECKSUM_ANNOTATION,
  ZSTD_CHUNKED_MANIFEST_POSITION_ANNOTATION,
  ZSTD_SKIPPABLE_FRAME_HEADER_SIZE,
} from './constants.js';
import { estargzFooter, gzipMember } from './gzip-member.js';
import type { CompressedTarSplit } from './tar-split.js';
import { type Toc, tocJsonSize, writeTocJson } from './toc.js';

export type EstargzFormat = 'estargz' | 'zstd:chunked';

/**
 * The two zstd:chunked layouts: containers/storage's (what podman and CRI-O pull partially: a frame
 * per payload, `endOffset`, a tar-split, a 64-byte footer) and stargz-snapshotter's (its zstdchunked
 * package: members as in eStargz, a 40-byte footer).
 */
export type ZstdChunkedVariant = 'containers-storage' | 'stargz-snapshotter';

/** What follows the last payload member: the TOC and the footer. */
export interface BlobTail {
  /** sha256 of the TOC JSON (the TOC digest annotation). */
  readonly tocDigest: Digest;
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
  /**
   * containers/storage's layout: a payload chunk's member holds only its bytes (headers and padding
   * go into members of their own), the TOC records `endOffset` and every chunk's size, and a
   * tar-split of the stream goes into the tail.
   */
  readonly containersStorage: boolean;
  /**
   * The compressed member of the bytes `pieces` hold in order, as buffers to write in order. The
   * pieces are read until the promise settles and never kept.
   */
  member(pieces: readonly Buffer[]): Promise<readonly Buffer[]>;
  /** The tail for `toc`, starting at blob offset `tocOffset`; `tarSplit` when containersStorage. */
  tail(toc: Toc, tocOffset: number, tarSplit?: CompressedTarSplit): Promise<BlobTail>;
}

/** gzip eStargz: gzip members; the TOC is the tar entry `stargz.index.json` in its own member. */
export function gzipCodec(level: number): MemberCodec {
  return {
    format: 'estargz',
    keepsArchiveEnd: false,
    containersStorage: false,
    member: (pieces) => gzipMember(pieces, level),
    async tail(toc, tocOffset) {
      // The TOC entry and the archive end in one buffer, the JSON written straight into it.
      const size = tocJsonSize(toc);
      const header = encodeTarHeader({
        name: TOC_TAR_NAME,
        type: 'file',
        mode: 0,
        uid: 0,
        gid: 0,
        mtime: 0,
        size,
      });
      const streamBytes = Buffer.alloc(header.length + size + paddingFor(size) + END_OF_ARCHIVE_SIZE);
      header.copy(streamBytes, 0);
      writeTocJson(toc, streamBytes, header.length);
      return {
        tocDigest: sha256(streamBytes.subarray(header.length, header.length + size)),
        streamBytes,
        blobBytes: [...(await gzipMember([streamBytes], level)), estargzFooter(tocOffset)],
        annotations: {},
      };
    },
  };
}

const SKIPPABLE_FRAME_MAGIC = Buffer.from([0x50, 0x2a, 0x4d, 0x18]);
/** Footer magic of stargz-snapshotter's zstd:chunked ("GnUlInUx"). */
export const ZSTD_CHUNKED_FOOTER_MAGIC = Buffer.from([0x47, 0x6e, 0x55, 0x6c, 0x49, 0x6e, 0x55, 0x78]);
/** Footer magic of containers/storage's zstd:chunked ("GNUlInUx"). */
export const CS_ZSTD_CHUNKED_FOOTER_MAGIC = Buffer.from('GNUlInUx', 'latin1');
const MANIFEST_TYPE_CRFS = 1n;

function skippableFrame(payload: Buffer): Buffer {
  const header = Buffer.allocUnsafe(ZSTD_SKIPPABLE_FRAME_HEADER_SIZE);
  SKIPPABLE_FRAME_MAGIC.copy(header, 0);
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

const sha256 = (bytes: Uint8Array): Digest =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;

type FrameCompress = (input: Buffer | readonly Buffer[] | FrameFiller) => Promise<Buffer>;

/**
 * The TOC JSON of `toc` compressed into one zstd frame, written straight into the compressor's buffer:
 * tens of MiB for a large layer, it is never held apart from it. Returns the frame, the JSON's size
 * and its sha256.
 */
async function compressToc(
  toc: Toc,
  compress: FrameCompress,
): Promise<{ compressed: Buffer; size: number; digest: Digest }> {
  const size = tocJsonSize(toc);
  let digest: Digest | undefined;
  const compressed = await compress({
    length: size,
    fill(target: Buffer) {
      writeTocJson(toc, target, 0);
      digest = sha256(target.subarray(0, size));
    },
  });
  return { compressed, size, digest: digest! };
}

/** zstd:chunked in `variant`'s layout (default containers/storage's). */
export function zstdChunkedCodec(
  level: number,
  variant: ZstdChunkedVariant = 'containers-storage',
): MemberCodec {
  const backend = zstdBackend(level);
  backend.catch(() => {});
  const compress: FrameCompress = async (data) => (await backend)(data, level);
  return {
    format: 'zstd:chunked',
    keepsArchiveEnd: true,
    containersStorage: variant === 'containers-storage',
    member: async (pieces) => [await compress(pieces)],
    tail: variant === 'containers-storage' ? containersStorageTail(compress) : stargzTail(compress),
  };
}

/**
 * stargz-snapshotter's tail: the TOC JSON compressed into a skippable frame (not part of the tar
 * stream); a 40-byte footer (TOC offset, compressed and uncompressed TOC size, manifest type 1,
 * magic) in a second skippable frame.
 */
function stargzTail(compress: FrameCompress): MemberCodec['tail'] {
  return async (toc, tocFrameOffset) => {
    const { compressed, size, digest } = await compressToc(toc, compress);
    const tocOffset = tocFrameOffset + ZSTD_SKIPPABLE_FRAME_HEADER_SIZE;
    const footer = Buffer.alloc(ZSTD_CHUNKED_FOOTER_SIZE);
    footer.writeBigUInt64LE(BigInt(tocOffset), 0);
    footer.writeBigUInt64LE(BigInt(compressed.length), 8);
    footer.writeBigUInt64LE(BigInt(size), 16);
    footer.writeBigUInt64LE(MANIFEST_TYPE_CRFS, 24);
    ZSTD_CHUNKED_FOOTER_MAGIC.copy(footer, 32);
    return {
      tocDigest: digest,
      streamBytes: Buffer.alloc(0),
      blobBytes: [skippableFrame(compressed), skippableFrame(footer)],
      annotations: {
        [ZSTD_CHUNKED_MANIFEST_CHECKSUM_ANNOTATION]: sha256(compressed),
        [ZSTD_CHUNKED_MANIFEST_POSITION_ANNOTATION]: `${tocOffset}:${compressed.length}:${size}:1`,
      },
    };
  };
}

/**
 * containers/storage's tail: the TOC ("manifest", with the tar-split's digest in `tarsplit-digest`)
 * and the tar-split, each compressed into a skippable frame, then the 64-byte footer (manifest offset,
 * compressed and uncompressed size, type 1; tar-split offset and sizes; magic) in a third.
 */
function containersStorageTail(compress: FrameCompress): MemberCodec['tail'] {
  return async (toc, frameOffset, tarSplit) => {
    if (tarSplit === undefined)
      throw new Error('internal: containers/storage zstd:chunked needs a tar-split');
    const { compressed: compressedTarSplit } = tarSplit;
    const tarSplitDigest = sha256(compressedTarSplit);
    const {
      compressed: compressedToc,
      size: tocSize,
      digest: tocDigest,
    } = await compressToc({ ...toc, tarSplitDigest }, compress);
    const tocOffset = frameOffset + ZSTD_SKIPPABLE_FRAME_HEADER_SIZE;
    const tarSplitOffset = tocOffset + compressedToc.length + ZSTD_SKIPPABLE_FRAME_HEADER_SIZE;
    const footer = Buffer.alloc(CS_ZSTD_CHUNKED_FOOTER_SIZE);
    footer.writeBigUInt64LE(BigInt(tocOffset), 0);
    footer.writeBigUInt64LE(BigInt(compressedToc.length), 8);
    footer.writeBigUInt64LE(BigInt(tocSize), 16);
    footer.writeBigUInt64LE(MANIFEST_TYPE_CRFS, 24);
    footer.writeBigUInt64LE(BigInt(tarSplitOffset), 32);
    footer.writeBigUInt64LE(BigInt(compressedTarSplit.length), 40);
    footer.writeBigUInt64LE(BigInt(tarSplit.size), 48);
    CS_ZSTD_CHUNKED_FOOTER_MAGIC.copy(footer, 56);
    return {
      tocDigest,
      streamBytes: Buffer.alloc(0),
      blobBytes: [skippableFrame(compressedToc), skippableFrame(compressedTarSplit), skippableFrame(footer)],
      annotations: {
        [CS_MANIFEST_CHECKSUM_ANNOTATION]: sha256(compressedToc),
        [CS_MANIFEST_POSITION_ANNOTATION]: `${tocOffset}:${compressedToc.length}:${tocSize}:1`,
        [CS_TARSPLIT_CHECKSUM_ANNOTATION]: tarSplitDigest,
        [CS_TARSPLIT_POSITION_ANNOTATION]: `${tarSplitOffset}:${compressedTarSplit.length}:${tarSplit.size}`,
      },
    };
  };
}
