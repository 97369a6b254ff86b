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
  writeFileSync,
  writeSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cliBin = join(root, 'packages/cli/dist/bin.js');
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

// ---- deterministic content that compresses like real data ----
function makePool(size) {
  const words = (
    'the of and to in is for on with as by at from this that function return const let var if else ' +
    'import export class new await async true false null undefined error value data layer image file ' +
    'path size config usr lib bin share include local etc opt node_modules package json index main'
  ).split(' ');
  const pool = Buffer.alloc(size);
  let x = 0x9e3779b9;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  let o = 0;
  while (o < size) {
    const kind = next() % 8;
    const len = Math.min(size - o, 4096 + (next() % 61440));
    const end = o + len;
    if (kind < 5) {
      // text / source code: words, punctuation, indentation
      while (o < end) {
        const r = next();
        const w = words[r % words.length];
        const sep = r & 0x1000000 ? (r & 0x2000000 ? '\n    ' : '; ') : ' ';
        o += pool.write(w + sep, o, end - o, 'latin1');
      }
    } else if (kind < 7) {
      // machine code-ish: skewed byte distribution with zero runs
      while (o < end) {
        const r = next();
        pool[o++] = r & 0x8 ? (r >>> 8) & (r >>> 16) & 0xff : 0;
      }
    } else {
      // already-compressed data (images, archives): incompressible
      while (o < end) {
        const r = next();
        pool[o++] = r & 0xff;
        if (o < end) pool[o++] = (r >>> 8) & 0xff;
        if (o < end) pool[o++] = (r >>> 16) & 0xff;
      }
    }
  }
  return pool;
}

function generateTree(dir, totalMiB) {
  const pool = makePool(96 * MiB);
  let seed = 12345;
  const rnd = (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const slice = (size, tag) => {
    const off = rnd(pool.length - size);
    const head = Buffer.from(`// ${tag}\n`);
    return Buffer.concat([head, pool.subarray(off, off + Math.max(0, size - head.length))]);
  };
  let written = 0;
  const budget = totalMiB * MiB;
  // 60%: many small files (0.5-48 KiB) in nested dirs
  let n = 0;
  while (written < budget * 0.6) {
    const d = join(dir, 'src', `pkg${n % 40}`, `mod${Math.floor(n / 40) % 50}`);
    if (n < 2000) mkdirSync(d, { recursive: true });
    const size = 512 + rnd(48 * 1024);
    writeFileSync(join(d, `file${n}.js`), slice(size, `file ${n}`));
    written += size;
    n++;
  }
  // duplicates: 10 copies of a 4 MiB asset and 200 copies of a small file
  mkdirSync(join(dir, 'assets'), { recursive: true });
  const asset = slice(4 * MiB, 'asset');
  for (let i = 0; i < 10; i++) writeFileSync(join(dir, 'assets', `copy${i}.bin`), asset);
  written += 40 * MiB;
  const small = slice(3000, 'license');
  for (let i = 0; i < 200; i++) writeFileSync(join(dir, 'src', `pkg${i % 40}`, `LICENSE.${i}`), small);
  // the rest: large files of 16-64 MiB
  mkdirSync(join(dir, 'big'), { recursive: true });
  let b = 0;
  while (written < budget) {
    const size = Math.min(budget - written, (16 + rnd(48)) * MiB);
    const fd = openSync(join(dir, 'big', `blob${b++}.dat`), 'w');
    for (let o = 0; o < size; o += 8 * MiB)
      writeSync(fd, slice(Math.min(8 * MiB, size - o), `big ${b} ${o}`));
    closeSync(fd);
    written += size;
  }
  return { files: n + 10 + 200 + b, bytes: written };
}

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
