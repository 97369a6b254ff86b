// The public API: what a user of writeLayer / layerFromTar needs. The tar, stream and compression
// primitives that @img/estargz, @img/oci-layout and the CLI share are in ./internal.ts
// (`@img/layer-writer/internal`, not a documented API: it may change in any release).
export type { CompressorJobs } from './compress.js';
export {
  DEFAULT_COMPRESSION,
  DEFAULT_GZIP_LEVEL,
  DEFAULT_IN_FLIGHT_BYTES,
  DEFAULT_ZSTD_LEVEL,
  MAX_COMPRESSOR_JOBS,
} from './compress.js';
export type { LayerErrorCode } from './errors.js';
export { LayerError } from './errors.js';
export type { LayerFromTarMode, LayerFromTarOptions } from './from-tar.js';
export { DEFAULT_FROM_TAR_MODE, layerFromTar, layerFromTarToFile } from './from-tar.js';
export { GZIP_BLOCK_SIZE } from './gzip-blocks.js';
export { gzipMatchesReference } from './gzip-reference.js';
export { DEFAULT_DEDUPLICATE } from './layer-tar.js';
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
} from './limits.js';
export type { FileMetadata } from './metadata.js';
export {
  DEFAULT_DIRECTORY_MODE,
  DEFAULT_EXECUTABLE_MODE,
  DEFAULT_FILE_MODE,
  DEFAULT_SYMLINK_MODE,
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
export type {
  LayerOutputOptions,
  LayerWriteResult,
  WriteLayerOptions,
  WriteResultOptions,
} from './write-layer.js';
export {
  writeLayer,
  writeLayerMetadata,
  writeLayerToFile,
  writeResultToFile,
} from './write-layer.js';
export { zstdBackendName } from './zstd-backend.js';
