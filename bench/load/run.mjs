#!/usr/bin/env node
// Incremental load benchmark: `img load` (only missing blobs, over containerd's gRPC API) against
// `ctr images import` of the equivalent tarball, same containerd, same run.
//
//   node bench/load/run.mjs [--size-mib 1024] [--layers 4] [--keep]
//
// Needs root, containerd and ctr (scripts/install-test-tools.sh). Builds the CLI bundle from sources
// with esbuild (as for Bazel), builds a ~1 GiB image (N big base layers + one small app layer) with
// `img build`, then measures, each in a fresh containerd namespace:
//   ours:   img load oci:v1 (first load), img load oci:v2 (after changing the app layer)
//   ctr:    ctr images import --no-unpack v1.tar, then v2.tar
// and prints times, bytes written and the ratios the issue targets (second <= 10% of first, and
// <= 0.2x ctr import).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const repo = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const loaderPkg = join(repo, 'packages/containerd-loader');
const { values: args } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '1024' },
    layers: { type: 'string', default: '4' },
    keep: { type: 'boolean', default: false },
  },
});
const sizeMib = Number(args['size-mib']);
const layerCount = Number(args.layers);

const which = (tool) => {
  const r = spawnSync('sh', ['-c', `command -v ${tool} || ls /usr/sbin/${tool} 2>/dev/null`], {
    encoding: 'utf8',
  });
  return r.stdout.trim().split('\n')[0] || undefined;
};
for (const tool of ['containerd', 'ctr']) {
  if (!which(tool)) {
    console.error(`bench/load: ${tool} not found (run scripts/install-test-tools.sh)`);
    process.exit(1);
  }
}
if (process.getuid?.() !== 0) {
  console.error('bench/load: containerd needs root');
  process.exit(1);
}

const work = await mkdtemp(join(tmpdir(), 'img-bench-load-'));
const running = new Set();

function run(cmd, argv, opts = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolvePromise(out)
        : reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}\n${err}${out}`)),
    );
  });
}

async function timed(fn) {
  const t = performance.now();
  const result = await fn();
  return { seconds: (performance.now() - t) / 1000, result };
}

async function writeRandom(path, bytes) {
  const out = createWriteStream(path);
  for (let left = bytes; left > 0; left -= 8 << 20) {
    if (!out.write(randomBytes(Math.min(left, 8 << 20)))) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r, j) => out.end((e) => (e ? j(e) : r())));
}

/** Bytes of committed blobs under a containerd root. */
async function storedBytes(root) {
  const out = await run('du', ['-sb', join(root, 'io.containerd.content.v1.content', 'blobs')]);
  return Number(out.split('\t')[0]);
}

/** containerd with root, state and socket under the work dir. */
async function startContainerd(name) {
  const dir = join(work, `ctrd-${name}`);
  await mkdir(dir, { recursive: true });
  const sock = join(dir, 'c.sock');
  const root = join(dir, 'root');
  const cfg = join(dir, 'config.toml');
  await writeFile(
    cfg,
    [
      'version = 2',
      `root = ${JSON.stringify(root)}`,
      `state = ${JSON.stringify(join(dir, 'state'))}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      `[grpc]\n  address = ${JSON.stringify(sock)}`,
      `[ttrpc]\n  address = ${JSON.stringify(`${sock}.ttrpc`)}`,
      '[metrics]\n  address = ""',
      '',
    ].join('\n'),
  );
  const child = spawn(which('containerd'), ['--config', cfg], { stdio: 'ignore' });
  running.add(child);
  for (let i = 0; i < 100; i++) {
    if (
      await run('ctr', ['--address', sock, 'version']).then(
        () => true,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async () => {
    if (child.exitCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    running.delete(child);
  };
  return { sock, root, stop };
}

try {
  // 1. The CLI as one bundle with its protos beside it (the Bazel layout).
  const require = createRequire(join(loaderPkg, 'package.json'));
  const { build } = require('esbuild');
  const bundle = join(work, 'img', 'img.mjs');
  await build({
    entryPoints: [join(repo, 'packages/cli/src/bin.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@img/source'],
    logLevel: 'error',
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  await cp(join(loaderPkg, 'proto'), join(dirname(bundle), 'proto'), { recursive: true });
  const img = (...argv) => run(process.execPath, [bundle, ...argv]);

  // 2. A ~1 GiB image: N incompressible base layers (stored uncompressed) and one small app layer.
  const src = join(work, 'src');
  await mkdir(src, { recursive: true });
  const perLayer = Math.floor((sizeMib * 1024 * 1024) / layerCount);
  const layers = [];
  for (let i = 0; i < layerCount; i++) {
    await writeRandom(join(src, `base-${i}.bin`), perLayer);
    layers.push({ files: { [`/base/${i}.bin`]: `base-${i}.bin` }, compress: 'none' });
  }
  layers.push({ files: { '/app/app.txt': 'app.txt' } });
  await writeFile(
    join(src, 'image.json'),
    JSON.stringify({ platform: 'linux/amd64', layers, config: { cmd: ['/app/app.txt'] } }),
  );
  const builds = {};
  for (const v of ['v1', 'v2']) {
    await writeFile(join(src, 'app.txt'), `application build ${v} ${Date.now()}\n`);
    await img('build', join(src, 'image.json'), '--output', `oci:${join(work, v)}`);
    builds[v] = await timed(() =>
      img('build', join(src, 'image.json'), '--output', `oci-archive:${join(work, `${v}.tar`)}:latest`),
    );
  }
  await rm(src, { recursive: true, force: true });

  // 3. Measure, each contender in its own containerd (own root: containerd shares blobs across
  //    namespaces, so one contender's writes would make the other's free).
  const ours = [];
  const ctrdOurs = await startContainerd('ours');
  try {
    for (const v of ['v1', 'v2']) {
      ours.push(
        await timed(() =>
          img(
            'load',
            `oci:${join(work, v)}`,
            '--daemon',
            'containerd',
            '--address',
            ctrdOurs.sock,
            '--namespace',
            'bench',
            '--tag',
            'bench/app:dev',
          ),
        ),
      );
    }
    ours.stored = await storedBytes(ctrdOurs.root);
  } finally {
    await ctrdOurs.stop();
  }
  const theirs = [];
  const ctrdTheirs = await startContainerd('ctr');
  try {
    for (const v of ['v1', 'v2']) {
      theirs.push(
        await timed(() =>
          run('ctr', [
            '--address',
            ctrdTheirs.sock,
            '-n',
            'bench',
            'images',
            'import',
            '--no-unpack',
            '--base-name',
            'docker.io/bench/app',
            join(work, `${v}.tar`),
          ]),
        ),
      );
    }
    theirs.stored = await storedBytes(ctrdTheirs.root);
  } finally {
    await ctrdTheirs.stop();
  }
  const summary = (r) => r.result.trim().replace(/^loaded .*?into containerd: /, '');
  const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;
  const [o1, o2] = ours;
  const [c1, c2] = theirs;
  console.log(
    `image: ${layerCount} base layers x ${mib(perLayer)} + 1 small app layer (~${sizeMib} MiB), containerd ${(await run(which('containerd'), ['--version'])).split(' ')[2]}`,
  );
  console.log(
    `img build --output oci-archive (tarball for ctr import): v1 ${builds.v1.seconds.toFixed(2)} s, v2 ${builds.v2.seconds.toFixed(2)} s`,
  );
  console.log(`ours  first load   ${o1.seconds.toFixed(2)} s  (${summary(o1)})`);
  console.log(`ours  second load  ${o2.seconds.toFixed(2)} s  (${summary(o2)})`);
  console.log(
    `ctr images import --no-unpack  first ${c1.seconds.toFixed(2)} s, second ${c2.seconds.toFixed(2)} s (reads the whole ${mib(perLayer * layerCount)} tarball each time)`,
  );
  console.log(`content stored: ours ${mib(ours.stored)}, ctr ${mib(theirs.stored)}`);
  const r1 = o2.seconds / o1.seconds;
  const r2 = o2.seconds / c2.seconds;
  console.log(
    `ratio second/first load (ours): ${r1.toFixed(3)}  (target <= 0.10) ${r1 <= 0.1 ? 'OK' : 'MISSED'}`,
  );
  console.log(
    `ratio ours/ctr import (second load): ${r2.toFixed(3)}  (target <= 0.20) ${r2 <= 0.2 ? 'OK' : 'MISSED'}`,
  );
  console.log(`ratio ours/ctr import (first load): ${(o1.seconds / c1.seconds).toFixed(3)}`);
} finally {
  for (const child of running) child.kill('SIGKILL');
  if (!args.keep) await rm(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
