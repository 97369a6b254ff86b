import { describe, expect, it } from 'vitest';
import * as api from './index.js';

describe('public API', () => {
  it('exports the documented values', () => {
    for (const name of [
      'writeLayer',
      'writeLayerToFile',
      'writeLayerMetadata',
      'layerFromTar',
      'layerFromTarToFile',
      'encodeTarHeader',
      'TarWriter',
      'TarParser',
      'createCompressor',
      'createDecompressor',
      'detectCompression',
      'createDecompressionLimit',
      'openRegularFile',
      'openTarStream',
      'normalizeEntryName',
      'limitExceeded',
      'LayerError',
    ]) {
      expect(typeof (api as Record<string, unknown>)[name]).toBe('function');
    }
    expect(api.DEFAULT_COMPRESSION).toBe('gzip');
    expect(api.DEFAULT_GZIP_LEVEL).toBe(6);
    expect(api.DEFAULT_ZSTD_LEVEL).toBe(3);
    expect(api.DEFAULT_IN_FLIGHT_BYTES).toBe(64 * 1024 * 1024);
    expect(api.DEFAULT_CREATE_PARENT_DIRECTORIES).toBe(false);
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
