import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pushImageBlobs, putManifest, sha256, startTestServers } from './helpers.js';

const servers = await startTestServers();

for (const [store, server] of servers) {
  const t = server!;
  describe.skipIf(!server)(`a restart (${store} store)`, () => {
    it('keeps every tag, manifest, blob and referrer', async () => {
      const tags = ['v1', 'v2', 'latest'];
      const img = await pushImageBlobs(t.base, 'r/app', ['layer a', 'layer b']);
      for (const tag of tags)
        expect((await putManifest(t.base, 'r/app', tag, img.manifest)).status).toBe(201);
      const sig = await pushImageBlobs(t.base, 'r/app', ['signature'], {
        artifactType: 'application/vnd.example.sig',
        subject: {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: img.digest,
          size: img.manifest.length,
        },
      });
      await putManifest(t.base, 'r/app', sig.digest, sig.manifest);

      await t.restart();

      const list = (await (await fetch(`${t.base}/v2/r/app/tags/list`)).json()) as { tags: string[] };
      expect(list.tags).toEqual(['latest', 'v1', 'v2']);
      for (const tag of tags) {
        const res = await fetch(`${t.base}/v2/r/app/manifests/${tag}`);
        expect(res.headers.get('docker-content-digest')).toBe(img.digest);
      }
      expect(await (await fetch(`${t.base}/v2/r/app/blobs/${img.layers[1]!.digest}`)).text()).toBe('layer b');
      const referrers = (await (await fetch(`${t.base}/v2/r/app/referrers/${img.digest}`)).json()) as {
        manifests: Array<{ digest: string }>;
      };
      expect(referrers.manifests.map((m) => m.digest)).toEqual([sig.digest]);
    });

    it('keeps an upload in progress: it resumes where it stopped and is verified in full at the end', async () => {
      const data = randomBytes(5000);
      const start = await fetch(`${t.base}/v2/r/upload/blobs/uploads/`, { method: 'POST' });
      const location = new URL(start.headers.get('location')!, t.base);
      await fetch(location, {
        method: 'PATCH',
        body: data.subarray(0, 3000),
        headers: { 'content-range': '0-2999' },
      });

      await t.restart();

      const status = await fetch(location);
      expect([status.status, status.headers.get('range')]).toEqual([204, '0-2999']);
      const put = new URL(location);
      put.searchParams.set('digest', sha256(data));
      const res = await fetch(put, {
        method: 'PUT',
        body: data.subarray(3000),
        headers: { 'content-range': '3000-4999' },
      });
      expect(res.status).toBe(201);
      const back = Buffer.from(
        await (await fetch(`${t.base}/v2/r/upload/blobs/${sha256(data)}`)).arrayBuffer(),
      );
      expect(back.equals(data)).toBe(true);
    });
  });
}
