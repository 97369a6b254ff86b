import { describe, expect, it } from 'vitest';
import * as api from './index.js';

describe('public API', () => {
  it('exports the readers, writers and the TOC cap', () => {
    for (const name of [
      'writeEstargzLayer',
      'writeEstargzLayerToFile',
      'estargzFromTar',
      'estargzFromTarToFile',
      'openEstargz',
      'EstargzReader',
      'EstargzError',
      'parseToc',
      'serializeToc',
    ]) {
      expect(typeof (api as Record<string, unknown>)[name]).toBe('function');
    }
    expect(api.DEFAULT_MAX_TOC_SIZE).toBe(64 * 1024 * 1024);
    expect(api.TOC_SIZE_LIMIT_NAME).toBe('toc-size');
  });
});
