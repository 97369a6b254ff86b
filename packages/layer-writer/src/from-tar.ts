import { tmpdir } from 'node:os';
import { PassThrough, Writable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { type LayerCompression, type LayerMetadata, ociLayerMediaType } from '@img/oci-spec';
import { createDecompressionLimit, createDecompressor } from './decompress.js';
import { LayerError } from './errors.js';
import { DEFAULT_DEDUPLICATE } from './layer-tar.js';
import type { TarInputLimits } from './limits.js';
import { type RewriteOptions, rewriteTar } from './rewrite-tar.js';
import { DigestCounter, pipeToResult, readableFromProducer } from './streams.js';
import { detectFileCompression, openRegularFile, openTarStream, wrapDecompressError } from './tar-input.js';
import type { ChunkSink } from './tar-writer.js';
import {
  abortOnSignal,
  buildMetadata,
  compressAndMeasure,
  type LayerOutputOptions,
  type LayerWriteResult,
  writeResultToFile,
} from './write-layer.js';

/**
 * - passthrough: the blob is the input file unchanged; digest/size hash it, diff_id hashes its
 *   decompressed bytes. `compression`/`level` must not ask for anything else.
 * - recompress: decompress and compress with `compression`/`level`; the tar (diff_id) is unchanged.
 * - rewrite: parse the tar and write it again under the determinism rules (sorted, normalised
 *   metadata, hardlink dedup), then compress.
 */
export type LayerFromTarMode = 'passthrough' | 'recompress' | 'rewrite';
export const DEFAULT_FROM_TAR_MODE: LayerFromTarMode = 'recompress';

/**
 * Options of layerFromTar. The TarInputLimits caps (decompression in every mode; tar structure in
 * rewrite) default to their DEFAULT_* constants.
 */
export interface LayerFromTarOptions extends LayerOutputOptions, TarInputLimits {
  /** Default DEFAULT_FROM_TAR_MODE ('recompress'). */
  readonly mode?: LayerFromTarMode;
  /** rewrite: mtime of every entry (default 0). */
  readonly sourceDateEpoch?: number;
  /** rewrite: hardlink identical files. Default true. */
  readonly deduplicate?: boolean;
  /** rewrite of a compressed input: where the decompressed tar is spilled. Default os.tmpdir(). */
  readonly tempDir?: string;
}

/** Build a layer from an existing tar / tar.gz / tar.zst (compression detected from magic bytes). */
export function layerFromTar(inputPath: string, options: LayerFromTarOptions = {}): LayerWriteResult {
  const mode = options.mode ?? DEFAULT_FROM_TAR_MODE;
  switch (mode) {
    case 'passthrough':
      return passthrough(inputPath, options);
    case 'recompress': {
      const tar = new PassThrough({ highWaterMark: 1024 * 1024 });
      detectFileCompression(inputPath).then(
        (format) => {
          const src = openTarStream(inputPath, format, options);
          src.on('error', (err) => tar.destroy(err));
          src.pipe(tar);
        },
        (err) => tar.destroy(err),
      );
      return compressAndMeasure(tar, options);
    }
    case 'rewrite': {
      const rewriteOptions: RewriteOptions = {
        baseMtime: options.sourceDateEpoch ?? 0,
        deduplicate: options.deduplicate ?? DEFAULT_DEDUPLICATE,
        tempDir: options.tempDir ?? tmpdir(),
        limits: options,
      };
      const tar = readableFromProducer((sink) => rewriteTar(inputPath, sink, rewriteOptions));
      return compressAndMeasure(tar, options);
    }
    default:
      throw new LayerError(
        'IMG_LAYER_INVALID_OPTION',
        `mode: unknown layerFromTar mode ${JSON.stringify(mode)}`,
      );
  }
}

function passthrough(inputPath: string, options: LayerFromTarOptions): LayerWriteResult {
  const blob = new DigestCounter();
  const diff = new DigestCounter();
  let format: LayerCompression = 'none';
  const source = readableFromProducer((sink) =>
    hashWhileCopying(sink).catch((err: Error) => {
      throw wrapDecompressError(inputPath, err);
    }),
  );
  async function hashWhileCopying(sink: ChunkSink): Promise<void> {
    format = await detectFileCompression(inputPath);
    if (options.compression !== undefined && options.compression !== format) {
      throw new LayerError(
        'IMG_LAYER_INVALID_OPTION',
        `compression: passthrough keeps ${inputPath} as it is (${format}); use mode "recompress" for ${options.compression}`,
      );
    }
    const { handle, size } = await openRegularFile(inputPath);
    const decompressor = createDecompressor(format, { ...options, where: inputPath });
    const drained = pipelineAsync(
      decompressor,
      createDecompressionLimit({ ...options, compressedSize: size, where: inputPath }),
      diff,
      new Writable({
        highWaterMark: 1024 * 1024,
        write: (_c, _e, cb) => cb(),
      }),
    );
    drained.catch(() => {});
    for await (const chunk of handle.createReadStream({ highWaterMark: 1024 * 1024 })) {
      if (!decompressor.write(chunk)) {
        await new Promise<void>((resolve, reject) => {
          const onError = (err: Error) => reject(err);
          decompressor.once('error', onError);
          decompressor.once('drain', () => {
            decompressor.off('error', onError);
            resolve();
          });
        });
      }
      await sink(chunk as Buffer);
      if (decompressor.destroyed) break;
    }
    decompressor.end();
    await drained;
  }
  const result = pipeToResult(source, blob, () =>
    buildMetadata(diff, blob, options.mediaType ?? ociLayerMediaType(format), options),
  );
  return abortOnSignal(result, options.signal);
}

/** layerFromTar into the file `blobPath` (temp file + rename; nothing left behind on error). */
export async function layerFromTarToFile(
  inputPath: string,
  blobPath: string,
  options: LayerFromTarOptions = {},
): Promise<LayerMetadata> {
  return await writeResultToFile(layerFromTar(inputPath, options), blobPath, options);
}
