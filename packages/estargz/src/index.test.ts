import { describe, expect, expectTypeOf, it } from 'vitest';
import * as api from './index.js';

// A tripwire: adding, removing or renaming an export is a deliberate change, made here too.
describe('public API', () => {
  it('exports exactly these values', () => {
    expect(Object.keys(api).sort()).toEqual([
      'CS_MANIFEST_CHECKSUM_ANNOTATION',
      'CS_MANIFEST_POSITION_ANNOTATION',
      'CS_TARSPLIT_CHECKSUM_ANNOTATION',
      'CS_TARSPLIT_POSITION_ANNOTATION',
      'CS_ZSTD_CHUNKED_FOOTER_SIZE',
      'DEFAULT_CHUNK_SIZE',
      'DEFAULT_MAX_TOC_SIZE',
      'DEFAULT_MIN_CHUNK_SIZE',
      'EMPTY_SHA256',
      'EstargzError',
      'EstargzReader',
      'FOOTER_SIZE',
      'LANDMARK_CONTENTS',
      'LEGACY_FOOTER_SIZE',
      'NO_PREFETCH_LANDMARK',
      'PREFETCH_LANDMARK',
      'TOC_DIGEST_ANNOTATION',
      'TOC_SIZE_LIMIT_NAME',
      'TOC_TAR_NAME',
      'UNCOMPRESSED_SIZE_ANNOTATION',
      'ZSTD_CHUNKED_FOOTER_SIZE',
      'ZSTD_CHUNKED_MANIFEST_CHECKSUM_ANNOTATION',
      'ZSTD_CHUNKED_MANIFEST_POSITION_ANNOTATION',
      'cleanEntryName',
      'estargzFooter',
      'estargzFromTar',
      'estargzFromTarToFile',
      'openEstargz',
      'orderForEstargz',
      'parseGzipFooter',
      'parseToc',
      'serializeToc',
      'writeEstargzLayer',
      'writeEstargzLayerToFile',
    ]);
  });

  it('documents the TOC cap', () => {
    expect(api.DEFAULT_MAX_TOC_SIZE).toBe(64 * 1024 * 1024);
    expect(api.TOC_SIZE_LIMIT_NAME).toBe('toc-size');
  });
});

/** Every type export: removing or renaming one fails typecheck here. */
type PinnedTypes = [
  api.BlobTail,
  api.EstargzChunk,
  api.EstargzEntry,
  api.EstargzErrorCode,
  api.EstargzFormat,
  api.EstargzFromTarOptions,
  api.EstargzLayerOptions,
  api.MemberCodec,
  api.ParsedFooter,
  api.Toc,
  api.TocEntry,
  api.TocEntryType,
  api.VerifyReport,
  api.ZstdChunkedVariant,
];

it('pins the type exports', () => {
  expectTypeOf<PinnedTypes>().not.toBeAny();
});
