import { pipeline, type Readable } from 'node:stream';
import { AtomicFile, writeFileAtomic } from '@img/atomic-write';
import {
  type AbortOptions,
  canonicalJsonBytes,
  type Digest,
  type History,
  type LayerCompression,
  type LayerMetadata,
  ociLayerMediaType,
  type ProgressOptions,
  progressReporter,
} from '@img/oci-spec';
import {
  type CompressorJobs,
  createCompressor,
  createLayerCompressor,
  DEFAULT_COMPRESSION,
  parseCompression,
  resolveCompressorJobs,
  resolveLevel,
  ZSTD_FRAME_SIZE,
} from './compress.js';
import { sharedBuffers } from './compress-workers.js';
import { LayerError } from './errors.js';
import { DEFAULT_DEDUPLICATE, writePlannedEntries } from './layer-tar.js';
import { planLayer } from './plan.js';
import type { LayerSpec } from './spec.js';
import {
  BufferPool,
  DigestCounter,
  HashCounter,
  pipeToResult,
  waitForDrain,
  yieldToEventLoop,
} from './streams.js';
import { DEFAULT_TAR_CHUNK_SIZE, TarWriter, type TarWriterOptions } from './tar-writer.js';
import { releaseCompressedChunk, zstdFrameBuffer } from './zstd-frames.js';

/**
 * Options that shape the blob and its metadata document. `signal`: aborting destroys the stream (its
 * metadata rejects with `signal.reason`) and a *ToFile writer removes its temp file. `onProgress`:
 * the *ToFile writers report `write` events (start, about every MiB of blob written, done with the
 * descriptor).
 */
export interface LayerOutputOptions extends AbortOptions, ProgressOptions {
  /** Default DEFAULT_COMPRESSION ('gzip'). */
  readonly compression?: LayerCompression;
  /** gzip 0-9 (default 6), zstd 1-19 (default 3). */
  readonly level?: number;
  /** Media type in the metadata; default the OCI layer type for the compression. */
  readonly mediaType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly history?: readonly History[];
  /**
   * Worker threads for compression: a count or 'nproc' (one per core). Unset (default): gzip is one
   * classic deflate stream, zstd uses one thread per spare core (1-4). Set, even to 1: gzip uses block
   * mode (1 MiB blocks deflated in parallel into one gzip member; other bytes than the classic stream,
   * but the same for every count); zstd bytes never depend on it.
   */
  readonly compressorJobs?: CompressorJobs;
}

export interface WriteLayerOptions extends LayerOutputOptions {
  /**
   * mtime (unix seconds) of entries whose metadata sets none; the CLI fills it from SOURCE_DATE_EPOCH.
   * Default 0.
   */
  readonly sourceDateEpoch?: number;
  /** Write identical files (content and metadata) after the first as hardlinks. Default true. */
  readonly deduplicate?: boolean;
}

/** A layer being written: read `stream` to the end; `metadata` resolves once every byte went through. */
export interface LayerWriteResult {
  readonly stream: Readable;
  readonly metadata: Promise<LayerMetadata>;
}

export interface ResolvedOutput {
  readonly compression: LayerCompression;
  readonly level: number;
  readonly mediaType: string;
  /** Undefined: the compressor's default. */
  readonly jobs: number | undefined;
}

export function resolveOutput(options: LayerOutputOptions): ResolvedOutput {
  const compression = parseCompression(options.compression ?? DEFAULT_COMPRESSION);
  const level = resolveLevel(compression, options.level);
  const mediaType = options.mediaType ?? ociLayerMediaType(compression);
  if (typeof mediaType !== 'string' || mediaType === '') {
    throw new LayerError('IMG_LAYER_INVALID_OPTION', 'mediaType: expected a non-empty string');
  }
  const jobs =
    options.compressorJobs === undefined ? undefined : resolveCompressorJobs(options.compressorJobs);
  return { compression, level, mediaType, jobs };
}

function parseEpoch(value: number | undefined): number {
  if (value === undefined) return 0;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new LayerError(
      'IMG_LAYER_INVALID_OPTION',
      `sourceDateEpoch: expected whole seconds >= 0, got ${value}`,
    );
  }
  return value;
}

/**
 * Build the metadata document. `diff`/`blob` are the counters before and after compression.
 */
export function buildMetadata(
  diff: { readonly digest: Digest; readonly bytes: number },
  blob: { readonly digest: Digest; readonly bytes: number },
  mediaType: string,
  options: LayerOutputOptions,
): LayerMetadata {
  return {
    mediaType,
    digest: blob.digest,
    size: blob.bytes,
    diff_id: diff.digest,
    uncompressed_size: diff.bytes,
    ...(options.annotations ? { annotations: { ...options.annotations } } : {}),
    ...(options.history ? { history: [...options.history] } : {}),
  };
}

/**
 * Run `source` (uncompressed tar bytes) through diff_id hashing, the compressor and digest hashing
 * in one streaming pass. Used by writeLayer and layerFromTar.
 */
export function compressAndMeasure(source: Readable, options: LayerOutputOptions): LayerWriteResult {
  const out = resolveOutput(options);
  const diff = new DigestCounter();
  const blob = new DigestCounter();
  // Errors of the first stages destroy the compressor, so pipeToResult sees them too.
  const compressed = pipeline(
    source,
    diff,
    createCompressor({ format: out.compression, level: out.level, jobs: out.jobs }),
    () => {},
  );
  return abortOnSignal(
    pipeToResult(compressed, blob, () => buildMetadata(diff, blob, out.mediaType, options)),
    options.signal,
  );
}

/**
 * The result, its stream destroyed with `signal.reason` when `signal` aborts (the metadata then
 * rejects with it; the stages before the stream are torn down by its pipeline).
 */
export function abortOnSignal(result: LayerWriteResult, signal: AbortSignal | undefined): LayerWriteResult {
  if (!signal) return result;
  const abort = () => result.stream.destroy(signal.reason);
  if (signal.aborted) abort();
  else {
    signal.addEventListener('abort', abort, { once: true });
    result.stream.once('close', () => signal.removeEventListener('abort', abort));
  }
  return result;
}

/**
 * Write a layer: a deterministic tar of `spec` (see the README's determinism rules), compressed, with
 * its digest, diff_id and sizes computed in the same pass. Validation of the spec (paths, duplicates,
 * missing sources, metadata) happens before the first byte; such errors reject `metadata` and destroy
 * `stream`. Bad options throw at once.
 */
export function writeLayer(spec: LayerSpec, options: WriteLayerOptions = {}): LayerWriteResult {
  return startLayer(spec, options, false);
}

/**
 * writeLayer; with `lendOutput`, the stream's chunks may be views of reusable buffers that its
 * consumer must hand back with releaseCompressedChunk once done with them (writeResultToFile does).
 */
function startLayer(spec: LayerSpec, options: WriteLayerOptions, lendOutput: boolean): LayerWriteResult {
  const out = resolveOutput(options);
  const baseMtime = parseEpoch(options.sourceDateEpoch);
  const compressor = createLayerCompressor(
    { format: out.compression, level: out.level, jobs: out.jobs, fixedInputBlocks: true },
    lendOutput,
  );
  const diff = new HashCounter();
  const blob = new DigestCounter();
  const chunks = tarChunks(out.compression, lendOutput);
  const { release } = chunks;
  const { stream, metadata } = pipeToResult(compressor, blob, () =>
    buildMetadata(diff, blob.counter, out.mediaType, options),
  );
  const sink = async (chunk: Buffer): Promise<void> => {
    if (compressor.destroyed) throw new Error('layer stream was destroyed');
    diff.update(chunk);
    const more = compressor.write(chunk, release ? () => release(chunk) : undefined);
    if (more) await yieldToEventLoop();
    else await waitForDrain(compressor);
  };
  const result = abortOnSignal({ stream, metadata }, options.signal);
  (async () => {
    const writer = new TarWriter(sink, chunks);
    // No binding keeps the plan: it is freed entry by entry as the layer is written.
    await writePlannedEntries(writer, await planLayer(spec, { baseMtime }), {
      deduplicate: options.deduplicate ?? DEFAULT_DEDUPLICATE,
      releaseWritten: true,
    });
    await writer.finish();
    diff.finish();
  })().then(
    () => compressor.end(),
    (err) => compressor.destroy(err),
  );
  return result;
}

interface TarChunks extends TarWriterOptions {
  /** Called once the compressor is done with a chunk. */
  readonly release?: (chunk: Buffer) => void;
}

/**
 * Where the tar writer's chunks come from, so that a multi-GiB layer does not leave GiBs of garbage for
 * the GC to find. zstd: whole frames that the compressor takes over without a copy (reused once
 * compressed). gzip: 1 MiB chunks back to a pool once deflated. none: the chunks are the output; when
 * it is lent (`lendOutput`), reusable buffers that the consumer hands back.
 */
function tarChunks(compression: LayerCompression, lendOutput: boolean): TarChunks {
  if (compression === 'zstd') {
    return { chunkSize: ZSTD_FRAME_SIZE, allocate: () => zstdFrameBuffer(ZSTD_FRAME_SIZE) };
  }
  if (compression === 'none') {
    return lendOutput ? { allocate: () => sharedBuffers.acquire(DEFAULT_TAR_CHUNK_SIZE) } : {};
  }
  const pool = new BufferPool(DEFAULT_TAR_CHUNK_SIZE);
  return { allocate: () => pool.acquire(), release: (chunk) => pool.release(chunk) };
}

/** What writeResultToFile reports and honours. */
export interface WriteResultOptions extends AbortOptions, ProgressOptions {}

const PROGRESS_EVERY_BYTES = 1024 * 1024;

/**
 * Write a result's stream to `path` (temp file + rename; the temp file is removed on error, on abort
 * and on SIGINT/SIGTERM). Chunks lent by the compressor are handed back once written. Reports
 * `write` progress of a layer: start, about every MiB, done with its descriptor.
 */
export async function writeResultToFile(
  result: LayerWriteResult,
  path: string,
  options: WriteResultOptions = {},
): Promise<LayerMetadata> {
  const { signal } = options;
  const progress = progressReporter(options.onProgress);
  let file: AtomicFile | undefined;
  try {
    signal?.throwIfAborted();
    file = await AtomicFile.open(path);
    progress({ type: 'blob', operation: 'write', phase: 'start', kind: 'layer', bytes: 0 });
    let bytes = 0;
    let reported = 0;
    for await (const chunk of result.stream as AsyncIterable<Buffer>) {
      await file.write(chunk);
      releaseCompressedChunk(chunk);
      bytes += chunk.length;
      if (bytes - reported >= PROGRESS_EVERY_BYTES) {
        reported = bytes;
        progress({ type: 'blob', operation: 'write', phase: 'progress', kind: 'layer', bytes });
      }
    }
    const meta = await result.metadata;
    signal?.throwIfAborted();
    await file.commit();
    const { mediaType, digest, size } = meta;
    const descriptor = { mediaType, digest, size };
    progress({
      type: 'blob',
      operation: 'write',
      phase: 'done',
      kind: 'layer',
      descriptor,
      bytes: size,
      outcome: 'written',
    });
    return meta;
  } catch (err) {
    result.stream.destroy();
    result.metadata.catch(() => {});
    await file?.abort();
    throw signal?.aborted ? signal.reason : err;
  }
}

/** writeLayer into the file `blobPath`; nothing is left at `blobPath` (or beside it) on error. */
export async function writeLayerToFile(
  spec: LayerSpec,
  blobPath: string,
  options: WriteLayerOptions = {},
): Promise<LayerMetadata> {
  return await writeResultToFile(startLayer(spec, options, true), blobPath, options);
}

/** Write a layer metadata document (canonical JSON) to `path` via temp file + rename. */
export async function writeLayerMetadata(path: string, metadata: LayerMetadata): Promise<void> {
  await writeFileAtomic(path, canonicalJsonBytes(metadata, 'layerMetadata'));
}
