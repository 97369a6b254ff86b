import { describe, expect, it } from 'vitest';
import { pushBlob, pushImageBlobs, putManifest, startTestServer } from './helpers.js';

const TTL = 60_000;
const t = await startTestServer({ ttlMs: TTL, gcIntervalMs: 0 });

async function status(path: string): Promise<number> {
  return (await fetch(`${t.base}${path}`, { method: 'HEAD' })).status;
}

describe('garbage collection (--ttl)', () => {
  it('drops what no tag reaches once it has been unreferenced for longer than the TTL, across restarts', async () => {
    const tagged = await pushImageBlobs(t.base, 'g/app', ['kept layer']);
    await putManifest(t.base, 'g/app', 'v1', tagged.manifest);
    const sig = await pushImageBlobs(t.base, 'g/app', ['signature of v1'], {
      artifactType: 'application/vnd.example.sig',
      subject: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: tagged.digest,
        size: tagged.manifest.length,
      },
    });
    await putManifest(t.base, 'g/app', sig.digest, sig.manifest);
    const untagged = await pushImageBlobs(t.base, 'g/app', ['orphan layer']);
    await putManifest(t.base, 'g/app', untagged.digest, untagged.manifest);
    const stray = await pushBlob(t.base, 'g/app', 'uploaded, never referenced');

    const now = Date.now();
    // First sight of the unreferenced objects starts their clock: nothing goes yet.
    const first = await t.server.collectGarbage(now);
    expect(first).toMatchObject({ manifestsDeleted: 0, blobLinksDeleted: 0, blobsDeleted: 0 });
    expect(first.pending).toBeGreaterThan(0);

    await t.restart(); // the clock survives in gc-state.json
    const second = await t.server.collectGarbage(now + TTL + 1);
    expect(second).toMatchObject({ manifestsDeleted: 1, blobLinksDeleted: 3, blobsDeleted: 3 });
    expect(await status(`/v2/g/app/manifests/${untagged.digest}`)).toBe(404);
    expect(await status(`/v2/g/app/blobs/${untagged.layers[0]!.digest}`)).toBe(404);
    expect(await status(`/v2/g/app/blobs/${stray.digest}`)).toBe(404);
    // The tagged image, its blobs and its referrer stay.
    expect(await status('/v2/g/app/manifests/v1')).toBe(200);
    expect(await status(`/v2/g/app/manifests/${sig.digest}`)).toBe(200);
    for (const blob of [tagged.config, ...tagged.layers, ...sig.layers]) {
      expect(await status(`/v2/g/app/blobs/${blob.digest}`)).toBe(200);
    }

    // Untag: the image and its referrer go one TTL after the collection that first sees them unreferenced.
    await fetch(`${t.base}/v2/g/app/manifests/v1`, { method: 'DELETE' });
    const later = now + TTL + 10;
    expect((await t.server.collectGarbage(later)).manifestsDeleted).toBe(0);
    expect(await t.server.collectGarbage(later + TTL + 1)).toMatchObject({
      manifestsDeleted: 2,
      blobsDeleted: 4,
    });
    expect(await status(`/v2/g/app/manifests/${tagged.digest}`)).toBe(404);
    expect(await status(`/v2/g/app/manifests/${sig.digest}`)).toBe(404);
  });
});
