// Child process for large-blob.test.ts: writes and reads one large blob through the remote cache
// and prints {"bytes", "writeMs", "readMs", "maxRssMiB"} as JSON. Usage: ENDPOINT SIZE_MIB
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { sha256FromHex } from '@img/oci-spec';
import { connectRemoteCache } from '../../src/index.js';

const [endpoint, sizeMiB] = process.argv.slice(2) as [string, string];
const MIB = 1024 * 1024;
const count = Number(sizeMiB);
const base = randomBytes(MIB);
function* chunks(): Generator<Buffer> {
  for (let i = 0; i < count; i++) {
    const chunk = Buffer.from(base);
    chunk.writeUInt32BE(i, 0);
    yield chunk;
  }
}
const hash = createHash('sha256');
for (const chunk of chunks()) hash.update(chunk);
const blob = { digest: sha256FromHex(hash.digest('hex')), size: count * MIB };
const cache = connectRemoteCache(endpoint);
let t = performance.now();
await cache.writeBlob(blob, { open: async () => Readable.from(chunks()) });
const writeMs = performance.now() - t;
t = performance.now();
let bytes = 0;
for await (const chunk of await cache.openBlob(blob)) bytes += (chunk as Buffer).length;
const readMs = performance.now() - t;
cache.close();
console.log(JSON.stringify({ bytes, writeMs, readMs, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
