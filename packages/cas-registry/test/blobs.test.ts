import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { errorCode, pushBlob, sha256, sha512, startTestServers } from './helpers.js';

const servers = await startTestServers();

for (const [store, server] of servers) {
  const t = server!;
  describe.skipIf(!server)(`blob push and pull (${store} store)`, () => {
    it('POST + PUT stores a blob; HEAD and GET serve it with its digest; ranges give 206 or 416', async () => {
      const data = randomBytes(2048);
      const { digest } = await pushBlob(t.base, 'b/one', data);
      const head = await fetch(`${t.base}/v2/b/one/blobs/${digest}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe('2048');
      expect(head.headers.get('docker-content-digest')).toBe(digest);
      const get = await fetch(`${t.base}/v2/b/one/blobs/${digest}`);
      expect(Buffer.from(await get.arrayBuffer()).equals(data)).toBe(true);

      const range = async (header: string) => {
        const res = await fetch(`${t.base}/v2/b/one/blobs/${digest}`, { headers: { range: header } });
        return {
          status: res.status,
          range: res.headers.get('content-range'),
          body: Buffer.from(await res.arrayBuffer()),
        };
      };
      expect(await range('bytes=500-1499')).toEqual({
        status: 206,
        range: 'bytes 500-1499/2048',
        body: data.subarray(500, 1500),
      });
      expect(await range('bytes=2000-5000')).toEqual({
        status: 206,
        range: 'bytes 2000-2047/2048',
        body: data.subarray(2000),
      });
      expect(await range('bytes=-100')).toEqual({
        status: 206,
        range: 'bytes 1948-2047/2048',
        body: data.subarray(1948),
      });
      expect((await range('bytes=500-0')).status).toBe(416);
      const past = await range('bytes=5000-6000');
      expect([past.status, past.range]).toEqual([416, 'bytes */2048']);
    });

    it('a blob of another repository is not served here until it is mounted; a missing one mounts as a new upload', async () => {
      const { digest } = await pushBlob(t.base, 'b/source', 'mount me');
      expect((await fetch(`${t.base}/v2/b/target/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);
      const mount = await fetch(`${t.base}/v2/b/target/blobs/uploads/?mount=${digest}&from=b/source`, {
        method: 'POST',
      });
      expect(mount.status).toBe(201);
      expect(mount.headers.get('location')).toBe(`/v2/b/target/blobs/${digest}`);
      expect(await (await fetch(`${t.base}/v2/b/target/blobs/${digest}`)).text()).toBe('mount me');

      const missing = await fetch(
        `${t.base}/v2/b/target/blobs/uploads/?mount=${sha256('nowhere')}&from=b/source`,
        {
          method: 'POST',
        },
      );
      expect(missing.status).toBe(202);
      expect(missing.headers.get('location')).toMatch(/^\/v2\/b\/target\/blobs\/uploads\/[0-9a-f-]{36}$/);
    });

    it('a single POST with ?digest= stores the blob; content that does not match is refused and not stored', async () => {
      const ok = await fetch(`${t.base}/v2/b/post/blobs/uploads/?digest=${sha256('single')}`, {
        method: 'POST',
        body: 'single',
      });
      expect(ok.status).toBe(201);
      const bad = await fetch(`${t.base}/v2/b/post/blobs/uploads/?digest=${sha256('claimed')}`, {
        method: 'POST',
        body: 'other',
      });
      expect([bad.status, await errorCode(bad)]).toEqual([400, 'DIGEST_INVALID']);
      expect((await fetch(`${t.base}/v2/b/post/blobs/${sha256('claimed')}`, { method: 'HEAD' })).status).toBe(
        404,
      );
    });

    it('chunks must come in order: an out-of-order chunk is a 416 with the Range to resume from', async () => {
      const data = randomBytes(3000);
      const digest = sha256(data);
      const start = await fetch(`${t.base}/v2/b/chunks/blobs/uploads/`, { method: 'POST' });
      let location = new URL(start.headers.get('location')!, t.base);
      const patch = (from: number, to: number) =>
        fetch(location, {
          method: 'PATCH',
          body: data.subarray(from, to + 1),
          headers: { 'content-range': `${from}-${to}`, 'content-type': 'application/octet-stream' },
        });
      const first = await patch(0, 999);
      expect([first.status, first.headers.get('range')]).toEqual([202, '0-999']);
      location = new URL(first.headers.get('location')!, t.base);
      const skipped = await patch(2000, 2999);
      expect([skipped.status, skipped.headers.get('range')]).toEqual([416, '0-999']);
      const status = await fetch(location);
      expect([status.status, status.headers.get('range')]).toEqual([204, '0-999']);
      expect((await patch(1000, 1999)).status).toBe(202);
      // The last chunk travels with the closing PUT.
      location.searchParams.set('digest', digest);
      const put = await fetch(location, {
        method: 'PUT',
        body: data.subarray(2000),
        headers: { 'content-range': '2000-2999', 'content-type': 'application/octet-stream' },
      });
      expect(put.status).toBe(201);
      expect(
        Buffer.from(await (await fetch(`${t.base}/v2/b/chunks/blobs/${digest}`)).arrayBuffer()).equals(data),
      ).toBe(true);
    });

    it('a closing PUT with the wrong digest is a 400 DIGEST_INVALID and ends the upload', async () => {
      const start = await fetch(`${t.base}/v2/b/chunks/blobs/uploads/`, { method: 'POST' });
      const location = new URL(start.headers.get('location')!, t.base);
      await fetch(location, { method: 'PATCH', body: 'some bytes' });
      const put = new URL(location);
      put.searchParams.set('digest', sha256('other bytes'));
      const res = await fetch(put, { method: 'PUT' });
      expect([res.status, await errorCode(res)]).toEqual([400, 'DIGEST_INVALID']);
      const after = await fetch(location);
      expect([after.status, await errorCode(after)]).toEqual([404, 'BLOB_UPLOAD_UNKNOWN']);
    });

    it('verifies sha512 digests (digest-algorithm on the POST, or hashing again at the end)', async () => {
      const data = randomBytes(1500);
      for (const query of ['?digest-algorithm=sha512', '']) {
        const start = await fetch(`${t.base}/v2/b/sha512/blobs/uploads/${query}`, { method: 'POST' });
        expect(start.status).toBe(202);
        const location = new URL(start.headers.get('location')!, t.base);
        location.searchParams.set('digest', sha512(data));
        expect((await fetch(location, { method: 'PUT', body: data })).status).toBe(201);
      }
      const get = await fetch(`${t.base}/v2/b/sha512/blobs/${sha512(data)}`);
      expect(get.headers.get('docker-content-digest')).toBe(sha512(data));
      const bad = await fetch(`${t.base}/v2/b/sha512/blobs/uploads/?digest-algorithm=md5`, {
        method: 'POST',
      });
      expect([bad.status, await errorCode(bad)]).toEqual([400, 'DIGEST_INVALID']);
    });

    it('cancels uploads and deletes blobs from a repository', async () => {
      const start = await fetch(`${t.base}/v2/b/del/blobs/uploads/`, { method: 'POST' });
      const location = new URL(start.headers.get('location')!, t.base);
      expect((await fetch(location, { method: 'DELETE' })).status).toBe(204);
      expect((await fetch(location)).status).toBe(404);
      const { digest } = await pushBlob(t.base, 'b/del', 'delete me');
      expect((await fetch(`${t.base}/v2/b/del/blobs/${digest}`, { method: 'DELETE' })).status).toBe(202);
      expect((await fetch(`${t.base}/v2/b/del/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);
      const again = await fetch(`${t.base}/v2/b/del/blobs/${digest}`, { method: 'DELETE' });
      expect([again.status, await errorCode(again)]).toEqual([404, 'BLOB_UNKNOWN']);
    });
  });
}
