import { join } from 'node:path';
import type { FileMetadata, LayerEntry } from '@img/layer-writer';
import type { LayerMetadata } from '@img/oci-spec';
import type { LayerSpecFile } from '../spec/image-spec.js';
import { type LayerRequest, writeRequestedLayer } from './layer-request.js';

export interface BuiltLayer {
  readonly metadata: LayerMetadata;
  readonly blobPath: string;
}

/** The layer-writer entries a spec layer describes. */
function entriesOf(layer: LayerSpecFile): LayerEntry[] {
  const entries: LayerEntry[] = [];
  for (const [path, source] of Object.entries(layer.files ?? {}))
    entries.push({ type: 'file', path, source });
  for (const [path, source] of Object.entries(layer.directories ?? {}))
    entries.push({ type: 'directory', path, source });
  for (const [path, target] of Object.entries(layer.symlinks ?? {}))
    entries.push({ type: 'symlink', path, target });
  for (const path of layer.emptyFiles ?? []) entries.push({ type: 'content', path, content: '' });
  for (const path of layer.whiteouts ?? []) entries.push({ type: 'whiteout', path });
  for (const path of layer.opaque ?? []) entries.push({ type: 'opaque', path });
  return entries;
}

/** The layer request a spec layer describes; `mtime` is SOURCE_DATE_EPOCH. */
export function layerRequestFromSpec(layer: LayerSpecFile, mtime: number | undefined): LayerRequest {
  return {
    entries: entriesOf(layer),
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

/** Write one spec layer's blob into `workDir`; `where` names the layer in errors. */
export async function buildSpecLayer(
  layer: LayerSpecFile,
  workDir: string,
  name: string,
  options: { mtime?: number; where: string },
): Promise<BuiltLayer> {
  const blobPath = join(workDir, `${name}.blob`);
  const metadata = await writeRequestedLayer(layerRequestFromSpec(layer, options.mtime), blobPath);
  return { metadata, blobPath };
}
