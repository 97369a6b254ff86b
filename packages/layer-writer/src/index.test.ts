import { describe, expect, expectTypeOf, it } from 'vitest';
import * as api from './index.js';

// A tripwire: adding, removing or renaming an export is a deliberate change, made here too.
describe('public API', () => {
  it('exports exactly these values', () => {
    expect(Object.keys(api).sort()).toEqual([
      'DEFAULT_COMPRESSION',
      'DEFAULT_CREATE_PARENT_DIRECTORIES',
      'DEFAULT_DEDUPLICATE',
      'DEFAULT_DIRECTORY_MODE',
      'DEFAULT_EXECUTABLE_MODE',
      'DEFAULT_FILE_MODE',
      'DEFAULT_FROM_TAR_MODE',
      'DEFAULT_GZIP_LEVEL',
      'DEFAULT_IN_FLIGHT_BYTES',
      'DEFAULT_SYMLINK_MODE',
      'DEFAULT_ZSTD_LEVEL',
      'GZIP_BLOCK_SIZE',
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
});

/** Every type export: removing or renaming one fails typecheck here. */
type PinnedTypes = [
  api.CompressorJobs,
  api.ContentEntry,
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
  api.WhiteoutEntry,
  api.WriteLayerOptions,
  api.WriteResultOptions,
];

it('pins the type exports', () => {
  expectTypeOf<PinnedTypes>().not.toBeAny();
});
