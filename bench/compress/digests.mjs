// Prints the layer digests of a fixed set of cases (gzip single stream and block mode at several
// job counts and levels, zstd, none, eStargz, zstd:chunked) over bench/layer's generated tree and,
// when present, bench/.work/usr-share: run before and after a change to the compression code and
// diff the output (digests must not change unless a changeset says so).
//
//   node bench/compress/digests.mjs > before.txt
//
// Env: BENCH_TREE_MIB=64 (generated tree), LAYER_WRITER_DIST / ESTARGZ_DIST (dist dirs to load;
// default the repo's built packages).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTree } from '../layer/tree.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const lwDist = process.env.LAYER_WRITER_DIST ?? join(root, 'packages/layer-writer/dist');
const ezDist = process.env.ESTARGZ_DIST ?? join(root, 'packages/estargz/dist');
const { writeLayerToFile } = await import(join(lwDist, 'index.js'));
const { writeEstargzLayerToFile } = await import(join(ezDist, 'index.js'));

const work = mkdtempSync(join(tmpdir(), 'img-digests-'));
try {
  const generated = join(work, 'tree');
  mkdirSync(generated);
  generateTree(generated, Number(process.env.BENCH_TREE_MIB ?? 64));
  const trees = [['generated', generated]];
  const usrShare = join(root, 'bench/.work/usr-share');
  if (existsSync(usrShare)) trees.push(['usr-share', usrShare]);
  const cases = [
    ['gzip -6 single stream', { compression: 'gzip', level: 6 }],
    ['gzip -1 single stream', { compression: 'gzip', level: 1 }],
    ['gzip -6 jobs 1', { compression: 'gzip', level: 6, compressorJobs: 1 }],
    ['gzip -6 jobs 2', { compression: 'gzip', level: 6, compressorJobs: 2 }],
    ['gzip -3 jobs 3', { compression: 'gzip', level: 3, compressorJobs: 3 }],
    ['gzip -0 jobs 2', { compression: 'gzip', level: 0, compressorJobs: 2 }],
    ['zstd -3', { compression: 'zstd', level: 3 }],
    ['zstd -3 jobs 1', { compression: 'zstd', level: 3, compressorJobs: 1 }],
    ['none', { compression: 'none' }],
    ['estargz gzip -6', { compression: 'gzip', level: 6 }, true],
    ['zstd:chunked -3', { compression: 'zstd', level: 3 }, true],
  ];
  for (const [treeName, dir] of trees) {
    const spec = { entries: [{ type: 'directory', path: '/', source: dir }] };
    for (const [name, options, estargz] of cases) {
      const out = join(work, 'layer');
      const write = estargz ? writeEstargzLayerToFile : writeLayerToFile;
      const meta = await write(spec, out, options);
      console.log(`${treeName}\t${name}\t${meta.digest}\t${meta.size}\t${meta.diff_id}`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
