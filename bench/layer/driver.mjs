// Writes one layer with @img/layer-writer (built dist), for bench/layer/run.mjs when the CLI is absent.
// usage: node driver.mjs <dir> <out> <gzip|zstd|none> <level> <metadata.json>
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { writeLayerToFile, writeLayerMetadata } = await import(
  join(root, 'packages/layer-writer/dist/index.js')
);
const [dir, out, compression, level, metadataPath] = process.argv.slice(2);
const meta = await writeLayerToFile({ entries: [{ type: 'directory', path: '/', source: dir }] }, out, {
  compression,
  level: Number(level),
});
if (metadataPath) await writeLayerMetadata(metadataPath, meta);
