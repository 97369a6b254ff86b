// Writes one layer of a directory, for bench/compress/estargz.mjs (run under /usr/bin/time).
// usage: node estargz-driver.mjs <none|gzip|estargz|zstd|zstd-chunked> <dir> <out> <level> [compressor-jobs]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const [mode, dir, out, level, jobs] = process.argv.slice(2);
const spec = { entries: [{ type: 'directory', path: '/', source: dir }] };
if (mode === 'none' || mode === 'gzip' || mode === 'zstd') {
  const { writeLayerToFile } = await import(join(root, 'packages/layer-writer/dist/index.js'));
  await writeLayerToFile(spec, out, { compression: mode, level: Number(level) });
} else {
  const { writeEstargzLayerToFile } = await import(join(root, 'packages/estargz/dist/index.js'));
  const compression = mode === 'zstd-chunked' ? 'zstd' : 'gzip';
  await writeEstargzLayerToFile(spec, out, {
    compression,
    level: Number(level),
    ...(jobs ? { compressorJobs: Number(jobs) } : {}),
  });
}
