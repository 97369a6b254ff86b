#!/usr/bin/env node
// Registry server benchmark: `img registry serve` (blobs in files, and blobs in a BuildGrid CAS with
// --reapi-endpoint) against Debian's docker-registry, same client (crane), same image, same run.
//
//   node bench/registry/run.mjs [--size-mib 512] [--layers 4] [--iterations 3] [--no-build] [--keep]
//
// 1. Builds the CLI and @img/test-utils (turbo) unless --no-build.
// 2. Writes an OCI layout: `--layers` gzip layers (level 0: stored blocks, so generating them costs
//    nothing) of one incompressible file each, `--size-mib` in total, a config with the right diff_ids.
// 3. Starts the registries on 127.0.0.1 (ours with `img registry serve --port 0`, once on files and once
//    with `--reapi-endpoint` on a BuildGrid from startBuildGrid; docker-registry with startRegistry from
//    @img/test-utils), then per iteration, in rotating order: `crane push` of the layout to a fresh
//    repository, then `crane pull --format oci` of it.
// 4. Prints per operation the wall time and the registry process's CPU (user+sys, from /proc; for the
//    CAS registry also BuildGrid's), then the medians, the ratios to docker-registry, and each
//    registry's peak RSS (VmHWM) over the run.
// 5. The cas_registry push: the layers are already in the CAS (the build wrote them there), so a push
//    to a fresh repository is the config and the manifest; timed against `crane push` of the whole
//    image to a fresh repository of the file registry, with the bytes each sent.
import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';

const repo = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const { values: args } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '512' },
    layers: { type: 'string', default: '4' },
    iterations: { type: 'string', default: '3' },
    'no-build': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const sizeMib = Number(args['size-mib']);
const layerCount = Number(args.layers);
const iterations = Number(args.iterations);
const cli = join(repo, 'packages/cli/dist/bin.cjs');
const crane = join(repo, '.tools/bin/crane');

function fail(message) {
  console.error(`bench/registry: ${message}`);
  process.exit(1);
}
if (spawnSync('sh', ['-c', 'command -v docker-registry']).status !== 0) fail('docker-registry not found');
if (spawnSync(crane, ['version']).status !== 0)
  fail(`${crane} not found (run scripts/install-test-tools.sh)`);

function run(cmd, argv) {
  return new Promise((done, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? done() : reject(new Error(`${cmd} ${argv.join(' ')}: ${code}\n${err}`)),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// The image: each layer a tar of one incompressible file, gzip level 0, written streaming.

function tarHeader(name, size) {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'ascii');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

async function writeLayer(dir, index, size) {
  const key = createHash('sha256').update(`bench/registry layer ${index}`).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  const diff = createHash('sha256');
  const blob = createHash('sha256');
  const tmp = join(dir, 'blobs', 'sha256', `layer-${index}.partial`);
  const out = createWriteStream(tmp);
  const gzip = createGzip({ level: 0 });
  let written = 0;
  gzip.on('data', (chunk) => {
    blob.update(chunk);
    written += chunk.length;
    if (!out.write(chunk)) gzip.pause();
  });
  out.on('drain', () => gzip.resume());
  const feed = async (chunk) => {
    diff.update(chunk);
    if (!gzip.write(chunk)) await new Promise((r) => gzip.once('drain', r));
  };
  await feed(tarHeader(`data-${index}.bin`, size));
  const zero = Buffer.alloc(1 << 20);
  for (let left = size; left > 0; left -= zero.length)
    await feed(cipher.update(zero.subarray(0, Math.min(left, zero.length))));
  await feed(Buffer.alloc(((512 - (size % 512)) % 512) + 1024));
  const ended = new Promise((r) => gzip.once('end', r));
  gzip.end();
  await ended;
  await new Promise((r) => out.end(r));
  const digest = `sha256:${blob.digest('hex')}`;
  await rename(tmp, join(dir, 'blobs', 'sha256', digest.slice(7)));
  return {
    layer: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: written },
    diffId: `sha256:${diff.digest('hex')}`,
  };
}

async function writeBlob(dir, bytes, mediaType) {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
  return { mediaType, digest, size: bytes.length };
}

async function writeLayout(dir) {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const layers = [];
  const diffIds = [];
  const each = Math.floor((sizeMib * 1024 * 1024) / layerCount);
  for (let i = 0; i < layerCount; i++) {
    const { layer, diffId } = await writeLayer(dir, i, each);
    layers.push(layer);
    diffIds.push(diffId);
  }
  const config = await writeBlob(
    dir,
    Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }),
    ),
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = await writeBlob(
    dir,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config,
        layers,
      }),
    ),
    'application/vnd.oci.image.manifest.v1+json',
  );
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [manifest] }));
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  return layers.reduce((n, l) => n + l.size, 0);
}

// ---------------------------------------------------------------------------------------------
// Measuring.

async function processCpu(pid) {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
}

async function peakRssMib(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function timed(server, fn) {
  const cpu0 = await processCpu(server.pid);
  const cache0 = server.cachePid ? await processCpu(server.cachePid) : 0;
  const t0 = performance.now();
  await fn();
  const wall = (performance.now() - t0) / 1000;
  const cpu = (await processCpu(server.pid)) - cpu0;
  return { wall, cpu, cacheCpu: server.cachePid ? (await processCpu(server.cachePid)) - cache0 : 0 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function startImgRegistry(storage, name = 'img registry serve', extra = []) {
  const child = spawn(
    process.execPath,
    [cli, 'registry', 'serve', '--port', '0', '--storage', storage, ...extra],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [address] = await new Promise((done, reject) => {
    createInterface({ input: child.stdout }).once('line', (l) => done([l]));
    child.once('exit', (code) => reject(new Error(`img registry serve exited ${code}`)));
  });
  return {
    name,
    address,
    pid: child.pid,
    stop: () => new Promise((done) => child.once('exit', done).kill('SIGTERM')),
  };
}

/**
 * The cas_registry push: the image's layers are in the CAS already (the build wrote them), so the
 * push is the config (POST ?digest=) and the manifest (its descriptors tell the registry the layer
 * sizes, which is all the CAS needs to find them). Against a full `crane push` to the file registry.
 */
async function casRegistryPush(layout, cas, files) {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  const manifestBytes = await readFile(join(layout, 'blobs', 'sha256', index.manifests[0].digest.slice(7)));
  const manifest = JSON.parse(manifestBytes.toString());
  const config = await readFile(join(layout, 'blobs', 'sha256', manifest.config.digest.slice(7)));
  const image = manifest.layers.reduce((n, l) => n + l.size, 0) + config.length + manifestBytes.length;
  const walls = [];
  const baseline = [];
  for (let i = 0; i < iterations; i++) {
    const repo = `bench/cas-push${i}`;
    const t0 = performance.now();
    const post = await fetch(
      `http://${cas.address}/v2/${repo}/blobs/uploads/?digest=${manifest.config.digest}`,
      {
        method: 'POST',
        body: config,
      },
    );
    const put = await fetch(`http://${cas.address}/v2/${repo}/manifests/latest`, {
      method: 'PUT',
      body: manifestBytes,
      headers: { 'content-type': manifest.mediaType },
    });
    walls.push((performance.now() - t0) / 1000);
    if (post.status !== 201 || put.status !== 201) fail(`cas_registry push: ${post.status} / ${put.status}`);
    baseline.push(
      (
        await timed(files, () =>
          run(crane, ['push', '--insecure', layout, `${files.address}/bench/full${i}:latest`]),
        )
      ).wall,
    );
  }
  const sent = config.length + manifestBytes.length;
  console.log(
    `\ncas_registry push (layers already in the CAS) vs crane push of the whole image (file registry), medians:` +
      `\n  cas_registry ${median(walls).toFixed(3)} s, ${sent} bytes sent (${((100 * sent) / image).toFixed(4)} % of the image)` +
      `\n  crane push   ${median(baseline).toFixed(3)} s, ${image} bytes sent` +
      `\n  ratio cas_registry / crane push: wall ${(median(walls) / median(baseline)).toFixed(4)}`,
  );
}

// ---------------------------------------------------------------------------------------------

if (!args['no-build']) {
  console.log('building the CLI and test-utils (turbo)...');
  await run('pnpm', ['turbo', 'run', 'build', '--filter=@img/cli', '--filter=@img/test-utils']);
}
const { startRegistry, startBuildGrid } = await import(join(repo, 'packages/test-utils/dist/index.js'));
const work = await mkdtemp(join(tmpdir(), 'img-bench-registry-'));
const servers = [];
try {
  const layout = join(work, 'layout');
  const t0 = performance.now();
  const bytes = await writeLayout(layout);
  console.log(
    `image: ${layerCount} layers, ${(bytes / 2 ** 20).toFixed(0)} MiB (${((performance.now() - t0) / 1000).toFixed(1)} s to write)`,
  );
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${spawnSync('nproc').stdout.toString().trim()} cores`,
  );

  const ours = await startImgRegistry(join(work, 'img-storage'));
  servers.push(ours);
  const bg = await startBuildGrid({ instanceNames: [''] });
  const cas = await startImgRegistry(join(work, 'img-cas-storage'), 'img registry (CAS)', [
    '--reapi-endpoint',
    bg.endpoint,
  ]);
  const stopCas = async () => {
    await cas.stop();
    await bg.stop();
  };
  servers.push({ ...cas, cachePid: bg.pid, stop: stopCas });
  const theirs = await startRegistry();
  servers.push({ name: 'docker-registry', address: theirs.url, pid: theirs.pid, stop: () => theirs.stop() });

  const results = new Map(servers.map((s) => [s.name, { push: [], pull: [] }]));
  for (let i = 0; i < iterations; i++) {
    const order = servers.map((_, k) => servers[(k + i) % servers.length]);
    for (const s of order) {
      const ref = `${s.address}/bench/run${i}:latest`;
      const push = await timed(s, () => run(crane, ['push', '--insecure', layout, ref]));
      const out = join(work, `pull-${i}`);
      const pull = await timed(s, () => run(crane, ['pull', '--insecure', '--format', 'oci', ref, out]));
      await rm(out, { recursive: true, force: true });
      results.get(s.name).push.push(push);
      results.get(s.name).pull.push(pull);
      const cache = (x) => (s.cachePid ? ` + BuildGrid ${x.cacheCpu.toFixed(2)} s` : '');
      console.log(
        `  #${i} ${s.name.padEnd(18)} push ${push.wall.toFixed(2)} s (registry CPU ${push.cpu.toFixed(2)} s${cache(push)})   pull ${pull.wall.toFixed(2)} s (registry CPU ${pull.cpu.toFixed(2)} s${cache(pull)})`,
      );
    }
  }
  console.log('\nmedians (wall s / registry CPU s), and registry peak RSS over the run:');
  const gib = bytes / 2 ** 30;
  const summary = {};
  for (const s of servers) {
    const r = results.get(s.name);
    const row = {
      push: median(r.push.map((x) => x.wall)),
      pushCpu: median(r.push.map((x) => x.cpu)),
      pull: median(r.pull.map((x) => x.wall)),
      pullCpu: median(r.pull.map((x) => x.cpu)),
      cacheCpu: median(r.push.map((x) => x.cacheCpu)) + median(r.pull.map((x) => x.cacheCpu)),
      rss: await peakRssMib(s.pid),
    };
    summary[s.name] = row;
    console.log(
      `  ${s.name.padEnd(18)} push ${row.push.toFixed(2)} / ${row.pushCpu.toFixed(2)}   pull ${row.pull.toFixed(2)} / ${row.pullCpu.toFixed(2)}   ` +
        `(${(row.pushCpu / gib).toFixed(2)} + ${(row.pullCpu / gib).toFixed(2)} CPU s per GiB)   peak RSS ${row.rss.toFixed(0)} MiB` +
        (s.cachePid ? `   (+ BuildGrid CPU ${row.cacheCpu.toFixed(2)} s per push+pull)` : ''),
    );
  }
  const b = summary['docker-registry'];
  for (const name of ['img registry serve', 'img registry (CAS)']) {
    const a = summary[name];
    console.log(
      `${name} / docker-registry: push wall ${(a.push / b.push).toFixed(2)}, push CPU ${(a.pushCpu / b.pushCpu).toFixed(2)}, ` +
        `pull wall ${(a.pull / b.pull).toFixed(2)}, pull CPU ${(a.pullCpu / b.pullCpu).toFixed(2)}, peak RSS ${(a.rss / b.rss).toFixed(2)}`,
    );
  }
  await casRegistryPush(layout, servers[1], servers[0]);
  const used = await stat(join(work, 'img-storage')).catch(() => undefined);
  if (!used) fail('img registry storage missing');
} finally {
  for (const s of servers) await s.stop();
  if (!args.keep) await rm(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
