import { join } from 'node:path';
import { writeEstargzLayerToFile } from '@img/estargz';
import { type FileMetadata, writeLayerToFile } from '@img/layer-writer';
import { ImgError, type LayerMetadata } from '@img/oci-spec';
import type { LayerSpecFile } from '../spec/image-spec.js';
import { inSpecTerms, layerEntries } from '../spec/layer-entries.js';
import { errorAtKey } from '../spec/spec-errors.js';

export interface BuiltLayer {
  readonly metadata: LayerMetadata;
  readonly blobPath: string;
}

/** Spec keys a layer-writer message can start with once in spec terms (joined to the layer with '.'). */
const LAYER_KEY =
  /^(files|directories|symlinks|emptyFiles|whiteouts|metadata|defaultMetadata|compressionLevel)\b/;

/**
 * Write one spec layer's blob into `workDir`. `where` is the layer's key path in the spec
 * (`image.json: layers[0]`): errors name it and the spec key inside the layer.
 */
export async function buildSpecLayer(
  layer: LayerSpecFile,
  workDir: string,
  name: string,
  options: { mtime?: number; where: string; specPath: string },
): Promise<BuiltLayer> {
  const keyed = layerEntries(layer);
  try {
    return await writeSpecLayer(layer, keyed.entries, join(workDir, `${name}.blob`), options.mtime);
  } catch (err) {
    if (!(err instanceof ImgError)) throw errorAtKey(err, options.where, options.specPath);
    const message = inSpecTerms(err.message, keyed);
    err.message = LAYER_KEY.test(message) ? `${options.where}.${message}` : `${options.where}: ${message}`;
    throw err;
  }
}

async function writeSpecLayer(
  layer: LayerSpecFile,
  entries: ReturnType<typeof layerEntries>['entries'],
  blobPath: string,
  mtime: number | undefined,
): Promise<BuiltLayer> {
  const write = layer.estargz ? writeEstargzLayerToFile : writeLayerToFile;
  const metadata = await write(
    {
      entries,
      ...(layer.defaultMetadata ? { defaultMetadata: layer.defaultMetadata as FileMetadata } : {}),
      ...(layer.metadata ? { fileMetadata: layer.metadata as Record<string, FileMetadata> } : {}),
      ...(layer.createParentDirectories ? { createParentDirectories: true } : {}),
    },
    blobPath,
    {
      compression: layer.compress ?? 'gzip',
      ...(layer.compressionLevel !== undefined ? { level: layer.compressionLevel } : {}),
      ...(layer.compressorJobs !== undefined ? { compressorJobs: layer.compressorJobs } : {}),
      ...(mtime !== undefined ? { sourceDateEpoch: mtime } : {}),
      ...(layer.annotations ? { annotations: layer.annotations } : {}),
      ...(layer.zstdChunked ? { zstdChunkedVariant: layer.zstdChunked } : {}),
      history: [{ created_by: layer.createdBy ?? 'img build' }],
    },
  );
  return { metadata, blobPath };
}
