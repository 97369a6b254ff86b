import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type BlobDigest, FileBlobStore, type OpenBlobOptions } from '../src/index.js';
import { errorCode, pushBlob, pushImageBlobs, putManifest, sha256, startTestServer } from './helpers.js';

const t = await startTestServer({ maxBlobBytes: 4096, maxUploads: 3 });

/** A raw request: fetch would normalise `..` away before it reaches the server. */
function raw(path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const url = new URL(t.base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('hostile input', () => {
  it('refuses repository names outside the grammar, path tricks included', async () => {
    for (const name of [
      'UPPER/case',
      'a/../../etc',
      'a//b',
      '_hidden/x',
      'a/_manifests',
      `${'a'.repeat(256)}`,
      'a/.',
      '-a',
    ]) {
      const res = await raw(`/v2/${name}/tags/list`);
      expect([res.status, JSON.parse(res.body).errors[0].code], name).toEqual([400, 'NAME_INVALID']);
    }
    expect((await raw('/v2/../../etc/passwd')).status).toBe(404);
  });

  it('refuses digests that are not sha256/sha512 hex before they become paths', async () => {
    for (const digest of [
      'sha256:..',
      'sha256:ABCDEF',
      'md5:d41d8cd98f00b204e9800998ecf8427e',
      'sha256:abc',
    ]) {
      const res = await raw(`/v2/h/one/blobs/${encodeURIComponent(digest)}`);
      expect([res.status, JSON.parse(res.body).errors[0].code], digest).toEqual([400, 'DIGEST_INVALID']);
    }
    // An encoded slash makes it another path, which no endpoint has.
    expect((await raw(`/v2/h/one/blobs/${encodeURIComponent('sha256:../../x')}`)).status).toBe(404);
    expect((await raw('/v2/h/one/blobs/uploads/..%2F..%2Fx')).status).toBe(404);
  });

  it('caps blob size (Content-Length up front, streamed bytes too) and leaves the upload as it was', async () => {
    const tooBig = await fetch(`${t.base}/v2/h/big/blobs/uploads/?digest=${sha256('x')}`, {
      method: 'POST',
      body: Buffer.alloc(5000),
    });
    expect(tooBig.status).toBe(413);
    const start = await fetch(`${t.base}/v2/h/big/blobs/uploads/`, { method: 'POST' });
    const location = new URL(start.headers.get('location')!, t.base);
    expect((await fetch(location, { method: 'PATCH', body: Buffer.alloc(3000) })).status).toBe(202);
    // Streamed (no Content-Length): refused once the total passes the cap; nothing of it is kept.
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new Uint8Array(2000));
        c.close();
      },
    });
    const over = await fetch(location, { method: 'PATCH', body: stream, duplex: 'half' } as RequestInit);
    expect(over.status).toBe(413);
    const status = await fetch(location);
    expect(status.headers.get('range')).toBe('0-2999');
    await fetch(location, { method: 'DELETE' });
  });

  it('bounds the number of open uploads (429)', async () => {
    const locations: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${t.base}/v2/h/many/blobs/uploads/`, { method: 'POST' });
      expect(res.status).toBe(202);
      locations.push(res.headers.get('location')!);
    }
    const refused = await fetch(`${t.base}/v2/h/many/blobs/uploads/`, { method: 'POST' });
    expect([refused.status, await errorCode(refused)]).toEqual([429, 'TOOMANYREQUESTS']);
    for (const l of locations) await fetch(new URL(l, t.base), { method: 'DELETE' });
    expect((await fetch(`${t.base}/v2/h/many/blobs/uploads/`, { method: 'POST' })).status).toBe(202);
  });

  it('an upload is only reachable through its own repository', async () => {
    const start = await fetch(`${t.base}/v2/h/mine/blobs/uploads/`, { method: 'POST' });
    const id = start.headers.get('location')!.split('/').pop();
    const res = await fetch(`${t.base}/v2/h/theirs/blobs/uploads/${id}`);
    expect([res.status, await errorCode(res)]).toEqual([404, 'BLOB_UPLOAD_UNKNOWN']);
  });

  it('a blob the store lost is a clean 404 BLOB_UNKNOWN, never a 500 or a short body', async () => {
    const img = await pushImageBlobs(t.base, 'h/lost', ['will vanish']);
    expect((await putManifest(t.base, 'h/lost', 'v1', img.manifest)).status).toBe(201);
    const hex = img.layers[0]!.digest.slice('sha256:'.length);
    await rm(join(t.storage.path, 'blobs', 'sha256', hex.slice(0, 2), hex));
    for (const method of ['HEAD', 'GET']) {
      const res = await fetch(`${t.base}/v2/h/lost/blobs/${img.layers[0]!.digest}`, { method });
      expect(res.status, method).toBe(404);
      if (method === 'GET') expect(await errorCode(res)).toBe('BLOB_UNKNOWN');
    }
    // The manifest itself is still served: it lives in the registry's own store.
    expect((await fetch(`${t.base}/v2/h/lost/manifests/v1`)).status).toBe(200);
  });

  it('unknown endpoints and methods are 404 / 405 with a spec error body', async () => {
    const { digest } = await pushBlob(t.base, 'h/m', 'x');
    const res = await fetch(`${t.base}/v2/h/m/blobs/${digest}`, { method: 'PATCH' });
    expect([res.status, await errorCode(res)]).toEqual([405, 'UNSUPPORTED']);
    expect((await raw('/v3/whatever')).status).toBe(404);
  });
});

/** A store whose reads come up short of the size it reports (a fault no real store shows on demand). */
class ShortReadStore extends FileBlobStore {
  override async open(digest: BlobDigest, options: OpenBlobOptions = {}): Promise<Readable> {
    const full = await super.open(digest, options);
    let sent = false;
    return new Readable({
      read() {
        if (sent) return;
        sent = true;
        full.once('data', (chunk: Buffer) => {
          full.destroy();
          this.push(chunk.subarray(0, 5));
          this.push(null);
        });
      },
    });
  }
}

describe('a store that returns fewer bytes than it announced', () => {
  it('aborts the response: the client never receives a complete-looking short body', async () => {
    const short = await startTestServer({
      blobStore: new ShortReadStore(join(t.storage.path, 'short-blobs')),
    });
    const { digest } = await pushBlob(short.base, 'h/short', 'twenty bytes of data');
    // Before its first bytes went out (the last chunk waits for the store's clean end), or mid-body.
    const read = async () => {
      const res = await fetch(`${short.base}/v2/h/short/blobs/${digest}`);
      expect(res.headers.get('content-length')).toBe('20');
      return res.arrayBuffer();
    };
    await expect(read()).rejects.toThrow();
  });
});
