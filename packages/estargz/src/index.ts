export type { BlobTail, EstargzFormat, MemberCodec, ZstdChunkedVariant } from './codec.js';
export {
  CS_MANIFEST_CHECKSUM_ANNOTATION,
  CS_MANIFEST_POSITION_ANNOTATION,
  CS_TARSPLIT_CHECKSUM_ANNOTATION,
  CS_TARSPLIT_POSITION_ANNOTATION,
  CS_ZSTD_CHUNKED_FOOTER_SIZE,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MAX_TOC_SIZE,
  DEFAULT_MIN_CHUNK_SIZE,
  EMPTY_SHA256,
  FOOTER_SIZE,
  LANDMARK_CONTENTS,
  LEGACY_FOOTER_SIZE,
  NO_PREFETCH_LANDMARK,
  PREFETCH_LANDMARK,
  TOC_DIGEST_ANNOTATION,
  TOC_TAR_NAME,
  UNCOMPRESSED_SIZE_ANNOTATION,
  ZSTD_CHUNKED_FOOTER_SIZE,
  ZSTD_CHUNKED_MANIFEST_CHECKSUM_ANNOTATION,
  ZSTD_CHUNKED_MANIFEST_POSITION_ANNOTATION,
} from './constants.js';
export type { EstargzErrorCode } from './errors.js';
export { EstargzError } from './errors.js';
export type { EstargzFromTarOptions } from './from-tar.js';
export { estargzFromTar, estargzFromTarToFile } from './from-tar.js';
export type { ParsedFooter } from './gzip-member.js';
export { estargzFooter, parseGzipFooter } from './gzip-member.js';
export { orderForEstargz } from './order.js';
export type { EstargzReadOptions } from './read-options.js';
export { TOC_SIZE_LIMIT_NAME } from './read-options.js';
export type { VerifyReport } from './reader.js';
export { EstargzReader, openEstargz } from './reader.js';
export type { Toc, TocEntry, TocEntryType } from './toc.js';
export { cleanEntryName, parseToc, serializeToc } from './toc.js';
export type { EstargzChunk, EstargzEntry } from './toc-index.js';
export type { EstargzLayerOptions } from './write.js';
export { writeEstargzLayer, writeEstargzLayerToFile } from './write.js';
