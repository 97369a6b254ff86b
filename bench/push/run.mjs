#!/usr/bin/env node
// Push benchmark: `img push` against `crane push` of the same OCI layout, same registry, same run.
//
//   node bench/push/run.mjs [--size-mib 1280] [--layers 5] [--iterations 3] [--jobs N]
//                           [--layout DIR] [--keep] [--no-build] [--baseline-cli BIN.cjs]
//
// --baseline-cli: another img bundle (e.g. main's packages/cli/dist/bin.cjs) pushed in the same rounds
// as `base`, with the ratio img/base printed: a change measured against its baseline in one run.
//
// 1. Builds the CLI (and @img/test-utils) with turbo, unless --no-build.
// 2. Generates deterministic layer content (a seeded mix of text-like lines, which gzip ~4:1, and
//    AES-CTR keystream, which does not compress: together ~1 GiB of gzip layers from 1.25 GiB of files)
//    and builds a 5-layer image into an OCI layout with `img build` (or reuses --layout DIR).
// 3. Starts Debian's docker-registry on 127.0.0.1 (startRegistry from @img/test-utils), warms its blob
//    store with one untimed push (so every timed first push meets the same registry state), then per
//    iteration (order alternates): first push of img (--no-blob-cache) and crane, each to a fresh
//    repository, then a re-push of both (unchanged layout, same repository), then one more img push to
//    a fresh repository with img's blob memory on (it mounts what an untimed img push stored).
// 4. Prints per push: wall time, CPU (user+sys) and max RSS of the client (/usr/bin/time), the
//    registry's CPU (/proc), requests (from the registry access log; ours also from `--json`), bytes
//    sent to the registry port (an iptables byte counter on the port, removed at the end: TCP payload +
//    headers; without iptables only ours, from --json), then the medians over iterations, the ratio
//    img/crane, and the start-up time of each tool alone (`img --help`, `crane version`).
import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const repo = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const { values: args } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '1280' },
    layers: { type: 'string', default: '5' },
    iterations: { type: 'string', default: '3' },
    jobs: { type: 'string' },
    layout: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    'baseline-cli': { type: 'string' },
  },
});
const sizeMib = Number(args['size-mib']);
const layerCount = Number(args.layers);
const iterations = Number(args.iterations);
const cli = join(repo, 'packages/cli/dist/bin.cjs');
const baselineCli = args['baseline-cli'] && resolve(args['baseline-cli']);
const crane = join(repo, '.tools/bin/crane');

function fail(message) {
  console.error(`bench/push: ${message}`);
  process.exit(1);
}

const which = (tool) =>
  spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim() || undefined;
if (!which('docker-registry')) fail('docker-registry not found (run scripts/install-test-tools.sh)');
if (spawnSync(crane, ['version']).status !== 0)
  fail(`${crane} not found (run scripts/install-test-tools.sh)`);
if (!which('time') && spawnSync('/usr/bin/time', ['true']).status !== 0) fail('/usr/bin/time not found');

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
        ? resolvePromise({ out, err })
        : reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}\n${err}${out}`)),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Deterministic content.

/** xorshift32: a tiny seeded PRNG for choosing words and segment kinds. */
function rng(seed) {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const SYLLABLES = 'ka lo mi ne ru sa te vo zi an el or us ing tion pre con de ex sub'.split(' ');
function vocabulary(next) {
  const words = [];
  for (let i = 0; i < 4096; i++) {
    let w = '';
    const n = 1 + (next() % 4);
    for (let j = 0; j < n; j++) w += SYLLABLES[next() % SYLLABLES.length];
    words.push(Buffer.from(w));
  }
  return words;
}

/** Text-like bytes: log/source-ish lines of words, numbers and punctuation (gzip ~3-4:1). */
function textBytes(next, words, size) {
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  let col = 0;
  while (at < size) {
    const r = next();
    let piece;
    if ((r & 15) === 0) piece = Buffer.from(String(r >>> 12));
    else piece = words[(r >>> 4) % words.length];
    const n = Math.min(piece.length, size - at);
    piece.copy(buf, at, 0, n);
    at += n;
    col += n;
    if (at < size) {
      buf[at++] = col > 72 ? 10 : (r & 0x300) === 0 ? 0x2c : 0x20;
      if (col > 72) col = 0;
    }
  }
  return buf;
}

/** Incompressible bytes: AES-128-CTR keystream under a key derived from `label`. */
function randomBytesFor(label, size) {
  const key = createHash('sha256').update(label).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return cipher.update(Buffer.alloc(size));
}

async function writeFileStreaming(path, produce) {
  const out = createWriteStream(path);
  for (const chunk of produce()) {
    if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r, j) => out.end((e) => (e ? j(e) : r())));
}

/** Files of one layer: `bytes` in files of up to 32 MiB, 60% incompressible segments. */
async function writeLayerFiles(dir, layer, bytes) {
  await mkdir(dir, { recursive: true });
  const next = rng(0x1234567 + layer * 7919);
  const words = vocabulary(next);
  const fileSize = 32 << 20;
  for (let f = 0, left = bytes; left > 0; f++, left -= fileSize) {
    const size = Math.min(fileSize, left);
    await writeFileStreaming(join(dir, `part-${String(f).padStart(3, '0')}.dat`), function* () {
      let seg = 0;
      for (let at = 0; at < size; seg++) {
        const n = Math.min(size - at, (64 << 10) * (1 + (next() % 16)));
        yield next() % 10 < 6
          ? randomBytesFor(`layer${layer}/file${f}/seg${seg}`, n)
          : textBytes(next, words, n);
        at += n;
      }
    });
  }
}

async function buildLayout(work) {
  const src = join(work, 'src');
  const weights = [0.3, 0.25, 0.2, 0.15, 0.1];
  const layers = [];
  const total = sizeMib * 1024 * 1024;
  for (let i = 0; i < layerCount; i++) {
    const w = layerCount === weights.length ? weights[i] : 1 / layerCount;
    await writeLayerFiles(join(src, `layer${i}`), i, Math.floor(total * w));
    layers.push({ directories: { [`/data/layer${i}`]: `layer${i}` }, compress: 'gzip' });
  }
  await writeFile(
    join(src, 'image.json'),
    JSON.stringify({
      platform: 'linux/amd64',
      layers,
      config: { cmd: ['/bin/true'] },
      created: '2024-01-01T00:00:00Z',
    }),
  );
  const layout = join(work, 'layout');
  const t = performance.now();
  await run(process.execPath, [cli, 'build', join(src, 'image.json'), '--output', `oci:${layout}`], {
    env: { ...process.env, SOURCE_DATE_EPOCH: '1704067200' },
  });
  console.log(`  img build: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  await rm(src, { recursive: true, force: true });
  return layout;
}

async function layoutSummary(layout) {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  const desc = index.manifests[0];
  const manifest = JSON.parse(await readFile(join(layout, 'blobs', ...desc.digest.split(':')), 'utf8'));
  const blobBytes = manifest.layers.reduce((n, l) => n + l.size, 0) + manifest.config.size;
  return { digest: desc.digest, layers: manifest.layers.length, blobBytes };
}

// ---------------------------------------------------------------------------------------------
// Measurement.

/** A byte counter for TCP traffic to the registry port (iptables rule without a target). */
async function portCounter(port) {
  const spec = [
    'OUTPUT',
    '-p',
    'tcp',
    '-d',
    '127.0.0.1',
    '--dport',
    String(port),
    '-m',
    'comment',
    '--comment',
    `img-bench-push-${port}`,
  ];
  const ok = spawnSync('iptables', ['-w', '-I', ...spec], { stdio: 'ignore' }).status === 0;
  if (!ok) return undefined;
  return {
    read() {
      const out = spawnSync('iptables', ['-w', '-L', 'OUTPUT', '-n', '-v', '-x'], {
        encoding: 'utf8',
      }).stdout;
      const line = out.split('\n').find((l) => l.includes(`img-bench-push-${port}`));
      return line ? Number(line.trim().split(/\s+/)[1]) : Number.NaN;
    },
    remove() {
      spawnSync('iptables', ['-w', '-D', ...spec], { stdio: 'ignore' });
    },
  };
}

async function settledLog(path, from) {
  // Access-log lines are written as responses complete: wait until the file stops growing.
  let size = -1;
  for (let i = 0; i < 50; i++) {
    const s = (await stat(path)).size;
    if (s === size) break;
    size = s;
    await new Promise((r) => setTimeout(r, 60));
  }
  const text = (await readFile(path)).subarray(from).toString('utf8');
  return { size, text };
}

/** CPU seconds (user + system) a process has used so far. */
async function processCpu(pid) {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function timedChild(argv, registry, counter, logOffset, parseAccessLog) {
  const timeFile = join(tmpdir(), `img-bench-push-time-${process.pid}`);
  const bytesBefore = counter?.read();
  const registryBefore = await processCpu(registry.pid);
  const t = performance.now();
  const { out } = await run('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, ...argv]);
  const wall = (performance.now() - t) / 1000;
  const bytesAfter = counter?.read();
  const [user, sys, rssKb] = (await readFile(timeFile, 'utf8'))
    .trim()
    .split('\n')
    .pop()
    .split(/\s+/)
    .map(Number);
  await rm(timeFile, { force: true });
  const log = await settledLog(registry.logPath, logOffset.value);
  const registryCpu = (await processCpu(registry.pid)) - registryBefore;
  logOffset.value = log.size;
  const entries = parseAccessLog(log.text);
  const methods = {};
  for (const e of entries) methods[e.method] = (methods[e.method] ?? 0) + 1;
  return {
    wall,
    cpu: user + sys,
    registryCpu,
    rssMb: rssKb / 1024,
    requests: entries.length,
    methods,
    wireBytes: counter ? bytesAfter - bytesBefore : undefined,
    out,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function fmtBytes(n) {
  if (n === undefined || Number.isNaN(n)) return 'n/a';
  if (n >= 1 << 20) return `${(n / 1048576).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) => r.map((v, c) => String(v).padStart(widths[c])).join('  ')).join('\n');
}

// ---------------------------------------------------------------------------------------------

if (!args['no-build']) {
  console.log('building the CLI and test-utils (turbo)...');
  await run('pnpm', ['turbo', 'run', 'build', '--filter=@img/cli', '--filter=@img/test-utils'], {
    cwd: repo,
  });
}
const { startRegistry, parseAccessLog } = await import(join(repo, 'packages/test-utils/dist/index.js'));

const work = await mkdtemp(join(tmpdir(), 'img-bench-push-'));
let registry;
let counter;
const cleanup = async () => {
  counter?.remove();
  await registry?.stop().catch(() => {});
  if (!args.keep) await rm(work, { recursive: true, force: true });
};
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    cleanup().finally(() => process.exit(130));
  });
}

function report(i, tool, what, r) {
  const methods = Object.entries(r.methods)
    .map(([m, n]) => `${m} ${n}`)
    .join(', ');
  console.log(
    `  #${i} ${tool.padEnd(5)} ${what} ${r.wall.toFixed(2)} s, cpu ${r.cpu.toFixed(2)} s (registry ${r.registryCpu.toFixed(2)} s), rss ${r.rssMb.toFixed(0)} MiB, ${r.requests} requests (${methods})${r.ownRequests !== undefined ? ` [--json: ${r.ownRequests} requests, ${fmtBytes(r.ownBytes)}, ${r.ownMs} ms in pushImage]` : ''}, ${fmtBytes(r.wireBytes)} to the registry`,
  );
}

try {
  let layout = args.layout && resolve(args.layout);
  if (!layout) {
    console.log(
      `generating ${sizeMib} MiB of layer content in ${layerCount} layers and building the layout...`,
    );
    layout = await buildLayout(work);
  }
  const image = await layoutSummary(layout);
  console.log(`  image ${image.digest}: ${image.layers} layers, ${fmtBytes(image.blobBytes)} of blobs`);

  registry = await startRegistry();
  counter = await portCounter(registry.port);
  if (!counter) console.log('  (iptables unavailable: crane bytes not measured; ours from --json)');
  const logOffset = { value: 0 };
  const jobsFlag = args.jobs ? ['--jobs', args.jobs] : [];
  // img remembers where it pushed blobs (to mount them into the next repository): like-for-like pushes
  // run with --no-blob-cache; one extra img push per round shows what the memory gives.
  process.env.IMG_CACHE_DIR = join(work, 'img-cache');
  const tools = {
    img: (ref) => ['node', cli, 'push', `oci:${layout}`, ref, '--json', '--no-blob-cache', ...jobsFlag],
    imgRemembering: (ref) => ['node', cli, 'push', `oci:${layout}`, ref, '--json', ...jobsFlag],
    crane: (ref) => [crane, 'push', layout, ref, '--insecure'],
    ...(baselineCli && {
      base: (ref) => [
        'node',
        baselineCli,
        'push',
        `oci:${layout}`,
        ref,
        '--json',
        '--no-blob-cache',
        ...jobsFlag,
      ],
    }),
  };
  const compared = baselineCli ? ['img', 'crane', 'base'] : ['img', 'crane'];

  // Warm-up (untimed): the blob store then holds every blob, as it does for all timed pushes; img's
  // memory learns that img-warmup holds them.
  await run(tools.crane(`${registry.url}/warmup:1`)[0], tools.crane(`${registry.url}/warmup:1`).slice(1));
  const warmImg = tools.imgRemembering(`${registry.url}/img-warmup:1`);
  await run(warmImg[0], warmImg.slice(1));
  logOffset.value = (await settledLog(registry.logPath, 0)).size;

  const results = {
    img: { first: [], again: [], remembered: [] },
    crane: { first: [], again: [] },
    base: { first: [], again: [] },
  };
  console.log(
    `registry ${registry.url}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (let i = 1; i <= iterations; i++) {
    const order = i % 2 ? compared : [...compared].reverse();
    for (const phase of ['first', 'again']) {
      for (const tool of order) {
        const ref = `${registry.url}/${tool}-${i}:1`;
        const r = await timedChild(tools[tool](ref), registry, counter, logOffset, parseAccessLog);
        if (tool === 'img' || tool === 'base') {
          const json = JSON.parse(r.out.trim().split('\n').pop());
          if (json.digest !== image.digest)
            throw new Error(`img pushed ${json.digest}, layout has ${image.digest}`);
          r.ownRequests = json.requests;
          r.ownBytes = json.bytesUploaded;
          r.ownMs = json.durationMs;
        } else if (!r.out.includes(image.digest)) {
          throw new Error(`crane pushed something else: ${r.out.trim()}`);
        }
        results[tool][phase].push(r);
        report(i, tool, phase === 'first' ? 'first push' : 're-push   ', r);
      }
    }
    // img with its memory of pushed blobs, into a fresh repository: mounts from img-warmup.
    const r = await timedChild(
      tools.imgRemembering(`${registry.url}/img-remembered-${i}:1`),
      registry,
      counter,
      logOffset,
      parseAccessLog,
    );
    const json = JSON.parse(r.out.trim().split('\n').pop());
    Object.assign(r, { ownRequests: json.requests, ownBytes: json.bytesUploaded, ownMs: json.durationMs });
    results.img.remembered.push(r);
    report(i, 'img', `first push, ${json.blobsMounted} blobs mounted (blob memory on)`, r);
  }

  const rows = [['', 'tool', 'wall s', 'cpu s', 'registry cpu s', 'rss MiB', 'requests', 'bytes sent']];
  const ratios = [];
  for (const phase of ['first', 'again']) {
    const m = {};
    for (const tool of compared) {
      const rs = results[tool][phase];
      m[tool] = {
        wall: median(rs.map((r) => r.wall)),
        cpu: median(rs.map((r) => r.cpu)),
        registryCpu: median(rs.map((r) => r.registryCpu)),
        rss: median(rs.map((r) => r.rssMb)),
        requests: median(rs.map((r) => r.requests)),
        bytes: counter
          ? median(rs.map((r) => r.wireBytes))
          : tool !== 'crane'
            ? median(rs.map((r) => r.ownBytes))
            : undefined,
      };
      rows.push([
        phase === 'first' ? 'first push' : 're-push',
        tool,
        m[tool].wall.toFixed(2),
        m[tool].cpu.toFixed(2),
        m[tool].registryCpu.toFixed(2),
        m[tool].rss.toFixed(0),
        m[tool].requests,
        fmtBytes(m[tool].bytes),
      ]);
    }
    const ratio = m.img.wall / m.crane.wall;
    ratios.push(ratio);
    rows.push([
      '',
      'img/crane',
      ratio.toFixed(2),
      m.crane.cpu > 0 ? (m.img.cpu / m.crane.cpu).toFixed(1) : 'n/a',
      m.crane.registryCpu > 0 ? (m.img.registryCpu / m.crane.registryCpu).toFixed(2) : 'n/a',
      (m.img.rss / m.crane.rss).toFixed(1),
      (m.img.requests / m.crane.requests).toFixed(2),
      m.crane.bytes ? (m.img.bytes / m.crane.bytes).toFixed(3) : 'n/a',
    ]);
    if (m.base) {
      rows.push([
        '',
        'img/base',
        (m.img.wall / m.base.wall).toFixed(2),
        (m.img.cpu / m.base.cpu).toFixed(2),
        (m.img.registryCpu / m.base.registryCpu).toFixed(2),
        (m.img.rss / m.base.rss).toFixed(2),
        (m.img.requests / m.base.requests).toFixed(2),
        m.base.bytes ? (m.img.bytes / m.base.bytes).toFixed(3) : 'n/a',
      ]);
    }
  }
  const rem = results.img.remembered;
  const remWall = median(rem.map((r) => r.wall));
  const craneFirst = median(results.crane.first.map((r) => r.wall));
  rows.push([
    'first push, blob memory',
    'img',
    remWall.toFixed(2),
    median(rem.map((r) => r.cpu)).toFixed(2),
    median(rem.map((r) => r.registryCpu)).toFixed(2),
    median(rem.map((r) => r.rssMb)).toFixed(0),
    median(rem.map((r) => r.requests)),
    fmtBytes(counter ? median(rem.map((r) => r.wireBytes)) : median(rem.map((r) => r.ownBytes))),
  ]);
  rows.push(['', 'img/crane first', (remWall / craneFirst).toFixed(2), '', '', '', '', '']);
  // Start-up alone: what a re-push cannot go below.
  const startup = {};
  for (const [tool, argv] of [
    ['img', ['node', cli, '--help']],
    ['crane', [crane, 'version']],
    ...(baselineCli ? [['base', ['node', baselineCli, '--help']]] : []),
  ]) {
    const runs = [];
    for (let k = 0; k < 5; k++) {
      const t = performance.now();
      await run(argv[0], argv.slice(1));
      runs.push((performance.now() - t) / 1000);
    }
    startup[tool] = median(runs);
  }

  console.log(`\nmedians of ${iterations} (bytes sent = TCP bytes to the registry port, headers included)`);
  console.log(table(rows));
  console.log(
    `\nstart-up (median of 5): img --help ${startup.img.toFixed(3)} s, crane version ${startup.crane.toFixed(3)} s${startup.base === undefined ? '' : `, base --help ${startup.base.toFixed(3)} s`}`,
  );
  console.log(
    `ratio img/crane wall time: first push ${ratios[0].toFixed(2)}, re-push ${ratios[1].toFixed(2)} (target <= 1.0); first push with img's blob memory ${(remWall / craneFirst).toFixed(2)}`,
  );
  console.log(
    `load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  if (args.keep) console.log(`kept ${work}`);
} finally {
  await cleanup();
}
