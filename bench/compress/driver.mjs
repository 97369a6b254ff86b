// Writes one layer of a directory with a built @img/layer-writer (or @img/estargz), for
// bench/compress/run.mjs (run under /usr/bin/time).
// usage: node driver.mjs <layer-writer dist dir> <dir> <out> <gzip|zstd|none|estargz|zstd-chunked> <level> <single|N|nproc> <metadata.json>
// `single`: compressorJobs unset (gzip: the classic single stream; zstd: the default worker count).
// estargz and zstd-chunked use the @img/estargz build beside that layer-writer (packages/estargz/dist).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';

// BENCH_CLI_HEAP=1: the V8 settings the img bin makes at startup (packages/cli/src/util/heap-settings.ts).
if (process.env.BENCH_CLI_HEAP === '1') {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--optimize-for-size');
}

const [dist, dir, out, format, level, jobs, metadataPath] = process.argv.slice(2);
const spec = { entries: [{ type: 'directory', path: '/', source: dir }] };
const estargz = format === 'estargz' || format === 'zstd-chunked';
const options = {
  compression: format === 'estargz' ? 'gzip' : format === 'zstd-chunked' ? 'zstd' : format,
  level: Number(level),
  ...(jobs === 'single' ? {} : { compressorJobs: jobs === 'nproc' ? 'nproc' : Number(jobs) }),
};
const meta = estargz
  ? await (await import(join(dist, '..', '..', 'estargz', 'dist', 'index.js'))).writeEstargzLayerToFile(
      spec,
      out,
      options,
    )
  : await (await import(join(dist, 'index.js'))).writeLayerToFile(spec, out, options);
await writeFile(metadataPath, JSON.stringify(meta));
