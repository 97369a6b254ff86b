import {
  DEFAULT_DEDUPLICATE,
  type LayerOutputOptions,
  type LayerSpec,
  type LayerWriteResult,
  type WriteLayerOptions,
  writeResultToFile,
} from '@img/layer-writer';
import {
  abortOnSignal,
  DigestCounter,
  parseCompression,
  pipeToResult,
  planLayer,
  readableFromProducer,
  resolveCompressorJobs,
  resolveLevel,
  TarWriter,
  writePlannedEntries,
} from '@img/layer-writer/internal';
import { type LayerMetadata, ociLayerMediaType } from '@img/oci-spec';
import { type AssembledLayer, EstargzAssembler } from './assembler.js';
import { gzipCodec, type MemberCodec, type ZstdChunkedVariant, zstdChunkedCodec } from './codec.js';
import {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MIN_CHUNK_SIZE,
  TOC_DIGEST_ANNOTATION,
  UNCOMPRESSED_SIZE_ANNOTATION,
} from './constants.js';
import { EstargzError } from './errors.js';
import { orderForEstargz } from './order.js';

/**
 * Options of an eStargz layer: every option of layer-writer's `writeLayer`, plus the eStargz ones.
 * `compression` 'gzip' (default) writes eStargz, 'zstd' writes zstd:chunked; 'none' is rejected.
 */
export interface EstargzLayerOptions extends WriteLayerOptions {
  // compressorJobs: members compressed at once (each payload member is an independent gzip or zstd
  // frame, so the bytes never depend on it). Default 16 in flight on the libuv threadpool.
  /** Files larger than this are split into chunks of this size. Default DEFAULT_CHUNK_SIZE (4 MiB). */
  readonly chunkSize?: number;
  /**
   * Paths (in the image) to put first, in this order, followed by `.prefetch.landmark`; the runtime
   * prefetches them. Default none: `.no.prefetch.landmark` comes first.
   */
  readonly prioritizedFiles?: readonly string[];
  /** Names the prioritized list in errors (e.g. the file it came from). Default 'prioritizedFiles'. */
  readonly prioritizedFilesSource?: string;
  /**
   * Payloads share a member (with `innerOffset`) until it holds this many uncompressed bytes.
   * Default DEFAULT_MIN_CHUNK_SIZE (0: one member per payload). See the README before using it.
   */
  readonly minChunkSize?: number;
  /**
   * With `compression: 'zstd'`: containers/storage's zstd:chunked (default; podman and CRI-O pull it
   * partially) or stargz-snapshotter's (its zstdchunked package).
   */
  readonly zstdChunkedVariant?: ZstdChunkedVariant;
}

export interface ResolvedEstargzOptions {
  readonly codec: () => MemberCodec;
  readonly mediaType: string;
  readonly chunkSize: number;
  readonly minChunkSize: number;
  readonly baseMtime: number;
  readonly compressJobs: number | undefined;
}

function positiveInteger(value: number | undefined, field: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new EstargzError(
      'IMG_ESTARGZ_INVALID_OPTION',
      `${field}: expected an integer >= ${min}, got ${value}`,
    );
  }
  return value;
}

export function resolveOptions(options: EstargzLayerOptions): ResolvedEstargzOptions {
  const compression = parseCompression(options.compression ?? 'gzip');
  if (compression === 'none') {
    throw new EstargzError(
      'IMG_ESTARGZ_INVALID_OPTION',
      'compression: eStargz layers are gzip (or zstd for zstd:chunked), not uncompressed',
    );
  }
  const level = resolveLevel(compression, options.level);
  const mediaType = options.mediaType ?? ociLayerMediaType(compression);
  if (typeof mediaType !== 'string' || mediaType === '') {
    throw new EstargzError('IMG_ESTARGZ_INVALID_OPTION', 'mediaType: expected a non-empty string');
  }
  if (options.prioritizedFiles !== undefined && !Array.isArray(options.prioritizedFiles)) {
    throw new EstargzError('IMG_ESTARGZ_INVALID_OPTION', 'prioritizedFiles: expected an array of paths');
  }
  const variant = options.zstdChunkedVariant ?? 'containers-storage';
  if (variant !== 'containers-storage' && variant !== 'stargz-snapshotter') {
    throw new EstargzError(
      'IMG_ESTARGZ_INVALID_OPTION',
      `zstdChunkedVariant: expected "containers-storage" or "stargz-snapshotter", got ${JSON.stringify(variant)}`,
    );
  }
  return {
    codec: () => (compression === 'zstd' ? zstdChunkedCodec(level, variant) : gzipCodec(level)),
    mediaType,
    chunkSize: positiveInteger(options.chunkSize, 'chunkSize', DEFAULT_CHUNK_SIZE, 1),
    minChunkSize: positiveInteger(options.minChunkSize, 'minChunkSize', DEFAULT_MIN_CHUNK_SIZE, 0),
    baseMtime: positiveInteger(options.sourceDateEpoch, 'sourceDateEpoch', 0, 0),
    compressJobs:
      options.compressorJobs === undefined ? undefined : resolveCompressorJobs(options.compressorJobs),
  };
}

function metadataOf(
  assembled: AssembledLayer,
  blob: DigestCounter,
  mediaType: string,
  options: LayerOutputOptions,
): LayerMetadata {
  return {
    mediaType,
    digest: blob.digest,
    size: blob.bytes,
    diff_id: assembled.diffId,
    uncompressed_size: assembled.uncompressedSize,
    annotations: {
      ...options.annotations,
      ...assembled.annotations,
      [TOC_DIGEST_ANNOTATION]: assembled.tocDigest,
      [UNCOMPRESSED_SIZE_ANNOTATION]: String(assembled.uncompressedSize),
    },
    ...(options.history ? { history: [...options.history] } : {}),
  };
}

/**
 * Write an eStargz layer (or zstd:chunked with `compression: 'zstd'`) for `spec`: the same entries,
 * metadata and determinism rules as layer-writer's `writeLayer`, reordered for prefetch (prioritized
 * files, landmark), every file payload in its own compressed member, large files chunked, the TOC and
 * footer at the end. The metadata's diff_id is the sha256 of the whole decompressed stream (TOC entry
 * and archive end included) and its annotations carry the TOC digest and uncompressed size. Same
 * result shape as `writeLayer`: read `stream` to the end; `metadata` resolves after the last byte.
 * Bad options throw here; bad specs reject `metadata` and destroy `stream`.
 */
export function writeEstargzLayer(spec: LayerSpec, options: EstargzLayerOptions = {}): LayerWriteResult {
  const resolved = resolveOptions(options);
  return assembleLayer(resolved, options, async (writer) => {
    // No binding keeps the plan: it is freed entry by entry as the layer is written.
    const planned = planLayer(spec, { baseMtime: resolved.baseMtime });
    await writePlannedEntries(
      writer,
      orderForEstargz(await planned, options.prioritizedFiles, options.prioritizedFilesSource),
      { deduplicate: options.deduplicate ?? DEFAULT_DEDUPLICATE, releaseWritten: true },
    );
  });
}

/**
 * The layer of the tar entries `writeEntries` writes (no archive end: it is added here), assembled as
 * `resolved` says; shared by writeEstargzLayer and estargzFromTar.
 */
export function assembleLayer(
  resolved: ResolvedEstargzOptions,
  options: LayerOutputOptions,
  writeEntries: (writer: TarWriter) => Promise<void>,
): LayerWriteResult {
  let assembled: AssembledLayer | undefined;
  const source = readableFromProducer(async (sink) => {
    const assembler = new EstargzAssembler({
      codec: resolved.codec(),
      chunkSize: resolved.chunkSize,
      minChunkSize: resolved.minChunkSize,
      ...(resolved.compressJobs !== undefined ? { compressJobs: resolved.compressJobs } : {}),
      output: async (bytes) => {
        await sink(bytes);
      },
    });
    const writer = new TarWriter((chunk) => assembler.write(chunk), { allocate: assembler.allocateChunk });
    await writeEntries(writer);
    assembler.endEntries(writer.position);
    await writer.finish();
    assembled = await assembler.finish();
  });
  const blob = new DigestCounter();
  const result = pipeToResult(source, blob, () => metadataOf(assembled!, blob, resolved.mediaType, options));
  return abortOnSignal(result, options.signal);
}

/** writeEstargzLayer into `blobPath` (temp file + rename; nothing is left behind on error). */
export async function writeEstargzLayerToFile(
  spec: LayerSpec,
  blobPath: string,
  options: EstargzLayerOptions = {},
): Promise<LayerMetadata> {
  return await writeResultToFile(writeEstargzLayer(spec, options), blobPath, options);
}
