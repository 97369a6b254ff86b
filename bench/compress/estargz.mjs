// eStargz overhead: our eStargz layer vs our plain gzip layer of the same tree, same run (and the same
// for zstd:chunked vs zstd), plus the reference Go builder (estargz.Build, via estargz-oracle) on the
// same tar when it is built. Prints time, CPU, peak RSS and size, with ratios against plain.
//
//   node bench/compress/estargz.mjs
//
// Env: BENCH_TREE_MIB=256   size of the generated tree (many small files plus some big ones)
//      BENCH_KEEP=1         keep the temp dir (printed)
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makePool } from '../layer/tree.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const driver = join(root, 'bench/compress/estargz-driver.mjs');
const oracle = join(root, '.tools/bin/estargz-oracle');
const MiB = 1024 * 1024;
const treeMiB = Number(process.env.BENCH_TREE_MIB ?? 256);

if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing: apt-get install time');

/** 60% small files (0.5-48 KiB) in nested dirs, the rest 8-40 MiB files (chunked by eStargz). */
function generateTree(dir, totalMiB) {
  const pool = makePool(64 * MiB);
  let seed = 12345;
  const rnd = (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const slice = (size) => {
    const off = rnd(pool.length - size);
    return pool.subarray(off, off + size);
  };
  const budget = totalMiB * MiB;
  let written = 0;
  let files = 0;
  while (written < budget * 0.6) {
    const d = join(dir, 'src', `pkg${files % 40}`, `mod${Math.floor(files / 40) % 50}`);
    if (files < 2000) mkdirSync(d, { recursive: true });
    const size = 512 + rnd(48 * 1024);
    writeFileSync(join(d, `file${files}.js`), slice(size));
    written += size;
    files++;
  }
  mkdirSync(join(dir, 'big'), { recursive: true });
  for (let b = 0; written < budget; b++, files++) {
    const size = Math.min(budget - written, (8 + rnd(32)) * MiB);
    const fd = openSync(join(dir, 'big', `blob${b}.dat`), 'w');
    for (let o = 0; o < size; o += 8 * MiB) writeSync(fd, slice(Math.min(8 * MiB, size - o)));
    closeSync(fd);
    written += size;
  }
  return { files, bytes: written };
}

function timed(cmd, args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  const [wall, user, sys, rssKiB] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: user + sys, rssMiB: rssKiB / 1024 };
}

/** Best of `n` runs by wall time (the machine is shared; single runs are noisy). */
function best(n, fn) {
  let result;
  for (let i = 0; i < n; i++) {
    const r = fn();
    if (result === undefined || r.wall < result.wall) result = r;
  }
  return result;
}

if (
  !existsSync(join(root, 'packages/estargz/dist/index.js')) ||
  !existsSync(join(root, 'packages/layer-writer/dist/index.js'))
) {
  console.log('building @img/estargz and its dependencies ...');
  execFileSync('npx', ['turbo', 'run', 'build', '--filter=@img/estargz...'], { cwd: root, stdio: 'inherit' });
}
const work = mkdtempSync(join(tmpdir(), 'img-bench-estargz-'));
const tree = join(work, 'tree');
mkdirSync(tree);
try {
  console.log(`generating a ${treeMiB} MiB tree ...`);
  const gen = generateTree(tree, treeMiB);
  console.log(`  ${gen.files} files, ${(gen.bytes / MiB).toFixed(0)} MiB`);
  execFileSync('sh', ['-c', `tar -C '${tree}' -cf - . | cat > /dev/null`]); // warm the page cache

  const node = process.execPath;
  const out = (name) => join(work, name);
  const size = (p) => statSync(p).size;
  const ours = (mode, file, level, jobs = '') =>
    best(3, () => timed(node, [driver, mode, tree, out(file), String(level), jobs]));
  const rows = [];
  const row = (name, m, file, base, baseFile) =>
    rows.push({
      case: name,
      'wall s': m.wall.toFixed(2),
      'cpu s': m.cpu.toFixed(2),
      'RSS MiB': m.rssMiB.toFixed(0),
      'size MiB': (size(out(file)) / MiB).toFixed(2),
      'wall vs plain': base ? (m.wall / base.wall).toFixed(2) : '1.00',
      'size vs plain': baseFile
        ? `${(((size(out(file)) - size(out(baseFile))) / size(out(baseFile))) * 100).toFixed(2)}%`
        : '',
    });

  const gzip = ours('gzip', 'plain.tgz', 6);
  row('plain gzip -6 (ours)', gzip, 'plain.tgz');
  const esgz = ours('estargz', 'esgz.tgz', 6);
  row('eStargz gzip -6 (ours)', esgz, 'esgz.tgz', gzip, 'plain.tgz');
  for (const jobs of ['1', '2']) {
    const file = `esgz-j${jobs}.tgz`;
    row(
      `eStargz gzip -6 (ours, --compressor-jobs ${jobs})`,
      ours('estargz', file, 6, jobs),
      file,
      gzip,
      'plain.tgz',
    );
    if (!readFileSync(out(file)).equals(readFileSync(out('esgz.tgz')))) throw new Error(`${file} differs`);
  }
  if (existsSync(oracle)) {
    execFileSync(node, [driver, 'none', tree, out('plain.tar'), '0']);
    const ref = best(3, () => timed(oracle, ['build', '-level', '6', out('plain.tar'), out('ref.tgz')]));
    row('eStargz gzip -6 (Go estargz.Build, from tar)', ref, 'ref.tgz', gzip, 'plain.tgz');
  } else {
    console.log('(run scripts/build-estargz-oracle.sh to also time the reference Go builder)');
  }
  const zstd = ours('zstd', 'plain.tzst', 3);
  row('plain zstd -3 (ours)', zstd, 'plain.tzst');
  const chunked = ours('zstd-chunked', 'chunked.tzst', 3);
  row('zstd:chunked -3 (ours)', chunked, 'chunked.tzst', zstd, 'plain.tzst');
  console.log(
    `node ${process.version}, ${gen.files} files, ${(gen.bytes / MiB).toFixed(0)} MiB; best of 3 runs each`,
  );
  console.table(rows);
} finally {
  if (process.env.BENCH_KEEP) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
