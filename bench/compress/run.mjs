// Parallel gzip benchmark: our gzip layer writer in its classic single-stream mode and in block mode
// (--compressor-jobs 1, 2, 4) against `tar | pigz -p 2` and `tar | gzip` on the same generated tree, in
// one run; each case runs BENCH_REPEAT times (interleaved) and the medians are reported. Then runs the
// eStargz overhead benchmark (estargz.mjs).
//
//   node bench/compress/run.mjs
//
// Env: BENCH_TREE_MIB=1024     size of the generated tree (bench/layer's generator)
//      BENCH_REPEAT=3          runs per case (median reported)
//      BENCH_LEVEL=6           gzip level for every case
//      BENCH_SKIP_ESTARGZ=1    skip the eStargz part
//      BENCH_KEEP=1            keep the temp dir (printed)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTree } from '../layer/tree.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const driver = join(here, 'driver.mjs');
const MiB = 1024 * 1024;
const treeMiB = Number(process.env.BENCH_TREE_MIB ?? 1024);
const repeat = Math.max(1, Number(process.env.BENCH_REPEAT ?? 3));
const level = Number(process.env.BENCH_LEVEL ?? 6);

for (const [tool, pkg] of [
  ['tar', 'tar'],
  ['gzip', 'gzip'],
  ['pigz', 'pigz'],
]) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    throw new Error(`${tool} is missing: apt-get install ${pkg}`);
  }
}
if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing: apt-get install time');
if (process.env.BENCH_BUILD || !existsSync(join(root, 'packages/layer-writer/dist/index.js'))) {
  console.log('building @img/layer-writer ...');
  execFileSync('pnpm', ['--filter', '@img/layer-writer', 'build'], { cwd: root, stdio: 'inherit' });
}

const loads = [];

function timed(cmd, args) {
  loads.push(loadavg()[0]);
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  const [wall, user, sys, rssKiB] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: user + sys, rssMiB: rssKiB / 1024 };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const work = mkdtempSync(join(tmpdir(), 'img-bench-compress-'));
const tree = join(work, 'tree');
mkdirSync(tree);
try {
  console.log(`generating a ${treeMiB} MiB tree ...`);
  const gen = generateTree(tree, treeMiB);
  console.log(`  ${gen.files} files, ${(gen.bytes / MiB).toFixed(0)} MiB`);
  execFileSync('sh', ['-c', `tar -C '${tree}' -cf - . | cat > /dev/null`]); // warm the page cache

  const tarCmd = `tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C '${tree}' -cf - .`;
  const out = (name) => join(work, name);
  const ours = (jobs) => (file) =>
    timed(process.execPath, [driver, tree, out(file), String(level), jobs, out(`${file}.json`)]);
  const base = (compressor) => (file) => timed('sh', ['-c', `${tarCmd} | ${compressor} > '${out(file)}'`]);
  const cases = [
    { name: 'ours, single stream (jobs unset)', file: 'single.tgz', run: ours('single') },
    { name: 'ours, block mode, --compressor-jobs 1', file: 'j1.tgz', run: ours('1') },
    { name: 'ours, block mode, --compressor-jobs 2', file: 'j2.tgz', run: ours('2') },
    { name: 'ours, block mode, --compressor-jobs 4', file: 'j4.tgz', run: ours('4') },
    { name: `tar | pigz -p 2 -${level}`, file: 'pigz.tgz', run: base(`pigz -p 2 -${level}`) },
    { name: `tar | gzip -${level}`, file: 'gzip.tgz', run: base(`gzip -${level}`) },
  ];
  const results = new Map(cases.map((c) => [c.name, []]));
  const sizes = new Map();
  for (let i = 0; i < repeat; i++) {
    for (const c of cases) {
      const r = c.run(c.file);
      results.get(c.name).push(r);
      sizes.set(c.name, statSync(out(c.file)).size);
      console.log(
        `  run ${i + 1}/${repeat} ${c.name}: ${r.wall.toFixed(1)} s wall, ${r.cpu.toFixed(1)} s CPU (load ${loads.at(-1).toFixed(1)})`,
      );
    }
  }

  // The block-mode outputs must be identical for every job count, valid gzip, with the same tar inside.
  const meta = (file) => JSON.parse(readFileSync(out(`${file}.json`), 'utf8'));
  const [single, j1, j2, j4] = ['single.tgz', 'j1.tgz', 'j2.tgz', 'j4.tgz'].map(meta);
  const sameDigest = j1.digest === j2.digest && j2.digest === j4.digest;
  execFileSync('gzip', ['-t', out('j2.tgz')]);
  const sameDiffId = [j1, j2, j4].every((m) => m.diff_id === single.diff_id);
  if (!sameDigest || !sameDiffId)
    throw new Error(`block mode output differs: ${JSON.stringify([j1, j2, j4])}`);

  const med = (name) => {
    const rs = results.get(name);
    return {
      wall: median(rs.map((r) => r.wall)),
      cpu: median(rs.map((r) => r.cpu)),
      rss: median(rs.map((r) => r.rssMiB)),
    };
  };
  const singleM = med(cases[0].name);
  const pigzM = med(cases[4].name);
  console.table(
    cases.map((c) => {
      const m = med(c.name);
      return {
        case: c.name,
        'wall s': m.wall.toFixed(1),
        'CPU s': m.cpu.toFixed(1),
        'RSS MiB': m.rss.toFixed(0),
        'size MiB': (sizes.get(c.name) / MiB).toFixed(1),
        'wall / single': (m.wall / singleM.wall).toFixed(2),
        'wall / pigz -p 2': (m.wall / pigzM.wall).toFixed(2),
        'CPU / single': (m.cpu / singleM.cpu).toFixed(2),
      };
    }),
  );
  const j2M = med(cases[2].name);
  const j1M = med(cases[1].name);
  console.log(
    [
      `jobs=2 wall / jobs=1 single stream: ${(j2M.wall / singleM.wall).toFixed(2)} (target <= 0.60)`,
      `jobs=2 wall / jobs=1 block mode:    ${(j2M.wall / j1M.wall).toFixed(2)}`,
      `jobs=2 wall / pigz -p 2:            ${(j2M.wall / pigzM.wall).toFixed(2)} (target <= 1.20)`,
      `block mode digest for jobs 1, 2, 4: ${j2.digest} (identical; gzip -t ok; diff_id = single stream's)`,
      `medians of ${repeat} interleaved runs; node ${process.version}; ${availableParallelism()} cores; ` +
        `1-min load average at run starts: min ${Math.min(...loads).toFixed(1)}, median ${median(loads).toFixed(1)}, max ${Math.max(...loads).toFixed(1)}`,
    ].join('\n'),
  );
} finally {
  if (process.env.BENCH_KEEP) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

if (!process.env.BENCH_SKIP_ESTARGZ) {
  console.log('\n== eStargz overhead (bench/compress/estargz.mjs) ==');
  const r = spawnSync(process.execPath, [join(here, 'estargz.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
