// img_rules under real Bazel 7 (the sid chroot from scripts/setup-bazel-chroot.sh): N generated images,
// each an image_manifest over 2 image_layers of small files, built cold (fresh output base, Bazel
// server start included) with the JSON persistent worker and without it (one Node process per
// action). Prints wall time, img actions, and actions/second of the execution phase.
//
//   node bench/bazel/run.mjs                       # N = 100 and 1300, worker and no worker
//   BENCH_N=1300 BENCH_MODES=worker node bench/bazel/run.mjs
//
// Env: BENCH_N (comma list, default 100,1300), BENCH_MODES (worker,noworker), BENCH_KEEP=1 keeps the
// generated workspaces and output bases, IMG_BAZEL_CHROOT (default /var/cache/img-bazel-chroot).
// Target: 1300 images cold in under 60 s on a 2-core machine with the worker.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const chrootBase = process.env.IMG_BAZEL_CHROOT ?? '/var/cache/img-bazel-chroot';
const bazel = join(chrootBase, 'bin', 'bazel');
const rules = join(repo, 'packages', 'bazel-rules');
const sizes = (process.env.BENCH_N ?? '100,1300').split(',').map(Number);
const modes = (process.env.BENCH_MODES ?? 'worker,noworker').split(',');
const PER_PACKAGE = 100;
// Generated workspaces live under /tmp, which the chroot shares with the host at the same path.
const work = '/tmp/img-bazel-bench';

if (!existsSync(bazel)) throw new Error(`${bazel} is missing: run bash scripts/setup-bazel-chroot.sh`);
if (!existsSync(join(rules, 'img', 'private', 'img.cjs'))) {
  throw new Error(
    'packages/bazel-rules/img/private/img.cjs is missing: run pnpm --filter @img/bazel-rules build',
  );
}

/** A workspace with n images; each package holds PER_PACKAGE of them. */
function generate(n) {
  const ws = join(work, `ws-${n}`);
  rmSync(ws, { recursive: true, force: true });
  mkdirSync(ws, { recursive: true });
  writeFileSync(
    join(ws, 'MODULE.bazel'),
    `module(name = "img_bench")\n\nbazel_dep(name = "img_rules", version = "0.1.0")\nlocal_path_override(module_name = "img_rules", path = "${rules}")\n`,
  );
  writeFileSync(join(ws, 'WORKSPACE.bzlmod'), '');
  for (let p = 0; p * PER_PACKAGE < n; p++) {
    const dir = join(ws, `p${p}`);
    mkdirSync(dir);
    const lines = [
      'load("@img_rules//img:image.bzl", "image_manifest")',
      'load("@img_rules//img:layer.bzl", "image_layer")',
      '',
    ];
    for (let i = p * PER_PACKAGE; i < Math.min(n, (p + 1) * PER_PACKAGE); i++) {
      writeFileSync(join(dir, `app${i}.txt`), `application ${i}\n`.repeat(20));
      writeFileSync(join(dir, `conf${i}.json`), JSON.stringify({ image: i, replicas: i % 7 }));
      lines.push(
        `image_layer(name = "app${i}", srcs = {"/app/app.txt": "app${i}.txt"})`,
        `image_layer(name = "conf${i}", srcs = {"/etc/app/conf.json": "conf${i}.json"})`,
        `image_manifest(name = "image${i}", layers = [":app${i}", ":conf${i}"], entrypoint = ["/app/run"], env = {"N": "${i}"})`,
        '',
      );
    }
    writeFileSync(join(dir, 'BUILD.bazel'), lines.join('\n'));
  }
  return ws;
}

/** Seconds from the first action start to the last action end, from Bazel's JSON profile. */
function executionSeconds(profile) {
  const trace = JSON.parse(gunzipSync(readFileSync(profile)).toString('utf8'));
  const actions = (trace.traceEvents ?? trace).filter(
    (e) => e.cat === 'action processing' && e.dur !== undefined,
  );
  if (actions.length === 0) return Number.NaN;
  let start = Number.POSITIVE_INFINITY;
  let end = 0;
  for (const e of actions) {
    start = Math.min(start, e.ts);
    end = Math.max(end, e.ts + e.dur);
  }
  return (end - start) / 1e6;
}

function cold(ws, n, mode) {
  const root = `/var/cache/img-bazel/bench-${mode}-${n}`;
  rmSync(join(chrootBase, 'root', root), { recursive: true, force: true });
  const profile = join(work, `profile-${mode}-${n}.json.gz`);
  const strategy = mode === 'worker' ? 'worker,sandboxed' : 'sandboxed';
  const args = [
    `--output_user_root=${root}`,
    '--max_idle_secs=60',
    'build',
    '--curses=no',
    '--color=no',
    '--symlink_prefix=/',
    `--spawn_strategy=${strategy}`,
    // The downloaded Node.js toolchain comes from the tests' repository cache (extracted, not fetched).
    '--repository_cache=/var/cache/img-bazel/repository-cache',
    `--profile=${profile}`,
    // The default (slim) profile merges short events, which hides most worker actions.
    '--noslim_profile',
    '//...',
  ];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(bazel, args, { cwd: ws, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`bazel build failed (${mode}, N=${n}):\n${r.stderr.slice(-4000)}`);
  const summary = /INFO: (\d+) processes: ([^\n]*)/.exec(r.stderr);
  const internal = Number(/(\d+) internal/.exec(summary?.[2] ?? '')?.[1] ?? 0);
  const actions = Number(summary?.[1] ?? 0) - internal;
  spawnSync(bazel, [`--output_user_root=${root}`, 'shutdown'], { cwd: ws });
  if (!process.env.BENCH_KEEP) rmSync(join(chrootBase, 'root', root), { recursive: true, force: true });
  return { wall, actions, exec: executionSeconds(profile), how: summary?.[2] ?? '?' };
}

console.log(
  `img_rules cold builds, Bazel 7 in ${chrootBase}, ${cpus().length} cores; each image = 2 image_layer + 1 image_manifest`,
);
const rows = [];
for (const n of sizes) {
  const ws = generate(n);
  const results = {};
  for (const mode of modes) {
    const r = cold(ws, n, mode);
    results[mode] = r;
    rows.push({ n, mode, ...r });
    console.log(
      `N=${String(n).padStart(5)} ${mode.padEnd(8)} wall ${r.wall.toFixed(1).padStart(6)} s | ${r.actions} img actions = ${(r.actions / r.wall).toFixed(0)} actions/s of wall time, ${(r.actions / r.exec).toFixed(0)} actions/s while actions ran (${r.exec.toFixed(1)} s) | ${r.how}`,
    );
  }
  if (results.worker && results.noworker) {
    console.log(
      `N=${String(n).padStart(5)} worker speed-up: ${(results.noworker.wall / results.worker.wall).toFixed(2)}x wall, ${(results.noworker.exec / results.worker.exec).toFixed(2)}x action phase`,
    );
  }
  if (!process.env.BENCH_KEEP) rmSync(ws, { recursive: true, force: true });
}
const target = rows.find((r) => r.n === 1300 && r.mode === 'worker');
if (target)
  console.log(
    `target: 1300 images cold < 60 s with the worker: ${target.wall.toFixed(1)} s ${target.wall < 60 ? 'MET' : 'NOT MET'}`,
  );
