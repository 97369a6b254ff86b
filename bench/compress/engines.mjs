// Deflate engines on gzip block mode's unit of work: one-shot raw deflate of 1 MiB blocks of a real
// tar, on one thread. Compares, per level, CPU time and output size of
//   - zlib with memLevel 8 (block mode before) and 9 (block mode now), each block primed with the
//     32 KiB before it as a dictionary (what GzipBlocks does), windowBits 15 and 14;
//   - libdeflate compiled to wasm (npm `libdeflate` 0.1.0, fetched with `npm pack` into bench/.work
//     for measurement only): no dictionary support and every output ends in a final block, so block
//     mode could only use it as one gzip member per block;
// and prints the Pareto frontier (no other row is both smaller and faster) and each engine's CPU at
// the size of zlib memLevel 8's levels.
//
//   node bench/compress/engines.mjs
//
// Env: BENCH_TAR (default bench/.work/usr-share.tar, made from bench/.work/usr-share with GNU tar),
//      BENCH_STRIDE=4 (every 4th MiB of the tar), BENCH_REPEAT=3 (medians; rounds interleaved),
//      BENCH_LEVELS=1,2,3,4,5,6,7, BENCH_LIBDEFLATE=0 to skip the wasm engine.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const work = join(here, '..', '.work');
const env = process.env;
const MiB = 1024 * 1024;
const DICT = 32 * 1024;
const stride = Number(env.BENCH_STRIDE ?? 4);
const repeat = Number(env.BENCH_REPEAT ?? 3);
const levels = (env.BENCH_LEVELS ?? '1,2,3,4,5,6,7').split(',').map(Number);

const tarPath = env.BENCH_TAR ?? join(work, 'usr-share.tar');
if (!existsSync(tarPath)) {
  const tree = join(work, 'usr-share');
  if (!existsSync(tree))
    throw new Error(`${tree} is missing: run bench/compress/run.mjs once (it copies /usr/share)`);
  execFileSync('tar', ['-C', tree, '-cf', tarPath, '.']);
}
const tar = readFileSync(tarPath);
const starts = [];
for (let off = MiB; off + MiB <= tar.length; off += stride * MiB) starts.push(off);

async function libdeflate() {
  if (env.BENCH_LIBDEFLATE === '0') return undefined;
  const dir = join(work, 'npm', 'libdeflate-0.1.0');
  if (!existsSync(join(dir, 'package', 'index.js'))) {
    mkdirSync(dir, { recursive: true });
    execFileSync('npm', ['pack', 'libdeflate@0.1.0', '--silent'], { cwd: dir });
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    execFileSync('tar', ['-xzf', tgz], { cwd: dir });
  }
  return (await import(join(dir, 'package', 'index.js'))).deflate;
}

const Z = zlib.constants;
const zlibEngine = (memLevel, windowBits) => (level) => (start) =>
  zlib.deflateRawSync(tar.subarray(start, start + MiB), {
    level,
    memLevel,
    windowBits,
    chunkSize: MiB + 8192,
    finishFlush: Z.Z_SYNC_FLUSH,
    dictionary: tar.subarray(start - DICT, start),
  }).length;
const engines = [
  ['zlib m8 w15 (before)', zlibEngine(8, 15)],
  ['zlib m9 w15 (now)', zlibEngine(9, 15)],
  ['zlib m9 w14', zlibEngine(9, 14)],
];
const wasm = await libdeflate();
if (wasm)
  engines.push([
    'libdeflate wasm, no dict',
    (level) => (start) => wasm(tar.subarray(start, start + MiB), level).length,
  ]);

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const cases = engines.flatMap(([engine, make]) =>
  levels.map((level) => ({ engine, level, one: make(level), t: [], size: 0 })),
);
const loads = [];
for (let r = 0; r < repeat; r++) {
  loads.push(loadavg()[0]);
  for (const c of cases) {
    const t0 = cpu();
    let size = 0;
    for (const s of starts) size += c.one(s);
    c.t.push(cpu() - t0);
    c.size = size;
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const c of cases) c.cpu = median(c.t);
const sorted = [...cases].sort((a, b) => a.size - b.size);
console.table(
  sorted.map((c) => ({
    engine: c.engine,
    level: c.level,
    'CPU s': c.cpu.toFixed(3),
    'MiB/s': (starts.length / c.cpu).toFixed(0),
    'out MiB': (c.size / MiB).toFixed(3),
    frontier: sorted.some((o) => o !== c && o.size <= c.size && o.cpu < c.cpu) ? '' : 'yes',
  })),
);

// Each engine's CPU at the output size of the "before" levels, interpolated between its two levels
// whose sizes bracket it.
const at = (engine, size) => {
  const pts = cases.filter((c) => c.engine === engine).sort((a, b) => a.size - b.size);
  for (let i = 0; i + 1 < pts.length; i++) {
    const [a, b] = [pts[i], pts[i + 1]];
    if (size >= a.size && size <= b.size)
      return a.cpu + ((size - a.size) / (b.size - a.size)) * (b.cpu - a.cpu);
  }
  return undefined;
};
const base = cases.filter((c) => c.engine === engines[0][0]);
console.table(
  base.map((b) => ({
    'at the size of': `${b.engine} -${b.level} (${(b.size / MiB).toFixed(2)} MiB, ${b.cpu.toFixed(2)} s)`,
    ...Object.fromEntries(
      engines.slice(1).map(([e]) => {
        const t = at(e, b.size);
        return [e, t === undefined ? 'outside its levels' : `${t.toFixed(2)} s (${(t / b.cpu).toFixed(2)}x)`];
      }),
    ),
  })),
);
console.log(
  `${starts.length} blocks of 1 MiB (every ${stride}th MiB of ${tarPath}), one thread, medians of ${repeat}; ` +
    `node ${process.version}; 1-min load average at round starts: ${loads.map((l) => l.toFixed(1)).join(', ')}`,
);
