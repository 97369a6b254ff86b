#!/usr/bin/env node
// Eager vs lazy push of a Bazel-built image whose layers live in the remote cache, end to end: real
// Bazel 7 (the sid chroot), BuildGrid 0.4.4 as the remote cache, Debian's docker-registry.
//
//   node bench/remote-cache/lazy-push.mjs [--layers 5] [--layer-mib 205] [--rounds 2] [--no-build]
//
// A workspace with one image_manifest of N image_layers of random bytes (gzip: ~the same size) is
// built once with --remote_cache (through a counting TCP proxy in front of BuildGrid) and
// --remote_download_minimal. Then per round, eager and lazy in alternating order, each after
// `bazel clean`: `bazel run` of an image_push with that strategy into a new repository. Printed per
// strategy (medians): wall seconds of `bazel run` (with --no-blob-cache, so nothing is mounted from an
// earlier round's repository), bytes the Bazel machine received from the cache
// (counted on the proxy), layer bytes found under the output base afterwards (files hashed whose size
// is a layer's), and img's own push line. Needs scripts/setup-bazel-chroot.sh and
// scripts/install-test-tools.sh.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const here = dirname(new URL(import.meta.url).pathname);
const repo = resolve(here, '../..');
const { values: args } = parseArgs({
  options: {
    layers: { type: 'string', default: '5' },
    'layer-mib': { type: 'string', default: '205' },
    rounds: { type: 'string', default: '2' },
    'no-build': { type: 'boolean', default: false },
  },
});
const layerCount = Number(args.layers);
const layerMib = Number(args['layer-mib']);
const rounds = Number(args.rounds);
const chrootBase = process.env.IMG_BAZEL_CHROOT ?? '/var/cache/img-bazel-chroot';
const bazelBin = join(chrootBase, 'bin', 'bazel');
const chrootRoot = join(chrootBase, 'root');
const rules = join(repo, 'packages', 'bazel-rules');
const outputUserRoot = '/var/cache/img-bazel/bench-lazy-push';

if (!existsSync(bazelBin)) throw new Error(`${bazelBin} is missing: run bash scripts/setup-bazel-chroot.sh`);
if (!args['no-build']) {
  const r = spawnSync('npx', ['-y', 'pnpm@10.34.9', 'build'], {
    cwd: repo,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) process.exit(1);
}
const { run, startBuildGrid, startRegistry, tempDir } = await import(
  join(repo, 'packages/test-utils/dist/index.js')
);

/** A TCP proxy in front of `port` counting the bytes each way (down: to the client, i.e. Bazel's machine). */
async function countingProxy(port) {
  const counts = { down: 0, up: 0 };
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    upstream.on('data', (d) => {
      counts.down += d.length;
    });
    client.on('data', (d) => {
      counts.up += d.length;
    });
    upstream.pipe(client);
    client.pipe(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: server.address().port, counts, close: () => server.close() };
}

/**
 * Run Bazel asynchronously (the counting proxy lives in this process's event loop): its wall seconds
 * and output; rejects on failure.
 */
function bazel(ws, command, flags) {
  const started = process.hrtime.bigint();
  const args = [`--output_user_root=${outputUserRoot}`, '--max_idle_secs=600', command, ...flags];
  const child = spawn(bazelBin, args, { cwd: ws, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return new Promise((res, rej) => {
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) res({ seconds, stderr, stdout });
      else rej(new Error(`bazel ${command} ${flags.join(' ')} failed:\n${stderr}`));
    });
  });
}

async function randomFile(path, bytes) {
  const out = createWriteStream(path);
  const chunk = Buffer.alloc(4 * 1024 * 1024);
  for (let left = bytes; left > 0; left -= chunk.length) {
    randomFillSync(chunk);
    if (!out.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Bytes of files under `dir` that hold one of `layers` (matched by size, then sha256). */
async function layerBytesUnder(dir, layers) {
  const sizes = new Set(layers.map((l) => l.size));
  const digests = new Set(layers.map((l) => l.digest));
  let total = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    const { size } = await stat(path);
    if (!sizes.has(size)) continue;
    const hash = createHash('sha256');
    for await (const c of createReadStream(path)) hash.update(c);
    if (digests.has(`sha256:${hash.digest('hex')}`)) total += size;
  }
  return total;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mib = (n) => (n / 1048576).toFixed(1);

const tmp = await tempDir('bench-lazy-push-');
const grid = await startBuildGrid({ instanceNames: [''] });
const proxy = await countingProxy(grid.port);
const registry = await startRegistry({ auth: 'none' });
const cache = `grpc://127.0.0.1:${proxy.port}`;
try {
  const ws = tmp.join('ws');
  await mkdir(ws);
  await writeFile(
    join(ws, 'MODULE.bazel'),
    `module(name = "bench_lazy_push")

bazel_dep(name = "img_rules", version = "0.1.0")
local_path_override(module_name = "img_rules", path = "${rules}")
bazel_dep(name = "bazel_skylib", version = "1.7.1")
`,
  );
  await writeFile(join(ws, 'WORKSPACE.bzlmod'), '');
  await writeFile(
    join(ws, '.bazelrc'),
    `build --remote_cache=${cache} --remote_download_minimal
build --@img_rules//img/settings:remote_cache=${cache}
`,
  );
  const layerNames = [];
  for (let i = 0; i < layerCount; i++) {
    await randomFile(join(ws, `data${i}.bin`), layerMib * 1048576);
    layerNames.push(`layer${i}`);
  }
  const pushes = ['eager', 'lazy']
    .map(
      (s) => `image_push(
    name = "push_${s}",
    image = ":image",
    registry = "${registry.url}",
    repository = "bench/{{.round}}-${s}",
    tag = "v1",
    strategy = "${s}",
    build_settings = {"round": ":round"},
)`,
    )
    .join('\n\n');
  await writeFile(
    join(ws, 'BUILD.bazel'),
    `load("@bazel_skylib//rules:common_settings.bzl", "string_flag")
load("@img_rules//img:image.bzl", "image_manifest")
load("@img_rules//img:layer.bzl", "image_layer")
load("@img_rules//img:push.bzl", "image_push")

string_flag(name = "round", build_setting_default = "0")

${layerNames.map((n, i) => `image_layer(name = "${n}", srcs = {"/data/${i}.bin": "data${i}.bin"}, compress = "gzip")`).join('\n')}

image_manifest(name = "image", layers = [${layerNames.map((n) => `":${n}"`).join(', ')}])

${pushes}
`,
  );
  const quiet = ['--curses=no', '--color=no', '--noshow_progress'];
  process.stderr.write(
    `building ${layerCount} x ${layerMib} MiB layers (remote cache ${cache}, minimal download)...\n`,
  );
  const built = await bazel(ws, 'build', [...quiet, '//:push_eager', '//:push_lazy']);
  process.stderr.write(`built in ${built.seconds.toFixed(1)} s\n`);
  const outputBase = join(chrootRoot, (await bazel(ws, 'info', ['output_base'])).stdout.trim());

  const results = { eager: [], lazy: [] };
  let layers;
  let n = 0;
  for (let round = 0; round < rounds; round++) {
    for (const strategy of round % 2 === 0 ? ['eager', 'lazy'] : ['lazy', 'eager']) {
      n++;
      await bazel(ws, 'clean', []);
      const before = { ...proxy.counts };
      const r = await bazel(ws, 'run', [
        ...quiet,
        `--//:round=${n}`,
        `//:push_${strategy}`,
        '--',
        '--no-blob-cache',
      ]);
      const received = proxy.counts.down - before.down;
      // run() finds crane on PATH or in .tools/bin, and fails naming the command when it does not run.
      layers ??= JSON.parse(
        (await run('crane', ['manifest', '--insecure', `${registry.url}/bench/${n}-${strategy}:v1`])).stdout,
      ).layers;
      const onDisk = await layerBytesUnder(outputBase, layers);
      const summary = /blobs: .*/.exec(r.stderr)?.[0] ?? '';
      results[strategy].push({ seconds: r.seconds, received, onDisk, summary });
      process.stderr.write(
        `round ${n} ${strategy}: ${r.seconds.toFixed(1)} s, ${mib(received)} MiB from the cache, ${mib(onDisk)} MiB of layers on disk; ${summary}\n`,
      );
    }
  }
  const total = layers.reduce((s, l) => s + l.size, 0);
  const row = (s) => {
    const xs = results[s];
    return {
      seconds: median(xs.map((x) => x.seconds)),
      received: median(xs.map((x) => x.received)),
      onDisk: median(xs.map((x) => x.onDisk)),
    };
  };
  const eager = row('eager');
  const lazy = row('lazy');
  console.log(
    `\n${layerCount} layers, ${mib(total)} MiB of layer blobs, bazel run of image_push after bazel clean (median of ${rounds}; node ${process.version})`,
  );
  console.log('             wall s   MiB from cache   MiB of layers on disk');
  for (const [name, r] of [
    ['eager', eager],
    ['lazy', lazy],
  ]) {
    console.log(
      `${name.padStart(10)} ${r.seconds.toFixed(1).padStart(8)} ${mib(r.received).padStart(16)} ${mib(r.onDisk).padStart(23)}`,
    );
  }
  // Each round runs both back to back: its ratio is the least disturbed by other load on the machine.
  const perRound = results.lazy.map((l, i) => l.seconds / results.eager[i].seconds);
  console.log(
    `lazy/eager ${(lazy.seconds / eager.seconds).toFixed(2).padStart(8)} ${(lazy.received / eager.received).toFixed(3).padStart(16)}`,
  );
  console.log(
    `lazy/eager wall per round: ${perRound.map((r) => r.toFixed(2)).join(', ')} (median ${median(perRound).toFixed(2)})`,
  );
  await bazel(ws, 'shutdown', []);
} finally {
  proxy.close();
  await registry.stop();
  await grid.stop();
  await tmp.remove();
  await rm(join(chrootRoot, outputUserRoot), { recursive: true, force: true }).catch(() => {});
}
