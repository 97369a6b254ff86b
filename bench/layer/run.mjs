// Layer writer benchmark: ours (img layer / @img/layer-writer) vs GNU tar | gzip -6 and | zstd -3 on
// a generated ~1 GiB tree, plus peak RSS for a 4 GiB single file. Prints one table.
//
//   node bench/layer/run.mjs
//
// Env: NODE24=/path/to/node  also run our zstd side under that Node (native zstd)
//      BENCH_TREE_MIB=1024   size of the generated tree
//      BENCH_SKIP_BIG=1      skip the 4 GiB single-file case
//      BENCH_KEEP=1          keep the temp dir (printed) for inspection
//      BENCH_REPEAT=1        runs per measurement; the fastest (wall) run is reported
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTree, makePool } from './tree.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cliBin = join(root, 'packages/cli/dist/bin.cjs');
const driver = join(root, 'bench/layer/driver.mjs');
const MiB = 1024 * 1024;
const treeMiB = Number(process.env.BENCH_TREE_MIB ?? 1024);

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

function timed(cmd, args, env) {
  let best;
  for (let i = 0; i < repeat; i++) {
    const r = timedOnce(cmd, args, env);
    if (!best || r.wall < best.wall) best = r;
  }
  return best;
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
  const node24 = process.env.NODE24;
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
  console.log(`ours via ${via}`);
  const bg = baseline(tree, join(work, 'base.tgz'), 'gzip -6');
  const og = ours(node, tree, join(work, 'ours.tgz'), 'gzip', 6);
  add(`gzip -6 (${nodeName})`, og, bg, join(work, 'ours.tgz'), join(work, 'base.tgz'));
  const bz = baseline(tree, join(work, 'base.tzst'), 'zstd -q -3');
  const oz = ours(node, tree, join(work, 'ours.tzst'), 'zstd', 3);
  add(`zstd -3 (${nodeName})`, oz, bz, join(work, 'ours.tzst'), join(work, 'base.tzst'));
  if (node24 && existsSync(node24)) {
    const v = execFileSync(node24, ['--version'], { encoding: 'utf8' }).trim();
    const oz24 = ours(node24, tree, join(work, 'ours24.tzst'), 'zstd', 3);
    add(`zstd -3 (node ${v})`, oz24, bz, join(work, 'ours24.tzst'), join(work, 'base.tzst'));
    const og24 = ours(node24, tree, join(work, 'ours24.tgz'), 'gzip', 6);
    add(`gzip -6 (node ${v})`, og24, bg, join(work, 'ours24.tgz'), join(work, 'base.tgz'));
  } else {
    console.log('(set NODE24=/path/to/node to also time native zstd on Node >= 22.15)');
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
    const pool = makePool(64 * MiB);
    const fd = openSync(join(bigDir, 'huge.bin'), 'w');
    for (let i = 0; i < 64; i++) {
      pool.writeUInt32LE(i, 0);
      writeSync(fd, pool);
    }
    closeSync(fd);
    const big = [];
    for (const [format, level] of [
      ['gzip', 1],
      ['zstd', 3],
    ]) {
      const r = ours(
        node24 && format === 'zstd' && existsSync(node24) ? node24 : node,
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
