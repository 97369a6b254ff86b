import { describe, expect, expectTypeOf, it } from 'vitest';
import * as api from './index.js';

// A tripwire: adding, removing or renaming an export is a deliberate change, made here too.
describe('public API', () => {
  it('exports exactly these values', () => {
    expect(Object.keys(api).sort()).toEqual([
      'DEFAULT_COMPRESSION',
      'DEFAULT_CREATE_PARENT_DIRECTORIES',
      'DEFAULT_DECOMPRESSION_RATIO_FLOOR',
      'DEFAULT_DEDUPLICATE',
      'DEFAULT_DIRECTORY_MODE',
      'DEFAULT_EXECUTABLE_MODE',
      'DEFAULT_FILE_MODE',
      'DEFAULT_FROM_TAR_MODE',
      'DEFAULT_GZIP_LEVEL',
      'DEFAULT_IN_FLIGHT_BYTES',
      'DEFAULT_MAX_DECOMPRESSED_SIZE',
      'DEFAULT_MAX_DECOMPRESSION_RATIO',
      'DEFAULT_MAX_PATH_DEPTH',
      'DEFAULT_MAX_PATH_LENGTH',
      'DEFAULT_MAX_TAR_ENTRIES',
      'DEFAULT_MAX_TAR_HEADER_SIZE',
      'DEFAULT_MAX_TAR_NAMES_SIZE',
      'DEFAULT_MAX_TRAILING_BYTES',
      'DEFAULT_MAX_ZSTD_WINDOW_SIZE',
      'DEFAULT_SYMLINK_MODE',
      'DEFAULT_ZSTD_LEVEL',
      'GZIP_BLOCK_SIZE',
      'LIMIT_NAMES',
      'LayerError',
      'MAX_COMPRESSOR_JOBS',
      'gzipMatchesReference',
      'layerFromTar',
      'layerFromTarToFile',
      'writeLayer',
      'writeLayerMetadata',
      'writeLayerToFile',
      'writeResultToFile',
      'zstdBackendName',
    ]);
  });

  it('documents these defaults', () => {
    expect(api.DEFAULT_COMPRESSION).toBe('gzip');
    expect(api.DEFAULT_GZIP_LEVEL).toBe(6);
    expect(api.DEFAULT_ZSTD_LEVEL).toBe(3);
    expect(api.DEFAULT_IN_FLIGHT_BYTES).toBe(64 * 1024 * 1024);
    expect(api.DEFAULT_CREATE_PARENT_DIRECTORIES).toBe(false);
    expect(api.DEFAULT_FILE_MODE).toBe(0o644);
    expect(api.DEFAULT_DIRECTORY_MODE).toBe(0o755);
  });

  it('exports the caps on untrusted input with their documented defaults', () => {
    const MiB = 1024 * 1024;
    expect({
      header: api.DEFAULT_MAX_TAR_HEADER_SIZE,
      entries: api.DEFAULT_MAX_TAR_ENTRIES,
      names: api.DEFAULT_MAX_TAR_NAMES_SIZE,
      pathLength: api.DEFAULT_MAX_PATH_LENGTH,
      pathDepth: api.DEFAULT_MAX_PATH_DEPTH,
      trailing: api.DEFAULT_MAX_TRAILING_BYTES,
      ratio: api.DEFAULT_MAX_DECOMPRESSION_RATIO,
      floor: api.DEFAULT_DECOMPRESSION_RATIO_FLOOR,
      decompressed: api.DEFAULT_MAX_DECOMPRESSED_SIZE,
      window: api.DEFAULT_MAX_ZSTD_WINDOW_SIZE,
    }).toEqual({
      header: MiB,
      entries: 1_000_000,
      names: 128 * MiB,
      pathLength: 4096,
      pathDepth: 1024,
      trailing: MiB,
      ratio: 2048,
      floor: 256 * MiB,
      decompressed: 256 * 1024 * MiB,
      window: 128 * MiB,
    });
    expect(Object.values(api.LIMIT_NAMES)).toContain('tar-entries');
  });
});

/** Every type export: removing or renaming one fails typecheck here. */
type PinnedTypes = [
  api.CompressorJobs,
  api.ContentEntry,
  api.DecompressionLimits,
  api.DirectoryEntry,
  api.FileEntry,
  api.FileMetadata,
  api.LayerEntry,
  api.LayerErrorCode,
  api.LayerFromTarMode,
  api.LayerFromTarOptions,
  api.LayerOutputOptions,
  api.LayerSpec,
  api.LayerWriteResult,
  api.OpaqueEntry,
  api.SymlinkEntry,
  api.TarInputLimits,
  api.TarLimits,
  api.TreeOwner,
  api.WhiteoutEntry,
  api.WriteLayerOptions,
  api.WriteResultOptions,
];

it('pins the type exports', () => {
  expectTypeOf<PinnedTypes>().not.toBeAny();
});
