// Bytes written by `img build -o oci:DIR` of the generated ~1 GiB tree (one layer): how often each
// layer byte reaches the disk. Ideal is once (the layer file, then linked into the layout); a writer
// that copies the layer into the layout writes it twice. Prints one table.
//
//   node bench/build/run.mjs
//
// Env: BENCH_TREE_MIB=1024        size of the generated tree
//      BENCH_COMPRESS=gzip,none   layer compressions to build (one row each)
//      BENCH_BASELINE_BIN=FILE    another img CLI bundle (e.g. a build of the previous commit) to run
//                                 on the same input in the same run, as the baseline
//      BENCH_KEEP=1               keep the temp dir (printed)
//
// Figures come from the process's /proc/self/io, read as it exits (so after the build's work dir
// was removed): wchar = bytes handed to write(2), write_bytes - cancelled_write_bytes = bytes the
// file system still had to write to the device (a file deleted before writeback is cancelled).
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTree } from '../layer/tree.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cliBin = join(root, 'packages/cli/dist/bin.cjs');
const MiB = 1024 * 1024;
const treeMiB = Number(process.env.BENCH_TREE_MIB ?? 1024);
const compressions = (process.env.BENCH_COMPRESS ?? 'gzip,none').split(',');
const baselineBin = process.env.BENCH_BASELINE_BIN;

if (!existsSync(cliBin)) throw new Error(`${cliBin} is missing: run pnpm build first`);
if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing: apt-get install time');

const work = mkdtempSync(join(tmpdir(), 'img-bench-build-'));
// Written by the preloaded hook at exit: the process's own I/O counters.
const hook = join(work, 'io-at-exit.cjs');
writeFileSync(
  hook,
  `process.on('exit', () => { require('node:fs').writeFileSync(process.env.BENCH_IO_FILE, require('node:fs').readFileSync('/proc/self/io')); });\n`,
);

function ioCounters(file) {
  const out = {};
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const [k, v] = line.split(':');
    out[k.trim()] = Number(v);
  }
  return out;
}

function dirBytes(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += statSync(join(e.parentPath ?? e.path, e.name)).size;
  }
  return n;
}

function build(bin, spec, out) {
  rmSync(out, { recursive: true, force: true });
  const ioFile = `${out}.io`;
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', '%e %U %S %M', process.execPath, '--require', hook, bin, 'build', spec, '-o', `oci:${out}`],
    { encoding: 'utf8', env: { ...process.env, BENCH_IO_FILE: ioFile, SOURCE_DATE_EPOCH: '0' } },
  );
  if (r.status !== 0) throw new Error(`img build with ${bin} failed:\n${r.stderr}`);
  const [wall, user, sys, rssKiB] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  const io = ioCounters(ioFile);
  return {
    wall,
    cpu: user + sys,
    rssMiB: rssKiB / 1024,
    wchar: io.wchar,
    disk: io.write_bytes - io.cancelled_write_bytes,
    layout: dirBytes(out),
    digest: r.stdout.trim().split('@').pop(),
  };
}

try {
  const tree = join(work, 'tree');
  mkdirSync(tree);
  console.log(`generating a ${treeMiB} MiB tree in ${tree} ...`);
  const gen = generateTree(tree, treeMiB);
  console.log(`  ${gen.files} files, ${(gen.bytes / MiB).toFixed(0)} MiB`);
  const rows = [];
  for (const compress of compressions) {
    const spec = join(work, `image-${compress}.json`);
    writeFileSync(
      spec,
      JSON.stringify({ platform: 'linux/amd64', layers: [{ directories: { '/data': tree }, compress }] }),
    );
    const runs = [['ours', cliBin]];
    if (baselineBin) runs.push(['baseline', baselineBin]);
    for (const [who, bin] of runs) {
      // Let earlier dirty pages reach the disk so they are not counted against this run.
      spawnSync('sync');
      const r = build(bin, spec, join(work, `out-${compress}-${who}`));
      rows.push({
        case: `${compress} ${who}`,
        'layout MiB': (r.layout / MiB).toFixed(1),
        'wchar MiB': (r.wchar / MiB).toFixed(1),
        'wchar/layout': (r.wchar / r.layout).toFixed(2),
        'disk MiB': (r.disk / MiB).toFixed(1),
        'wall s': r.wall.toFixed(1),
        'cpu s': r.cpu.toFixed(1),
        'RSS MiB': r.rssMiB.toFixed(0),
        digest: r.digest.slice(7, 19),
      });
    }
  }
  console.table(rows);
} finally {
  if (process.env.BENCH_KEEP) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
