export type { CompressorJobs, CompressorOptions } from './compress.js';
export {
  createCompressor,
  DEFAULT_COMPRESSION,
  DEFAULT_GZIP_LEVEL,
  DEFAULT_IN_FLIGHT_BYTES,
  DEFAULT_ZSTD_LEVEL,
  FixedBlocks,
  GZIP_INPUT_BLOCK_SIZE,
  MAX_COMPRESSOR_JOBS,
  parseCompression,
  resolveCompressorJobs,
  resolveLevel,
  ZSTD_FRAME_SIZE,
} from './compress.js';
export type { DecompressOptions } from './decompress.js';
export { createDecompressionLimit, createDecompressor, detectCompression } from './decompress.js';
export type { LayerErrorCode } from './errors.js';
export { LayerError } from './errors.js';
export type { LayerFromTarMode, LayerFromTarOptions } from './from-tar.js';
export { DEFAULT_FROM_TAR_MODE, layerFromTar, layerFromTarToFile } from './from-tar.js';
export { GZIP_BLOCK_SIZE } from './gzip-blocks.js';
export { gzipMatchesReference } from './gzip-reference.js';
export type { WriteEntriesOptions } from './layer-tar.js';
export { DEFAULT_DEDUPLICATE, storedName, writePlannedEntries } from './layer-tar.js';
export type {
  DecompressionLimits,
  TarInputLimits,
  TarLimits,
} from './limits.js';
export {
  DEFAULT_DECOMPRESSION_RATIO_FLOOR,
  DEFAULT_MAX_DECOMPRESSED_SIZE,
  DEFAULT_MAX_DECOMPRESSION_RATIO,
  DEFAULT_MAX_PATH_DEPTH,
  DEFAULT_MAX_PATH_LENGTH,
  DEFAULT_MAX_TAR_ENTRIES,
  DEFAULT_MAX_TAR_HEADER_SIZE,
  DEFAULT_MAX_TAR_NAMES_SIZE,
  DEFAULT_MAX_TRAILING_BYTES,
  DEFAULT_MAX_ZSTD_WINDOW_SIZE,
  LIMIT_NAMES,
  limitExceeded,
} from './limits.js';
export type { FileMetadata, ResolvedMetadata } from './metadata.js';
export { parseFileMetadata, parseMode, parseMtime } from './metadata.js';
export { comparePaths, normalizeEntryName, normalizeLayerPath, pathSortKey } from './paths.js';
export type { PlannedEntry, PlannedSource, PlanOptions } from './plan.js';
export {
  DEFAULT_DIRECTORY_MODE,
  DEFAULT_EXECUTABLE_MODE,
  DEFAULT_FILE_MODE,
  DEFAULT_SYMLINK_MODE,
  OPAQUE_WHITEOUT,
  planLayer,
  WHITEOUT_PREFIX,
} from './plan.js';
export type {
  ContentEntry,
  DirectoryEntry,
  FileEntry,
  LayerEntry,
  LayerSpec,
  OpaqueEntry,
  SymlinkEntry,
  TreeOwner,
  WhiteoutEntry,
} from './spec.js';
export { DEFAULT_CREATE_PARENT_DIRECTORIES } from './spec.js';
export { BufferPool, DigestCounter, HashCounter, pipeToResult, readableFromProducer } from './streams.js';
export type { TarEntryType, TarHeader } from './tar-header.js';
export {
  BLOCK_SIZE,
  END_OF_ARCHIVE_SIZE,
  encodePaxRecords,
  encodeTarHeader,
  paddingFor,
} from './tar-header.js';
export type { OpenedFile } from './tar-input.js';
export { detectFileCompression, openRegularFile, openTarStream } from './tar-input.js';
export type { TarEntryInfo, TarParserHandlers, TarParserOptions } from './tar-reader.js';
export { parsePaxRecords, TarParser } from './tar-reader.js';
export type { ChunkSink, DataObserver, FileDataOptions, TarWriterOptions } from './tar-writer.js';
export { DEFAULT_TAR_CHUNK_SIZE, TarWriter } from './tar-writer.js';
export type { LayerOutputOptions, LayerWriteResult, WriteLayerOptions } from './write-layer.js';
export {
  compressAndMeasure,
  writeLayer,
  writeLayerMetadata,
  writeLayerToFile,
  writeResultToFile,
} from './write-layer.js';
export type { ZstdFrameCompressor } from './zstd-backend.js';
export { zstdBackend, zstdBackendName } from './zstd-backend.js';
