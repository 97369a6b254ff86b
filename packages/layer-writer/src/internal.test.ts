import { describe, expect, expectTypeOf, it } from 'vitest';
import * as api from './internal.js';

// A tripwire: adding, removing or renaming an export is a deliberate change, made here too.
describe('internal entry point (@img/layer-writer/internal: shared primitives, not a documented API)', () => {
  it('exports exactly these values', () => {
    expect(Object.keys(api).sort()).toEqual([
      'BLOCK_SIZE',
      'BufferPool',
      'DEFAULT_TAR_CHUNK_SIZE',
      'DigestCounter',
      'END_OF_ARCHIVE_SIZE',
      'FixedBlocks',
      'GZIP_INPUT_BLOCK_SIZE',
      'HashCounter',
      'OPAQUE_WHITEOUT',
      'TarParser',
      'TarWriter',
      'WHITEOUT_PREFIX',
      'ZSTD_FRAME_SIZE',
      'abortOnSignal',
      'comparePaths',
      'compressAndMeasure',
      'createCompressor',
      'createDecompressionLimit',
      'createDecompressor',
      'detectCompression',
      'detectFileCompression',
      'encodePaxRecords',
      'encodeTarHeader',
      'limitExceeded',
      'normalizeEntryName',
      'normalizeLayerPath',
      'openRegularFile',
      'openTarStream',
      'paddingFor',
      'parseCompression',
      'parseFileMetadata',
      'parseMode',
      'parseMtime',
      'parsePaxRecords',
      'pathSortKey',
      'pipeToResult',
      'planLayer',
      'readableFromProducer',
      'resolveCompressorJobs',
      'resolveLevel',
      'storedName',
      'writePlannedEntries',
      'zstdBackend',
    ]);
  });
});

/** Every type export: removing or renaming one fails typecheck here. */
type PinnedTypes = [
  api.ChunkSink,
  api.CompressorOptions,
  api.DataObserver,
  api.DecompressOptions,
  api.FileDataOptions,
  api.OpenedFile,
  api.PlanOptions,
  api.PlannedEntry,
  api.PlannedSource,
  api.ResolvedMetadata,
  api.TarEntryInfo,
  api.TarEntryType,
  api.TarHeader,
  api.TarParserHandlers,
  api.TarParserOptions,
  api.TarWriterOptions,
  api.WriteEntriesOptions,
  api.ZstdFrameCompressor,
];

it('pins the type exports', () => {
  expectTypeOf<PinnedTypes>().not.toBeAny();
});
