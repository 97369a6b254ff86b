import { join } from 'node:path';
import type { FileMetadata, LayerEntry } from '@img/layer-writer';
import { ImgError, type LayerMetadata } from '@img/oci-spec';
import type { LayerSpecFile } from '../spec/image-spec.js';
import { inSpecTerms, layerEntries } from '../spec/layer-entries.js';
import { errorAtKey } from '../spec/spec-errors.js';
import { type LayerRequest, writeRequestedLayer } from './layer-request.js';

export interface BuiltLayer {
  readonly metadata: LayerMetadata;
  readonly blobPath: string;
}

/**
 * The layer request a spec layer describes; `mtime` is SOURCE_DATE_EPOCH, `entries` the layer's
 * entries (`layerEntries`: directories carry their excludes and owner).
 */
export function layerRequestFromSpec(
  layer: LayerSpecFile,
  mtime: number | undefined,
  entries: readonly LayerEntry[] = layerEntries(layer).entries,
): LayerRequest {
  return {
    entries,
    ...(layer.defaultMetadata ? { defaultMetadata: layer.defaultMetadata as FileMetadata } : {}),
    ...(layer.metadata ? { fileMetadata: layer.metadata as Record<string, FileMetadata> } : {}),
    ...(layer.createParentDirectories ? { createParentDirectories: true } : {}),
    compression: layer.compress ?? 'gzip',
    ...(layer.compressionLevel !== undefined ? { level: layer.compressionLevel } : {}),
    ...(layer.compressorJobs !== undefined ? { compressorJobs: layer.compressorJobs } : {}),
    ...(mtime !== undefined ? { sourceDateEpoch: mtime } : {}),
    ...(layer.annotations ? { annotations: layer.annotations } : {}),
    createdBy: layer.createdBy ?? 'img build',
    ...(layer.estargz ? { estargz: layer.zstdChunked ? { zstdChunkedVariant: layer.zstdChunked } : {} } : {}),
  };
}

/** Spec keys a layer-writer message can start with once in spec terms (joined to the layer with '.'). */
const LAYER_KEY =
  /^(files|directories|symlinks|emptyFiles|whiteouts|opaque|metadata|defaultMetadata|compressionLevel)\b/;

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
  const blobPath = join(workDir, `${name}.blob`);
  try {
    const metadata = await writeRequestedLayer(
      layerRequestFromSpec(layer, options.mtime, keyed.entries),
      blobPath,
    );
    return { metadata, blobPath };
  } catch (err) {
    if (!(err instanceof ImgError)) throw errorAtKey(err, options.where, options.specPath);
    const message = inSpecTerms(err.message, keyed);
    err.message = LAYER_KEY.test(message) ? `${options.where}.${message}` : `${options.where}: ${message}`;
    throw err;
  }
}
