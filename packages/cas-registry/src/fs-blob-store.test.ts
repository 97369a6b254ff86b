import { createHash } from 'node:crypto';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { parseBlobDigest } from './digests.js';
import { FileBlobStore, STALE_TEMP_MS } from './fs-blob-store.js';

const tmp = useTempDir('fs-blob-store-');
const digestOf = (s: string, alg: 'sha256' | 'sha512' = 'sha256') =>
  parseBlobDigest(`${alg}:${createHash(alg).update(s).digest('hex')}`)!;

describe('FileBlobStore', () => {
  it('writes verified blobs, reads them whole or by range, lists and deletes them', async () => {
    const store = new FileBlobStore(tmp.join('a'));
    await store.prepare();
    const d = digestOf('hello blob store');
    expect(await store.write(d, Readable.from([Buffer.from('hello blob store')]), { size: 16 })).toEqual({
      size: 16,
    });
    expect(await store.stat(d)).toEqual({ size: 16 });
    expect(await text(await store.open(d))).toBe('hello blob store');
    expect(await text(await store.open(d, { offset: 6, length: 4 }))).toBe('blob');
    expect(await text(await store.open(d, { offset: 16, length: 0 }))).toBe('');
    await expect(store.open(d, { offset: 10, length: 10 })).rejects.toMatchObject({
      code: 'IMG_CASREG_SIZE_MISMATCH',
    });
    const s512 = digestOf('sha512 too', 'sha512');
    await store.write(s512, Readable.from([Buffer.from('sha512 too')]));
    const listed = [];
    for await (const b of store.list()) listed.push([b.digest.value, b.size]);
    expect(listed.sort()).toEqual(
      [
        [d.value, 16],
        [s512.value, 10],
      ].sort(),
    );
    expect(await store.delete(d)).toBe(true);
    expect(await store.delete(d)).toBe(false);
    expect(await store.stat(d)).toBeUndefined();
  });

  it('a blob it does not hold is IMG_CASREG_BLOB_NOT_FOUND', async () => {
    const store = new FileBlobStore(tmp.join('b'));
    await store.prepare();
    await expect(store.open(digestOf('absent'))).rejects.toMatchObject({ code: 'IMG_CASREG_BLOB_NOT_FOUND' });
  });

  it('keeps nothing of content that does not match its digest or size', async () => {
    const store = new FileBlobStore(tmp.join('c'));
    await store.prepare();
    const d = digestOf('expected content');
    await expect(store.write(d, Readable.from([Buffer.from('other content!!!')]))).rejects.toMatchObject({
      code: 'IMG_CASREG_DIGEST_MISMATCH',
    });
    await expect(
      store.write(d, Readable.from([Buffer.from('expected content')]), { size: 3 }),
    ).rejects.toMatchObject({
      code: 'IMG_CASREG_SIZE_MISMATCH',
    });
    const failing = new Readable({
      read() {
        this.destroy(new Error('client went away'));
      },
    });
    await expect(store.write(d, failing)).rejects.toThrow('client went away');
    expect(await store.stat(d)).toBeUndefined();
    expect(await readdir(tmp.join('c', '_tmp'))).toEqual([]);
  });

  it('adopts a verified file by renaming it, and removes stale temp files at start-up', async () => {
    const store = new FileBlobStore(tmp.join('d'));
    await store.prepare();
    const upload = tmp.join('d', '_tmp', 'upload');
    await writeFile(upload, 'adopted bytes');
    const d = digestOf('adopted bytes');
    await store.adopt(d, upload, 13);
    expect(await text(await store.open(d))).toBe('adopted bytes');
    expect(await readdir(tmp.join('d', '_tmp'))).toEqual([]);

    await mkdir(tmp.join('d', '_tmp'), { recursive: true });
    await writeFile(tmp.join('d', '_tmp', 'old'), 'x');
    await writeFile(tmp.join('d', '_tmp', 'fresh'), 'x');
    const old = new Date(Date.now() - STALE_TEMP_MS - 1000);
    await utimes(tmp.join('d', '_tmp', 'old'), old, old);
    await store.prepare();
    expect(await readdir(tmp.join('d', '_tmp'))).toEqual(['fresh']);
  });
});
