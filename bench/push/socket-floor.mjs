#!/usr/bin/env node
// The floor of a Node upload: CPU to read a file and write it to a loopback TCP socket, with no HTTP,
// no hashing, nothing else. Node has no sendfile(2), so every byte is copied into the process and back
// into the kernel; crane (Go) hands the file to the socket with sendfile and spends ~0.08 s per GiB.
//
//   node bench/push/socket-floor.mjs [FILE] [--chunk BYTES]     (default: a 1 GiB temp file, 1 MiB chunks)
import { fork } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

if (process.argv[2] === '--sink') {
  // Child: accept one connection and drop its bytes (its CPU is not the sender's).
  const server = net.createServer((s) => {
    s.on('data', () => {});
    s.on('end', () => {
      s.end();
      server.close(() => process.exit(0));
    });
  });
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { chunk: { type: 'string' } },
  });
  const chunk = Number(values.chunk ?? 1024 * 1024);
  let file = positionals[0];
  let dir;
  if (!file) {
    dir = await mkdtemp(join(tmpdir(), 'img-socket-floor-'));
    file = join(dir, 'payload.bin');
    const h = await open(file, 'w');
    const block = Buffer.alloc(16 * 1024 * 1024, 0x5a);
    for (let i = 0; i < 64; i++) await h.write(block);
    await h.close();
  }
  const size = (await stat(file)).size;
  for await (const _ of createReadStream(file)); // warm the page cache
  const sink = fork(fileURLToPath(import.meta.url), ['--sink']);
  const port = await new Promise((r) => sink.once('message', r));
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await pipeline(createReadStream(file, { highWaterMark: chunk }), socket);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const gib = size / 2 ** 30;
  const perGiB = (us) => (us / 1e6 / gib).toFixed(2);
  console.log(
    `file -> loopback socket, ${(size / 2 ** 20).toFixed(0)} MiB in ${chunk} B chunks: wall ${wall.toFixed(2)} s, ` +
      `CPU per GiB ${perGiB(cpu.user + cpu.system)} s (user ${perGiB(cpu.user)}, system ${perGiB(cpu.system)})`,
  );
  socket.on('error', () => {}); // the sink closes once it has read everything
  await new Promise((r) => sink.once('exit', r));
  if (dir) await rm(dir, { recursive: true, force: true });
}
