// `@img/layer-writer/internal`: the tar, stream and compression primitives @img/estargz,
// @img/oci-layout and the CLI share with the layer writer. Not a documented API: names and shapes
// may change in any release. Users import '@img/layer-writer'.
export type { CompressorOptions } from './compress.js';
export {
  createCompressor,
  FixedBlocks,
  GZIP_INPUT_BLOCK_SIZE,
  parseCompression,
  resolveCompressorJobs,
  resolveLevel,
  ZSTD_FRAME_SIZE,
} from './compress.js';
export type { DecompressOptions } from './decompress.js';
export { createDecompressionLimit, createDecompressor, detectCompression } from './decompress.js';
export type { WriteEntriesOptions } from './layer-tar.js';
export { storedName, writePlannedEntries } from './layer-tar.js';
export { limitExceeded } from './limits.js';
export type { ResolvedMetadata } from './metadata.js';
export { parseFileMetadata, parseMode, parseMtime } from './metadata.js';
export { comparePaths, normalizeEntryName, normalizeLayerPath, pathSortKey } from './paths.js';
export type { PlannedEntry, PlannedSource, PlanOptions } from './plan.js';
export { OPAQUE_WHITEOUT, planLayer, WHITEOUT_PREFIX } from './plan.js';
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
export { abortOnSignal, compressAndMeasure } from './write-layer.js';
export type { FrameFiller, ZstdFrameCompressor } from './zstd-backend.js';
export { zstdBackend } from './zstd-backend.js';
