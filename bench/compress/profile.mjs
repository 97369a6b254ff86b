// Where the time goes when we write a layer: runs bench/compress/driver.mjs under `node --cpu-prof`
// (the main thread and every compression worker get a profile) and prints, per thread, the sampled
// time by category (deflate, zstd, sha256, CRC-32, file system, tar encoding, GC, idle, ...) and the
// top functions by self time.
//
//   node bench/compress/profile.mjs [tree] [gzip|zstd|none] [level] [single|N]
//
// Defaults: bench/.work/usr-share (run.mjs makes it), gzip, 6, 2. Env: BENCH_DIST (the layer-writer
// dist dir), BENCH_NODE, PROFILE_TOP (functions listed per thread, default 12), PROFILE_KEEP=1.
// Sampled times are wall-clock samples of each thread: on a loaded machine a thread that waits for a
// core is charged to whatever it was running, so read the shares, not the seconds.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const [tree = join(root, 'bench/.work/usr-share'), format = 'gzip', level = '6', jobs = '2'] =
  process.argv.slice(2);
const dist = process.env.BENCH_DIST ?? join(root, 'packages/layer-writer/dist');
const node = process.env.BENCH_NODE ?? process.execPath;
const top = Number(process.env.PROFILE_TOP ?? 12);

const dir = mkdtempSync(join(tmpdir(), 'img-profile-'));
try {
  const load = loadavg()[0];
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      '%e %U %S %M',
      node,
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
      join(here, 'driver.mjs'),
      dist,
      tree,
      join(dir, 'layer.out'),
      format,
      level,
      jobs,
      join(dir, 'layer.json'),
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`driver failed:\n${r.stderr}`);
  const [wall, user, sys, rss] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  console.log(
    `${format} -${level}, jobs ${jobs}: ${wall} s wall, ${(user + sys).toFixed(2)} s CPU, ` +
      `${(rss / 1024).toFixed(0)} MiB peak RSS (with the profiler), load ${load.toFixed(1)}`,
  );
  const profiles = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => summarize(JSON.parse(readFileSync(join(dir, f), 'utf8'))))
    .sort((a, b) => b.total - a.total);
  for (const [i, p] of profiles.entries()) {
    const name = i === 0 || p.categories.has('tar + walk (layer-writer JS)') ? 'main thread' : `worker ${i}`;
    console.log(`\n== ${name}: ${(p.total / 1000).toFixed(2)} s sampled`);
    const rows = [...p.categories].sort((a, b) => b[1] - a[1]);
    for (const [cat, ms] of rows) {
      console.log(`  ${cat.padEnd(22)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${pct(ms, p.total)}`);
    }
    console.log('  top self time:');
    for (const [fn, ms] of [...p.functions].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`    ${(ms / 1000).toFixed(2).padStart(7)} s  ${pct(ms, p.total)}  ${fn}`);
    }
  }
} finally {
  if (process.env.PROFILE_KEEP) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

function pct(part, whole) {
  return `${((100 * part) / whole).toFixed(1).padStart(5)}%`;
}

// The category of a node's self time: by the function that runs (native calls are charged to the JS
// function that made them), and for anonymous frames by their file.
function category(fn, url) {
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return 'V8/native other';
  if (/deflate|zlibBuffer|processChunkSync|zlibOnError|^writeSync$/i.test(fn) && /zlib|eval/.test(url))
    return 'deflate';
  if (/zstd/i.test(fn)) return 'zstd';
  if (fn === 'crc32') return 'CRC-32';
  if (/^(update|digest|createHash|Hash)$/.test(fn)) return 'sha256';
  if (
    /^(readSync|read|readdirSync|lstatSync|statSync|openSync|closeSync|fstatSync|readlinkSync|open|close|stat|write|writev|fsync|rename)$/.test(
      fn,
    )
  )
    return 'file system';
  if (/postMessage|onmessage|emitMessage|structuredClone|MessagePort/i.test(fn + url))
    return 'worker messages';
  if (
    /layer-writer|tar-|plan|walk|entries|paths|metadata|dedup|layer-tar/.test(url) ||
    url.endsWith('dist/index.js')
  )
    return 'tar + walk (layer-writer JS)';
  if (/node:internal\/streams|stream/.test(url)) return 'streams';
  if (url === '' || url.startsWith('node:')) return 'node internals';
  return 'other JS';
}

function summarize(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0) / 1000);
  }
  const categories = new Map();
  const functions = new Map();
  let total = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id);
    const fn = n.callFrame.functionName || '(anonymous)';
    const url = n.callFrame.url;
    const cat = category(fn, url);
    categories.set(cat, (categories.get(cat) ?? 0) + ms);
    const key = `${fn} ${url.replace(/^.*\//, '')}:${n.callFrame.lineNumber + 1}`;
    functions.set(key, (functions.get(key) ?? 0) + ms);
    total += ms;
  }
  return { total, categories, functions };
}
