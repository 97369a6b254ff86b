#!/usr/bin/env node
// One client of bench/remote-cache/run.mjs: writes then reads one blob of deterministic content
// through a REAPI cache and prints {"writeS","readS","writeCpuS","readCpuS","maxRssMiB","bytes"} as JSON.
//
//   node driver.mjs img|floor ENDPOINT SIZE_MIB SEED
//
// img:   @img/remote-cache (dist): writeBlob (verified on the way, 1 MiB messages) + openBlob (verified,
//        resumable ByteStream read).
// floor: a plain @grpc/grpc-js loop over the same protos: ByteStream.Write of 1 MiB messages, then
//        ByteStream.Read with nothing checked - what any client must at least spend.
import { createCipheriv, createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';

const repo = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const pkg = join(repo, 'packages/remote-cache');
const [tool, endpoint, sizeMibText, seed] = process.argv.slice(2);
const MIB = 1024 * 1024;
const size = Number(sizeMibText) * MIB;

/** AES-128-CTR keystream of `size` bytes from `seed`, in 1 MiB chunks: incompressible, reproducible. */
function* content() {
  const key = createHash('sha256').update(`remote-cache-bench:${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(MIB);
  for (let done = 0; done < size; done += MIB)
    yield cipher.update(zeros.subarray(0, Math.min(MIB, size - done)));
}

const hash = createHash('sha256');
for (const chunk of content()) hash.update(chunk);
const hex = hash.digest('hex');

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const result = { bytes: 0 };
let t0 = performance.now();
let c0 = cpu();
const lap = (name) => {
  result[`${name}S`] = (performance.now() - t0) / 1000;
  result[`${name}CpuS`] = cpu() - c0;
  t0 = performance.now();
  c0 = cpu();
};

if (tool === 'img') {
  const { connectRemoteCache } = await import(join(pkg, 'dist/index.js'));
  const cache = connectRemoteCache(endpoint);
  const blob = { digest: `sha256:${hex}`, size };
  await cache.capabilities();
  t0 = performance.now();
  c0 = cpu();
  await cache.writeBlob(blob, { open: async () => Readable.from(content()) });
  lap('write');
  for await (const chunk of await cache.openBlob(blob)) result.bytes += chunk.length;
  lap('read');
  cache.close();
} else if (tool === 'floor') {
  const require = createRequire(join(pkg, 'package.json'));
  const grpc = require('@grpc/grpc-js');
  const protoLoader = require('@grpc/proto-loader');
  const def = protoLoader.loadSync(['google/bytestream/bytestream.proto'], {
    includeDirs: [join(pkg, 'protos')],
    keepCase: true,
    longs: Number,
    defaults: true,
  });
  const ByteStream = grpc.loadPackageDefinition(def).google.bytestream.ByteStream;
  const client = new ByteStream(endpoint.replace(/^grpc:\/\//, ''), grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': 8 * MIB,
  });
  await new Promise((res, rej) => client.waitForReady(Date.now() + 10_000, (e) => (e ? rej(e) : res())));
  t0 = performance.now();
  c0 = cpu();
  const resource = `uploads/${randomUUID()}/blobs/${hex}/${size}`;
  await new Promise((res, rej) => {
    const call = client.Write((err, r) => (err ? rej(err) : res(r)));
    (async () => {
      let offset = 0;
      for (const data of content()) {
        const finish = offset + data.length === size;
        const ok = call.write({
          resource_name: offset === 0 ? resource : '',
          write_offset: offset,
          finish_write: finish,
          data,
        });
        offset += data.length;
        if (!ok) await once(call, 'drain');
      }
      call.end();
    })().catch(rej);
  });
  lap('write');
  await new Promise((res, rej) => {
    const call = client.Read({ resource_name: `blobs/${hex}/${size}`, read_offset: 0, read_limit: 0 });
    call.on('data', (m) => {
      result.bytes += m.data.length;
    });
    call.on('end', res);
    call.on('error', rej);
  });
  lap('read');
  client.close();
} else {
  throw new Error(`unknown tool ${tool} (img or floor)`);
}
result.maxRssMiB = process.resourceUsage().maxRSS / 1024;
if (result.bytes !== size) throw new Error(`${tool}: read ${result.bytes} of ${size} bytes`);
console.log(JSON.stringify(result));
