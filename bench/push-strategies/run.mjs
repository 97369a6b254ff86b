#!/usr/bin/env node
// The same image pushed with each of img_rules' push strategies, by real Bazel 7 (the chroot), in one
// run: eager, lazy, cas_registry and bes. Measures the wall time of the push step and the bytes the
// machine running Bazel sends (and receives) during it, counted on the wire by TCP proxies in front of
// the remote cache (BuildGrid), the registries and the BES listener.
//
//   node bench/push-strategies/run.mjs [--size-mib 1024] [--layers 5] [--no-build]
//
// Set-up: BuildGrid (the remote cache), one docker-registry per strategy (so no push finds blobs an
// earlier one left), `img registry serve --reapi-endpoint` (the CAS registry), `img bes serve` (the
// listener: "another machine", so its own traffic to the registry is not counted); a workspace with
// `--layers` uncompressed layers of random data (`--size-mib` in total) and one image_push per
// strategy. Everything is built first with --remote_cache --remote_download_minimal (layers land in
// the cache, not on disk); then each push step runs with the byte counters reset:
//   eager, lazy, cas_registry: `bazel run //:push_<strategy>` (a strategy this checkout's
//     img_rules lacks is reported as not available);
//   bes: `bazel build //:push_bes --bes_backend=...` until the listener logs the push.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const here = dirname(new URL(import.meta.url).pathname);
const repo = resolve(here, '../..');
const { values: args } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '1024' },
    layers: { type: 'string', default: '5' },
    'no-build': { type: 'boolean', default: false },
  },
});
const sizeMib = Number(args['size-mib']);
const layerCount = Number(args.layers);

if (!args['no-build']) {
  const r = spawnSync(
    'npx',
    ['turbo', 'run', 'build', '--filter=@img/bazel-rules...', '--filter=@img/test-utils'],
    {
      cwd: repo,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (r.status !== 0) process.exit(1);
}
const { startBuildGrid, startRegistry, startCountingProxy, ensureBazelChroot, bazelChrootBase } =
  await import(join(repo, 'packages/test-utils/dist/index.js'));
ensureBazelChroot([tmpdir()]);
const BAZEL = join(bazelChrootBase(), 'bin', 'bazel');
const IMG = join(repo, 'packages/bazel-rules/img/private/img.cjs');
const RULES = join(repo, 'packages/bazel-rules');
const OUTPUT_ROOT = '/var/cache/img-bazel/bench-push-strategies';

/** `bazel` in the chroot, asynchronously: the counting proxies run in this process's event loop. */
function bazel(command, flags, cwd) {
  const started = process.hrtime.bigint();
  const child = spawn(
    BAZEL,
    [
      `--output_user_root=${OUTPUT_ROOT}`,
      '--max_idle_secs=120',
      command,
      '--curses=no',
      '--color=no',
      ...flags,
    ],
    { cwd, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return new Promise((res) =>
    child.on('close', (code) =>
      res({ code, stderr, seconds: Number(process.hrtime.bigint() - started) / 1e9 }),
    ),
  );
}

function startImg(argv) {
  const child = spawn(process.execPath, [IMG, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => {
    log += d;
  });
  return new Promise((res, rej) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) res({ address: out.split('\n')[0].trim(), child, log: () => log });
    });
    child.once('exit', (code) => rej(new Error(`img ${argv.join(' ')} exited ${code}: ${log}`)));
  });
}

const port = (address) => Number(address.split(':').at(-1));
const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;

const work = mkdtempSync(join(tmpdir(), 'bench-push-strategies-'));
const stops = [];
try {
  const grid = await startBuildGrid({ instanceNames: [''] });
  stops.push(() => grid.stop());
  const registries = {};
  for (const s of ['eager', 'lazy', 'bes']) {
    registries[s] = await startRegistry();
    stops.push(() => registries[s].stop());
  }
  const casRegistry = await startImg([
    'registry',
    'serve',
    '--port',
    '0',
    '--storage',
    join(work, 'cas'),
    '--reapi-endpoint',
    grid.endpoint,
  ]);
  stops.push(() => casRegistry.child.kill());
  const listener = await startImg(['bes', 'serve', '--port', '0', '--cas-endpoint', grid.endpoint]);
  stops.push(() => listener.child.kill());

  // Proxies: everything the Bazel machine sends goes through one of them.
  const proxies = {
    cache: await startCountingProxy({ targetPort: grid.port }),
    eager: await startCountingProxy({ targetPort: registries.eager.port }),
    lazy: await startCountingProxy({ targetPort: registries.lazy.port }),
    cas: await startCountingProxy({ targetPort: port(casRegistry.address) }),
    bes: await startCountingProxy({ targetPort: port(listener.address) }),
  };
  for (const p of Object.values(proxies)) stops.push(() => p.close());
  const sent = () => Object.values(proxies).reduce((n, p) => n + p.bytesUp(), 0);
  const received = () => Object.values(proxies).reduce((n, p) => n + p.bytesDown(), 0);
  const reset = () => {
    for (const p of Object.values(proxies)) p.reset();
  };

  const ws = join(work, 'ws');
  mkdirSync(ws);
  const layerMib = Math.floor(sizeMib / layerCount);
  const names = [];
  for (let i = 0; i < layerCount; i++) {
    const name = `data${i}.bin`;
    const chunks = [];
    for (let m = 0; m < layerMib; m++) chunks.push(randomBytes(1048576));
    writeFileSync(join(ws, name), Buffer.concat(chunks));
    names.push(name);
  }
  copyFileSync('/bin/busybox', join(ws, 'busybox.bin'));
  writeFileSync(
    join(ws, 'MODULE.bazel'),
    `module(name = "bench_push_strategies")\nbazel_dep(name = "img_rules", version = "0.1.0")\nlocal_path_override(module_name = "img_rules", path = "${RULES}")\n`,
  );
  writeFileSync(join(ws, 'WORKSPACE.bzlmod'), '');
  const push = (strategy, registry) =>
    `image_push(name = "push_${strategy}", image = ":image", registry = "${registry}", repository = "bench/${strategy}", tag = "v1", strategy = "${strategy}")\n`;
  writeFileSync(
    join(ws, 'BUILD.bazel'),
    `load("@img_rules//img:image.bzl", "image_manifest")
load("@img_rules//img:layer.bzl", "image_layer")
load("@img_rules//img:push.bzl", "image_push")
${names.map((n, i) => `image_layer(name = "layer${i}", srcs = {"/data/${n}": "${n}"}, compress = "none")\n`).join('')}
image_manifest(name = "image", layers = [${names.map((_, i) => `":layer${i}"`).join(', ')}])
${push('eager', proxies.eager.address)}${push('lazy', proxies.lazy.address)}${push('cas_registry', proxies.cas.address)}${push('bes', registries.bes.url)}`,
  );

  const common = [
    '--enable_bzlmod',
    '--symlink_prefix=/',
    '--repository_cache=/var/cache/img-bazel/repository-cache',
    `--remote_cache=grpc://${proxies.cache.address}`,
    '--remote_download_minimal',
    // Where lazy's `bazel run` reads layers from (read only by image_push / image_load).
    `--@img_rules//img/settings:remote_cache=grpc://${proxies.cache.address}`,
  ];
  const built = await bazel('build', [...common, '//:image'], ws);
  if (built.code !== 0) throw new Error(`building the image failed:\n${built.stderr}`);
  console.log(
    `image: ${layerCount} layers, ${mib(layerMib * layerCount * 1048576)} (built and uploaded to the cache in ${built.seconds.toFixed(1)} s)`,
  );
  const imageBytes = layerMib * layerCount * 1048576;

  const results = [];
  for (const strategy of ['eager', 'lazy', 'cas_registry']) {
    const prepared = await bazel('build', [...common, `//:push_${strategy}`], ws);
    if (prepared.code !== 0) {
      results.push({
        strategy,
        skipped: (/Error in fail: (.*)/.exec(prepared.stderr)?.[1] ?? 'build failed').slice(0, 160),
      });
      continue;
    }
    reset();
    const r = await bazel('run', [...common, `//:push_${strategy}`], ws);
    if (r.code !== 0) throw new Error(`bazel run //:push_${strategy} failed:\n${r.stderr}`);
    results.push({ strategy, seconds: r.seconds, sent: sent(), received: received() });
  }
  {
    reset();
    const started = process.hrtime.bigint();
    const r = await bazel(
      'build',
      [...common, `--bes_backend=grpc://${proxies.bes.address}`, '//:push_bes'],
      ws,
    );
    if (r.code !== 0) throw new Error(`bazel build //:push_bes failed:\n${r.stderr}`);
    const bazelSent = sent();
    const bazelReceived = received();
    while (!/\/\/:push_bes: pushed/.test(listener.log())) {
      if (/\/\/:push_bes: push failed/.test(listener.log())) throw new Error(listener.log());
      await new Promise((res) => setTimeout(res, 100));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    results.push({
      strategy: 'bes',
      seconds,
      sent: bazelSent,
      received: bazelReceived,
      bazelSeconds: r.seconds,
    });
  }

  console.log(
    "\npush step (after the image is built and in the remote cache), bytes on the Bazel machine's wire:",
  );
  for (const x of results) {
    if (x.skipped) {
      console.log(`  ${x.strategy.padEnd(13)} not available here: ${x.skipped}`);
      continue;
    }
    const pct = ((100 * x.sent) / imageBytes).toFixed(4);
    const extra =
      x.bazelSeconds !== undefined
        ? ` (bazel build ${x.bazelSeconds.toFixed(2)} s, then the listener's push)`
        : '';
    console.log(
      `  ${x.strategy.padEnd(13)} ${x.seconds.toFixed(2).padStart(7)} s   sent ${String(x.sent).padStart(11)} bytes (${pct.padStart(9)} % of the image)   received ${mib(x.received)}${extra}`,
    );
  }
  const eager = results.find((x) => x.strategy === 'eager');
  for (const x of results.filter((r) => !r.skipped && r.strategy !== 'eager')) {
    console.log(
      `  ${x.strategy}/eager: time ${(x.seconds / eager.seconds).toFixed(3)}, bytes sent ${(x.sent / eager.sent).toFixed(6)}`,
    );
  }
  await bazel('shutdown', [], ws);
} finally {
  for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => {});
  rmSync(work, { recursive: true, force: true });
}
