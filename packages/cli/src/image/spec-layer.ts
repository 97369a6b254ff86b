import { join } from 'node:path';
import { writeEstargzLayerToFile } from '@img/estargz';
import { type FileMetadata, type LayerEntry, writeLayerToFile } from '@img/layer-writer';
import type { LayerMetadata } from '@img/oci-spec';
import type { LayerSpecFile } from '../spec/image-spec.js';

export interface BuiltLayer {
  readonly metadata: LayerMetadata;
  readonly blobPath: string;
}

/** The layer-writer entries a spec layer describes. */
export function entriesOf(layer: LayerSpecFile): LayerEntry[] {
  const entries: LayerEntry[] = [];
  for (const [path, source] of Object.entries(layer.files ?? {}))
    entries.push({ type: 'file', path, source });
  for (const [path, source] of Object.entries(layer.directories ?? {}))
    entries.push({ type: 'directory', path, source });
  for (const [path, target] of Object.entries(layer.symlinks ?? {}))
    entries.push({ type: 'symlink', path, target });
  for (const path of layer.emptyFiles ?? []) entries.push({ type: 'content', path, content: '' });
  for (const path of layer.whiteouts ?? []) entries.push({ type: 'whiteout', path });
  return entries;
}

/** Write one spec layer's blob into `workDir`; `where` names the layer in errors. */
export async function buildSpecLayer(
  layer: LayerSpecFile,
  workDir: string,
  name: string,
  options: { mtime?: number; where: string },
): Promise<BuiltLayer> {
  const blobPath = join(workDir, `${name}.blob`);
  const write = layer.estargz ? writeEstargzLayerToFile : writeLayerToFile;
  const metadata = await write(
    {
      entries: entriesOf(layer),
      ...(layer.defaultMetadata ? { defaultMetadata: layer.defaultMetadata as FileMetadata } : {}),
      ...(layer.metadata ? { fileMetadata: layer.metadata as Record<string, FileMetadata> } : {}),
      ...(layer.createParentDirectories ? { createParentDirectories: true } : {}),
    },
    blobPath,
    {
      compression: layer.compress ?? 'gzip',
      ...(layer.compressionLevel !== undefined ? { level: layer.compressionLevel } : {}),
      ...(layer.compressorJobs !== undefined ? { compressorJobs: layer.compressorJobs } : {}),
      ...(options.mtime !== undefined ? { sourceDateEpoch: options.mtime } : {}),
      ...(layer.annotations ? { annotations: layer.annotations } : {}),
      ...(layer.zstdChunked ? { zstdChunkedVariant: layer.zstdChunked } : {}),
      history: [{ created_by: layer.createdBy ?? 'img build' }],
    },
  );
  return { metadata, blobPath };
}
