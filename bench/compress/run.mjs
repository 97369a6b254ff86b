// Compression benchmark: our gzip layer writer (block mode on N jobs at several levels, the classic
// single stream) and zstd against Go's klauspost/pgzip (what Go container tools use for parallel
// gzip), `pigz -p N`, `gzip -6` and `zstd -3`, on the same tree in one run. Each case runs BENCH_REPEAT
// times, interleaved, and the medians are reported, with the speed/size frontier: our time at the
// baselines' output size, interpolated between our levels. Then the eStargz overhead (estargz.mjs).
//
//   node bench/compress/run.mjs
//
// Ours reads the tree (walk, 47k file reads, tar encoding, dedup, two sha256) and compresses; the
// baselines compress the very tar our layer holds (`cat layer.tar | tool`, page cache), so sizes
// compare exactly and the baselines do less work. `tar | gzip -6` and `tar | zstd -3` (GNU tar
// walking the tree, as the jobs=1 targets are stated) do the same work as ours.
//
// Env: BENCH_TREE=usr-share      usr-share: a copy of this machine's /usr/share (cp -a, made once in
//                                bench/.work/usr-share); generated: bench/layer's generator
//      BENCH_TREE_MIB=1024       size of the generated tree
//      BENCH_REPEAT=3            runs per case (median reported)
//      BENCH_JOBS=2              compressor jobs for block mode, pgzip and pigz
//      BENCH_LEVELS=1,2,3,4,5,6  our block-mode levels (the frontier)
//      BENCH_DIST=DIR            the @img/layer-writer dist to time as ours (default the repo's build)
//      BENCH_BASE_DIST=DIR       another build of @img/layer-writer (its dist dir) to time as "before"
//                                (eStargz cases: the @img/estargz build beside it)
//      BENCH_NODE=PATH           node binary for our cases (default this one)
//      BENCH_BIG=1               also a 4 GiB single file: wall, CPU and peak RSS of ours
//      BENCH_SKIP_ESTARGZ=1      skip the eStargz part
//      BENCH_KEEP=1              keep the temp dir (printed)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTree, writeHugeFile } from '../layer/tree.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const benchWork = join(root, 'bench/.work');
const driver = join(here, 'driver.mjs');
const MiB = 1024 * 1024;
const env = process.env;
const treeKind = env.BENCH_TREE ?? 'usr-share';
const repeat = Math.max(1, Number(env.BENCH_REPEAT ?? 3));
const jobs = Number(env.BENCH_JOBS ?? 2);
const levels = (env.BENCH_LEVELS ?? '1,2,3,4,5,6').split(',').map(Number);
const node = env.BENCH_NODE ?? process.execPath;
const dist = env.BENCH_DIST ?? join(root, 'packages/layer-writer/dist');
const baseDist = env.BENCH_BASE_DIST;

for (const tool of ['tar', 'gzip', 'pigz', 'zstd', 'go']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    throw new Error(`${tool} is missing (apt-get install ${tool === 'go' ? 'golang' : tool})`);
  }
}
if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing: apt-get install time');
if (env.BENCH_BUILD || !existsSync(join(dist, 'index.js'))) {
  console.log('building @img/layer-writer and @img/estargz ...');
  execFileSync('pnpm', ['--filter', '@img/layer-writer', '--filter', '@img/estargz', 'build'], {
    cwd: root,
    stdio: 'inherit',
  });
}
mkdirSync(benchWork, { recursive: true });
// The pgzip baseline: built from the Go module proxy for measurement only (never shipped).
const pgzip = join(benchWork, 'pgzip');
execFileSync('go', ['build', '-o', pgzip, '.'], { cwd: join(here, 'pgzip'), stdio: 'inherit' });

const loads = [];
function timed(cmd, args, extraEnv = {}) {
  loads.push(loadavg()[0]);
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...args], {
    env: { ...process.env, ...extraEnv },
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

function prepareTree(work) {
  if (treeKind === 'usr-share') {
    const dir = join(benchWork, 'usr-share');
    if (!existsSync(dir)) {
      console.log('copying /usr/share to bench/.work/usr-share (cp -a, once) ...');
      execFileSync('cp', ['-a', '/usr/share', dir]);
    }
    return dir;
  }
  const dir = join(work, 'tree');
  mkdirSync(dir);
  const treeMiB = Number(env.BENCH_TREE_MIB ?? 1024);
  console.log(`generating a ${treeMiB} MiB tree ...`);
  generateTree(dir, treeMiB);
  return dir;
}

const work = mkdtempSync(join(benchWork, 'compress-'));
try {
  const tree = prepareTree(work);
  execFileSync('sh', ['-c', `tar -C '${tree}' -cf - . | cat > /dev/null`]); // warm the page cache
  const out = (name) => join(work, name);
  // Ours runs as the img bin does (BENCH_CLI_HEAP=1, see driver.mjs); "before" as the img bin did.
  const ours =
    (format, level, jobsArg, withDist = dist, cliHeap = withDist === dist ? '1' : '0') =>
    (file) =>
      timed(node, [driver, withDist, tree, out(file), format, String(level), jobsArg, out(`${file}.json`)], {
        BENCH_CLI_HEAP: cliHeap,
      });
  // The uncompressed tar of our layer: every baseline compresses exactly these bytes.
  ours('none', 0, 'single')('layer.tar');
  const tarMiB = statSync(out('layer.tar')).size / MiB;
  const files = Number(execFileSync('sh', ['-c', `find '${tree}' -type f | wc -l`], { encoding: 'utf8' }));
  console.log(`tree: ${treeKind}, ${files} files, layer tar ${tarMiB.toFixed(1)} MiB`);
  const base = (cmd) => (file) => timed('sh', ['-c', `cat '${out('layer.tar')}' | ${cmd} > '${out(file)}'`]);
  const walked = (cmd) => (file) => timed('sh', ['-c', `tar -C '${tree}' -cf - . | ${cmd} > '${out(file)}'`]);

  const frontier = levels.map((level) => ({
    name: `ours, block mode -${level}, jobs ${jobs}`,
    file: `block${level}.tgz`,
    level,
    run: ours('gzip', level, String(jobs)),
  }));
  const cases = [
    ...frontier,
    { name: `ours, block mode -6, jobs 1`, file: 'block6-j1.tgz', run: ours('gzip', 6, '1') },
    { name: 'ours, gzip -6 single stream (jobs unset)', file: 'single6.tgz', run: ours('gzip', 6, 'single') },
    { name: 'ours, zstd -3 (jobs unset)', file: 'zstd3.zst', run: ours('zstd', 3, 'single') },
    { name: `ours, eStargz -6, jobs ${jobs}`, file: 'estargz6.tgz', run: ours('estargz', 6, String(jobs)) },
    {
      name: `ours, zstd:chunked -3, jobs ${jobs}`,
      file: 'zstd-chunked3.zst',
      run: ours('zstd-chunked', 3, String(jobs)),
    },
    {
      name: `ours, block mode -6, jobs ${jobs}, library defaults (no bin heap setting)`,
      file: 'block6-lib.tgz',
      run: ours('gzip', 6, String(jobs), dist, '0'),
    },
    { name: `pgzip -p ${jobs} (default level)`, file: 'pgzip.tgz', run: base(`'${pgzip}' -p ${jobs}`) },
    { name: `pigz -p ${jobs} -6`, file: 'pigz6.tgz', run: base(`pigz -p ${jobs} -6`) },
    { name: 'gzip -6', file: 'gzip6.tgz', run: base('gzip -6') },
    { name: 'zstd -3', file: 'zstd3-cli.zst', run: base('zstd -3 -q -c') },
    // As the issue measures the jobs=1 targets: GNU tar walks and reads the tree itself.
    { name: 'tar | gzip -6', file: 'gnu-tar-gzip6.tgz', run: walked('gzip -6') },
    { name: 'tar | zstd -3', file: 'gnu-tar-zstd3.zst', run: walked('zstd -3 -q -c') },
  ];
  const beforeFrontier = baseDist
    ? levels.map((level) => ({
        name: `before: block mode -${level}, jobs ${jobs}`,
        file: `before-block${level}.tgz`,
        level,
        run: ours('gzip', level, String(jobs), baseDist),
      }))
    : [];
  if (baseDist) {
    cases.push(
      ...beforeFrontier,
      {
        name: 'before: block mode -6, jobs 1',
        file: 'before-block6-j1.tgz',
        run: ours('gzip', 6, '1', baseDist),
      },
      {
        name: 'before: gzip -6 single stream',
        file: 'before-single6.tgz',
        run: ours('gzip', 6, 'single', baseDist),
      },
      { name: 'before: zstd -3', file: 'before-zstd3.zst', run: ours('zstd', 3, 'single', baseDist) },
      {
        name: `before: eStargz -6, jobs ${jobs}`,
        file: 'before-estargz6.tgz',
        run: ours('estargz', 6, String(jobs), baseDist),
      },
      {
        name: `before: zstd:chunked -3, jobs ${jobs}`,
        file: 'before-zstd-chunked3.zst',
        run: ours('zstd-chunked', 3, String(jobs), baseDist),
      },
    );
  }
  const results = new Map(cases.map((c) => [c.name, []]));
  for (let i = 0; i < repeat; i++) {
    for (const c of cases) {
      const r = c.run(c.file);
      r.size = statSync(out(c.file)).size;
      results.get(c.name).push(r);
      console.log(
        `  run ${i + 1}/${repeat} ${c.name}: ${r.wall.toFixed(1)} s wall, ${r.cpu.toFixed(1)} s CPU, ` +
          `${r.rssMiB.toFixed(0)} MiB, load ${loads.at(-1).toFixed(1)}`,
      );
    }
  }

  // Block mode: the same bytes for every job count, valid gzip, the same tar inside.
  const meta = (file) => JSON.parse(readFileSync(out(`${file}.json`), 'utf8'));
  const tarMeta = meta('layer.tar');
  const j1 = meta('block6-j1.tgz');
  const jn = meta('block6.tgz');
  execFileSync('gzip', ['-t', out('block6.tgz')]);
  if (j1.digest !== jn.digest) throw new Error(`block mode digest differs for jobs 1 and ${jobs}`);
  for (const c of cases.filter((c) => c.file.startsWith('block') || c.file.startsWith('single'))) {
    if (meta(c.file).diff_id !== tarMeta.diff_id) throw new Error(`${c.name}: other diff_id than the tar`);
  }

  const med = (name) => {
    const rs = results.get(name);
    return {
      wall: median(rs.map((r) => r.wall)),
      cpu: median(rs.map((r) => r.cpu)),
      rss: median(rs.map((r) => r.rssMiB)),
      size: rs.at(-1).size,
    };
  };
  const pg = med(`pgzip -p ${jobs} (default level)`);
  console.table(
    cases.map((c) => {
      const m = med(c.name);
      return {
        case: c.name,
        'wall s': m.wall.toFixed(2),
        'CPU s': m.cpu.toFixed(2),
        'RSS MiB': m.rss.toFixed(0),
        'size MiB': (m.size / MiB).toFixed(1),
        'wall / pgzip': (m.wall / pg.wall).toFixed(2),
        'CPU / pgzip': (m.cpu / pg.cpu).toFixed(2),
      };
    }),
  );

  // The frontier: our wall and CPU time at a baseline's output size, interpolated (linearly in size)
  // between the two of our levels whose sizes bracket it.
  const frontierAt = (cases, size, key) => {
    const points = cases.map((c) => med(c.name)).sort((a, b) => a.size - b.size);
    for (let i = 0; i + 1 < points.length; i++) {
      const [a, b] = [points[i], points[i + 1]];
      if (size >= a.size && size <= b.size) {
        const t = b.size === a.size ? 0 : (size - a.size) / (b.size - a.size);
        return a[key] + t * (b[key] - a[key]);
      }
    }
    return undefined;
  };
  const lines = [];
  for (const [label, fr] of [
    ['ours', frontier],
    ['before', beforeFrontier],
  ]) {
    if (fr.length === 0) continue;
    for (const name of [`pgzip -p ${jobs} (default level)`, `pigz -p ${jobs} -6`]) {
      const b = med(name);
      const wall = frontierAt(fr, b.size, 'wall');
      const cpu = frontierAt(fr, b.size, 'cpu');
      lines.push(
        wall === undefined
          ? `${label} frontier at ${name}'s size ${(b.size / MiB).toFixed(1)} MiB: outside the levels' sizes`
          : `${label} frontier at ${name}'s size ${(b.size / MiB).toFixed(1)} MiB: ${wall.toFixed(2)} s wall ` +
              `(${(wall / b.wall).toFixed(2)}x its ${b.wall.toFixed(2)} s), ${cpu.toFixed(2)} s CPU ` +
              `(${(cpu / b.cpu).toFixed(2)}x its ${b.cpu.toFixed(2)} s)`,
      );
    }
  }
  const ratio = (a, b) => {
    const [x, y] = [med(a), med(b)];
    return `wall ${(x.wall / y.wall).toFixed(2)}, CPU ${(x.cpu / y.cpu).toFixed(2)}, size ${(x.size / y.size).toFixed(3)}`;
  };
  lines.push(
    `ours gzip -6 single stream / gzip -6: ${ratio('ours, gzip -6 single stream (jobs unset)', 'gzip -6')}`,
    `ours zstd -3 / zstd -3:                ${ratio('ours, zstd -3 (jobs unset)', 'zstd -3')}`,
    `ours gzip -6 single stream / tar | gzip -6: ${ratio('ours, gzip -6 single stream (jobs unset)', 'tar | gzip -6')}`,
    `ours zstd -3 / tar | zstd -3:                ${ratio('ours, zstd -3 (jobs unset)', 'tar | zstd -3')}`,
    ...(baseDist
      ? [
          `before gzip -6 single stream / gzip -6: ${ratio('before: gzip -6 single stream', 'gzip -6')}`,
          `before zstd -3 / zstd -3:                ${ratio('before: zstd -3', 'zstd -3')}`,
          `before gzip -6 single stream / tar | gzip -6: ${ratio('before: gzip -6 single stream', 'tar | gzip -6')}`,
          `before zstd -3 / tar | zstd -3:                ${ratio('before: zstd -3', 'tar | zstd -3')}`,
        ]
      : []),
    `block mode digest for jobs 1 and ${jobs}: ${jn.digest} (identical; gzip -t ok; diff_id = the tar's)`,
    `medians of ${repeat} interleaved runs; ours on node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}; ` +
      `${availableParallelism()} cores; 1-min load average at run starts: min ${Math.min(...loads).toFixed(1)}, ` +
      `median ${median(loads).toFixed(1)}, max ${Math.max(...loads).toFixed(1)}`,
  );
  console.log(lines.join('\n'));

  if (env.BENCH_BIG) {
    rmSync(out('layer.tar'), { force: true });
    const bigDir = join(work, 'big');
    mkdirSync(bigDir);
    console.log('generating a 4 GiB single file ...');
    writeHugeFile(join(bigDir, 'huge.bin'));
    // Memory does not depend on the gzip level; -1 keeps these runs short.
    const bigCases = [
      [`gzip -1, jobs ${jobs}`, 'gzip', 1, String(jobs), dist],
      ['gzip -1, single stream', 'gzip', 1, 'single', dist],
      ['zstd -3', 'zstd', 3, 'single', dist],
      ['eStargz gzip -1', 'estargz', 1, 'single', dist],
      ...(baseDist
        ? [
            [`before: gzip -1, jobs ${jobs}`, 'gzip', 1, String(jobs), baseDist],
            ['before: zstd -3', 'zstd', 3, 'single', baseDist],
            ['before: eStargz gzip -1', 'estargz', 1, 'single', baseDist],
          ]
        : []),
    ];
    const rows = [];
    for (const [name, format, level, jobsArg, withDist] of bigCases) {
      const cliHeap = { BENCH_CLI_HEAP: withDist === dist ? '1' : '0' };
      const r = timed(
        node,
        [driver, withDist, bigDir, out('huge.out'), format, String(level), jobsArg, out('huge.json')],
        cliHeap,
      );
      rows.push({
        case: `4 GiB file, ${name}`,
        'wall s': r.wall.toFixed(1),
        'CPU s': r.cpu.toFixed(1),
        'peak RSS MiB': r.rssMiB.toFixed(0),
        'size MiB': (statSync(out('huge.out')).size / MiB).toFixed(1),
        load: loads.at(-1).toFixed(1),
      });
      rmSync(out('huge.out'), { force: true });
    }
    console.table(rows);
  }
} finally {
  if (env.BENCH_KEEP) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

if (!env.BENCH_SKIP_ESTARGZ) {
  console.log('\n== eStargz overhead (bench/compress/estargz.mjs) ==');
  const r = spawnSync(process.execPath, [join(here, 'estargz.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
