import { type EstargzLayerOptions, writeEstargzLayerToFile, type ZstdChunkedVariant } from '@img/estargz';
import {
  type CompressorJobs,
  type FileMetadata,
  type LayerEntry,
  type LayerSpec,
  writeLayerToFile,
} from '@img/layer-writer';
import type { LayerCompression, LayerMetadata } from '@img/oci-spec';

/** How a layer blob is encoded and described: what `img layer`, `img layer-from-tar` and spec layers share. */
export interface LayerEncoding {
  readonly compression: LayerCompression;
  /** gzip 0-9, zstd 1-19; undefined: the writer's default. */
  readonly level?: number;
  readonly compressorJobs?: CompressorJobs;
  /** mtime of entries without their own (SOURCE_DATE_EPOCH). */
  readonly sourceDateEpoch?: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly mediaType?: string;
  /** The layer's history `created_by`. */
  readonly createdBy: string;
  /** Set: write eStargz (zstd:chunked with zstd compression). */
  readonly estargz?: EstargzRequest;
}

export interface EstargzRequest {
  readonly chunkSize?: number;
  readonly zstdChunkedVariant?: ZstdChunkedVariant;
  readonly prioritizedFiles?: readonly string[];
  /** Names the prioritized list in errors (the file it was read from). */
  readonly prioritizedFilesSource?: string;
}

/** One layer to write from files: built from `img layer` flags or from a spec layer. */
export interface LayerRequest extends LayerEncoding {
  readonly entries: readonly LayerEntry[];
  readonly defaultMetadata?: FileMetadata;
  readonly fileMetadata?: Readonly<Record<string, FileMetadata>>;
  readonly createParentDirectories?: boolean;
}

/** The layer-writer (and eStargz writer) options an encoding stands for. */
export function layerWriterOptions(encoding: LayerEncoding): EstargzLayerOptions {
  const e = encoding.estargz;
  return {
    compression: encoding.compression,
    ...(encoding.level !== undefined ? { level: encoding.level } : {}),
    ...(encoding.compressorJobs !== undefined ? { compressorJobs: encoding.compressorJobs } : {}),
    ...(encoding.sourceDateEpoch !== undefined ? { sourceDateEpoch: encoding.sourceDateEpoch } : {}),
    ...(encoding.annotations ? { annotations: encoding.annotations } : {}),
    ...(encoding.mediaType ? { mediaType: encoding.mediaType } : {}),
    history: [{ created_by: encoding.createdBy }],
    ...(e?.chunkSize !== undefined ? { chunkSize: e.chunkSize } : {}),
    ...(e?.zstdChunkedVariant !== undefined ? { zstdChunkedVariant: e.zstdChunkedVariant } : {}),
    ...(e?.prioritizedFiles
      ? {
          prioritizedFiles: e.prioritizedFiles,
          ...(e.prioritizedFilesSource ? { prioritizedFilesSource: e.prioritizedFilesSource } : {}),
        }
      : {}),
  };
}

/** The layer-writer spec (what goes into the layer) of a request. */
export function layerSpecOf(request: LayerRequest): LayerSpec {
  return {
    entries: request.entries,
    ...(request.defaultMetadata ? { defaultMetadata: request.defaultMetadata } : {}),
    ...(request.fileMetadata && Object.keys(request.fileMetadata).length
      ? { fileMetadata: request.fileMetadata }
      : {}),
    ...(request.createParentDirectories ? { createParentDirectories: true } : {}),
  };
}

/** Write the layer a request describes to `blobPath` (atomically); resolves to its metadata. */
export async function writeRequestedLayer(request: LayerRequest, blobPath: string): Promise<LayerMetadata> {
  const write = request.estargz ? writeEstargzLayerToFile : writeLayerToFile;
  return await write(layerSpecOf(request), blobPath, layerWriterOptions(request));
}
