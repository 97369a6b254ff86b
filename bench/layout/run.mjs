#!/usr/bin/env node
// Layout write benchmark: `img layout -o oci:DIR:TAG` (temp name + rename per file, layout lock,
// index.json merge) against skopeo copying the same image between two OCI layouts, and `cp` of the
// blob bytes as the floor - same input, same run.
//
//   node bench/layout/run.mjs [--size-mib 1024] [--keep]
//
// Needs the built CLI (`pnpm build`) and skopeo (scripts/install-test-tools.sh). Writes one image with
// a single uncompressed layer of SIZE MiB, then measures, each into a fresh layout and then again as a
// second tag into the same layout (blobs already there):
//   img:    img layout --manifest M --config C --layer META=BLOB -o oci:DIR:TAG
//   skopeo: skopeo copy oci:SRC:v1 oci:DIR:TAG
//   cp:     cp BLOB DIR/blob (the disk's floor for the first write)
// and prints wall time, CPU, peak RSS and the ratios.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const repo = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const bin = join(repo, 'packages/cli/dist/bin.cjs');
const { values: args } = parseArgs({
  options: { 'size-mib': { type: 'string', default: '1024' }, keep: { type: 'boolean', default: false } },
});
const sizeMib = Number(args['size-mib']);
for (const tool of ['skopeo', '/usr/bin/time']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`bench/layout: ${tool} not found (run scripts/install-test-tools.sh)`);
    process.exit(1);
  }
}

/** Run a command under /usr/bin/time; wall s, user+sys s, peak RSS MiB. */
function measure(cmd, argv) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...argv], { encoding: 'utf8' });
  const last = r.stderr.trim().split('\n').pop();
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}`);
  const [wall, user, sys, rssKb] = last.split(' ').map(Number);
  return { wall, cpu: user + sys, rss: rssKb / 1024 };
}

const work = await mkdtemp(join(tmpdir(), 'img-bench-layout-'));
try {
  const data = join(work, 'data.bin');
  const out = createWriteStream(data);
  for (let i = 0; i < sizeMib; i++) out.write(randomBytes(1024 * 1024));
  await new Promise((r) => out.end(r));
  const img = (...a) => {
    const r = spawnSync(process.execPath, [bin, ...a], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  };
  const blob = join(work, 'layer.tar');
  img('layer', blob, '--format', 'none', '--add', `/data.bin=${data}`, '--metadata', join(work, 'l.json'));
  img(
    'manifest',
    '--layer',
    join(work, 'l.json'),
    '--manifest',
    join(work, 'm.json'),
    '--config',
    join(work, 'c.json'),
  );
  const layoutArgs = [
    'layout',
    '--manifest',
    join(work, 'm.json'),
    '--config',
    join(work, 'c.json'),
    '--layer',
    `${join(work, 'l.json')}=${blob}`,
  ];
  img(...layoutArgs, '-o', `oci:${join(work, 'src')}:v1`);

  const rows = [];
  const run = (name, first, second) => {
    rows.push({ name, first: first(), second: second?.() });
  };
  run(
    'img layout',
    () => measure(process.execPath, [bin, ...layoutArgs, '-o', `oci:${join(work, 'img')}:v1`]),
    () => measure(process.execPath, [bin, ...layoutArgs, '-o', `oci:${join(work, 'img')}:v2`]),
  );
  const skopeo = (tag) => ['copy', '-q', `oci:${join(work, 'src')}:v1`, `oci:${join(work, 'skopeo')}:${tag}`];
  run(
    'skopeo copy',
    () => measure('skopeo', skopeo('v1')),
    () => measure('skopeo', skopeo('v2')),
  );
  run('cp (floor)', () => measure('cp', [blob, join(work, 'cp.blob')]));

  const fmt = (m) =>
    m ? `${m.wall.toFixed(2)} s wall, ${m.cpu.toFixed(2)} s CPU, ${m.rss.toFixed(0)} MiB RSS` : '-';
  console.log(`one ${sizeMib} MiB layer into an OCI layout directory`);
  for (const r of rows)
    console.log(`${r.name.padEnd(12)} new layout: ${fmt(r.first)} | second tag: ${fmt(r.second)}`);
  const [ours, sk, floor] = rows;
  console.log(
    `ratios: img/skopeo new ${(ours.first.wall / sk.first.wall).toFixed(2)}x, second tag ${(ours.second.wall / sk.second.wall).toFixed(2)}x; img/cp ${(ours.first.wall / floor.first.wall).toFixed(2)}x`,
  );
} finally {
  if (!args.keep) await rm(work, { recursive: true, force: true });
}
