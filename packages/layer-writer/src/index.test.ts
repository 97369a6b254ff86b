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
});
