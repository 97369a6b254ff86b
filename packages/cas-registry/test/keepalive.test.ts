import { randomBytes } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import type { Digest } from '@img/oci-spec';
import { connectRemoteCache } from '@img/remote-cache';
import { ciRequires, startBuildGrid, type TestBuildGrid } from '@img/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { KEEPALIVE_CHANNEL, type KeepAliveReport } from '../src/index.js';
import {
  errorCode,
  FAST_RETRY,
  type ImageFixture,
  pushImageBlobs,
  putManifest,
  sha256,
  startTestServer,
  type TestServer,
} from './helpers.js';

const needs = ciRequires('bgd');
/** BuildGrid keeps at most this much, evicting the least recently used blob (FindMissingBlobs is a use). */
const CAS_BYTES = 4 * 1024 * 1024;
const LAYER_BYTES = 512 * 1024;

let bg: TestBuildGrid | undefined;
let t: TestServer | undefined;
if (!needs.skip) {
  bg = await startBuildGrid({ instanceNames: [''], lruStorageBytes: CAS_BYTES });
  t = await startTestServer({ store: 'cas', buildGrid: bg, keepAlive: { intervalMs: 200, maxBlobs: 2 } });
}
afterAll(() => bg?.stop());

/** The next keepalive pass the server publishes. */
function nextPass(): Promise<KeepAliveReport> {
  return new Promise((resolve) => {
    const listener = (message: unknown) => {
      diagnostics.unsubscribe(KEEPALIVE_CHANNEL, listener);
      resolve(message as KeepAliveReport);
    };
    diagnostics.subscribe(KEEPALIVE_CHANNEL, listener);
  });
}

function blobsOf(img: ImageFixture) {
  return [img.config, ...img.layers].map((b) => ({ digest: b.digest as Digest, size: b.size }));
}

describe.skipIf(needs.skip)('--cas-keepalive against a CAS that evicts (BuildGrid LRU storage)', () => {
  it('keeps the most recently used live blobs, up to maxBlobs, while the cache evicts the others', async () => {
    const s = t!;
    const a = await pushImageBlobs(s.base, 'keep/a', [randomBytes(LAYER_BYTES).toString('base64')]);
    expect((await putManifest(s.base, 'keep/a', 'v1', a.manifest)).status).toBe(201);
    const b = await pushImageBlobs(s.base, 'keep/b', [randomBytes(LAYER_BYTES).toString('base64')]);
    expect((await putManifest(s.base, 'keep/b', 'v1', b.manifest)).status).toBe(201);
    // A is pulled last: its two blobs are the most recently used; B's are live but older.
    for (const blob of [a.layers[0]!, a.config]) {
      expect((await fetch(`${s.base}/v2/keep/a/blobs/${blob.digest}`)).status).toBe(200);
    }

    // A build fills the cache: 3 times its size, one blob at a time, a keepalive pass after each.
    const filler = connectRemoteCache(bg!.endpoint, { retry: FAST_RETRY });
    let last: KeepAliveReport | undefined;
    try {
      for (let written = 0; written < 3 * CAS_BYTES; written += LAYER_BYTES) {
        const data = randomBytes(LAYER_BYTES);
        await filler.writeBlob({ digest: sha256(data) as Digest, size: data.length }, data);
        last = await nextPass();
      }
      expect(last).toMatchObject({ live: 4, refreshed: 2, missing: [] });
      expect(await filler.findMissingBlobs(blobsOf(a))).toEqual([]);
      // The same age, not kept alive (over maxBlobs): evicted.
      expect(await filler.findMissingBlobs(blobsOf(b))).toEqual(blobsOf(b));
    } finally {
      filler.close();
    }

    const pulled = await fetch(`${s.base}/v2/keep/a/blobs/${a.layers[0]!.digest}`);
    expect((await pulled.arrayBuffer()).byteLength).toBe(a.layers[0]!.size);
    const lost = await fetch(`${s.base}/v2/keep/b/blobs/${b.layers[0]!.digest}`);
    expect([lost.status, await errorCode(lost)]).toEqual([404, 'BLOB_UNKNOWN']);
    // B's tag still resolves (manifests are not in the CAS); its blobs come back when pushed again.
    expect((await fetch(`${s.base}/v2/keep/b/manifests/v1`)).status).toBe(200);
  });
});
