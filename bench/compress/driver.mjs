// Writes one gzip layer of a directory with @img/layer-writer (built dist), for bench/compress/run.mjs
// (run under /usr/bin/time).
// usage: node driver.mjs <dir> <out> <level> <single|N|nproc> <metadata.json>
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { writeLayerToFile } = await import(join(root, 'packages/layer-writer/dist/index.js'));
const [dir, out, level, jobs, metadataPath] = process.argv.slice(2);
const meta = await writeLayerToFile({ entries: [{ type: 'directory', path: '/', source: dir }] }, out, {
  compression: 'gzip',
  level: Number(level),
  ...(jobs === 'single' ? {} : { compressorJobs: jobs === 'nproc' ? 'nproc' : Number(jobs) }),
});
await writeFile(metadataPath, JSON.stringify(meta));
