#!/usr/bin/env node
// Remote cache benchmark: our REAPI client against a plain @grpc/grpc-js ByteStream loop (the floor),
// writing and reading the same size of blob through the same BuildGrid in the same run.
//
//   node bench/remote-cache/run.mjs [--size-mib 1024] [--iterations 2] [--no-build]
//
// Builds @img/remote-cache and @img/test-utils (unless --no-build), starts BuildGrid 0.4.4 on
// 127.0.0.1 (startBuildGrid, disk storage in a temp dir), then per iteration (order alternating)
// runs driver.mjs for each client in its own process, each with fresh content (so no upload is a
// no-op), and prints MB/s, client CPU, client peak RSS, BuildGrid's CPU, and the ratios img/floor.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const here = dirname(new URL(import.meta.url).pathname);
const repo = resolve(here, '../..');
const { values: args } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '1024' },
    iterations: { type: 'string', default: '2' },
    'no-build': { type: 'boolean', default: false },
  },
});
const sizeMib = Number(args['size-mib']);
const iterations = Number(args.iterations);

if (!args['no-build']) {
  const r = spawnSync(
    'npx',
    ['turbo', 'run', 'build', '--filter=@img/remote-cache', '--filter=@img/test-utils'],
    {
      cwd: repo,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (r.status !== 0) process.exit(1);
}
const { startBuildGrid } = await import(join(repo, 'packages/test-utils/dist/index.js'));

/** User+system CPU seconds of a process so far, from /proc (the server is not our child's child). */
function procCpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function runDriver(tool, endpoint, seed) {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [join(here, 'driver.mjs'), tool, endpoint, String(sizeMib), seed], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) =>
      code === 0 ? res(JSON.parse(out)) : rej(new Error(`${tool} driver exited ${code}`)),
    );
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const bg = await startBuildGrid({ instanceNames: [''] });
const results = { img: [], floor: [] };
try {
  for (let i = 0; i < iterations; i++) {
    const order = i % 2 === 0 ? ['img', 'floor'] : ['floor', 'img'];
    for (const tool of order) {
      const before = procCpuSeconds(bg.pid);
      const r = await runDriver(tool, bg.endpoint, `${tool}-${i}-${process.pid}`);
      r.serverCpuS = procCpuSeconds(bg.pid) - before;
      results[tool].push(r);
      console.log(`  round ${i + 1} ${tool.padEnd(5)} ${JSON.stringify(r)}`);
    }
  }
} finally {
  await bg.stop();
}

const mb = (sizeMib * 1024 * 1024) / 1e6;
const row = (tool) => {
  const rs = results[tool];
  return {
    write: mb / median(rs.map((r) => r.writeS)),
    read: mb / median(rs.map((r) => r.readS)),
    writeCpu: median(rs.map((r) => r.writeCpuS)),
    readCpu: median(rs.map((r) => r.readCpuS)),
    rss: median(rs.map((r) => r.maxRssMiB)),
    server: median(rs.map((r) => r.serverCpuS)),
  };
};
const img = row('img');
const floor = row('floor');
const f = (x, d = 1) => x.toFixed(d).padStart(9);
console.log(
  `\n${sizeMib} MiB blob through BuildGrid 0.4.4, median of ${iterations} (node ${process.version})`,
);
console.log('               write MB/s  read MB/s  write cpu s  read cpu s  rss MiB  buildgrid cpu s');
for (const [name, r] of [
  ['img', img],
  ['floor', floor],
]) {
  console.log(
    `${name.padStart(12)} ${f(r.write)} ${f(r.read)} ${f(r.writeCpu, 2)}  ${f(r.readCpu, 2)} ${f(r.rss, 0)} ${f(r.server, 1)}`,
  );
}
console.log(
  `${'img/floor'.padStart(12)} ${f(img.write / floor.write, 2)} ${f(img.read / floor.read, 2)} ${f(img.writeCpu / floor.writeCpu, 2)}  ${f(img.readCpu / floor.readCpu, 2)} ${f(img.rss / floor.rss, 2)} ${f(img.server / floor.server, 2)}`,
);
