import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { truncate, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { sha256Digest } from '@img/oci-spec';
import { tempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FILE_CHUNK_SIZE,
  type FileChunksOptions,
  fileChunks,
  fileRangeOf,
  isRegularFile,
} from './file-body.js';

describe('file bodies', () => {
  const data = randomBytes(FILE_CHUNK_SIZE * 2 + 12_345);
  const descriptor = { mediaType: 'application/octet-stream', digest: sha256Digest(data), size: data.length };
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let path: string;
  beforeAll(async () => {
    dir = await tempDir('file-body-');
    path = dir.join('blob');
    await writeFile(path, data);
  });
  afterAll(() => dir?.remove());

  const options = (o: Partial<FileChunksOptions> = {}): FileChunksOptions => ({
    offset: 0,
    verify: false,
    recycle: true,
    onChunk: () => {},
    where: 'test blob',
    ...o,
  });

  /** Copies of every chunk (recycled buffers are overwritten by the next read). */
  async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for await (const c of chunks) out.push(Buffer.from(c));
    return out;
  }

  it('recognises plain, unread fs.ReadStreams and their ranges only', () => {
    const whole = createReadStream(path);
    expect(fileRangeOf(whole)).toEqual({ path, start: 0, end: Number.POSITIVE_INFINITY });
    const range = createReadStream(path, { start: 10, end: 19 });
    expect(fileRangeOf(range)).toEqual({ path, start: 10, end: 19 });
    const text = createReadStream(path, { encoding: 'utf8' });
    expect(fileRangeOf(text)).toBeUndefined();
    const flowing = createReadStream(path);
    flowing.resume();
    expect(fileRangeOf(flowing)).toBeUndefined();
    expect(fileRangeOf(Readable.from([data]))).toBeUndefined();
    for (const s of [whole, range, text, flowing]) s.destroy();
  });

  it('takes only regular files', async () => {
    expect(await isRegularFile(path)).toBe(true);
    expect(await isRegularFile(dir.path)).toBe(false);
    expect(await isRegularFile('/dev/null')).toBe(false);
    expect(await isRegularFile(dir.join('missing'))).toBe(false);
  });

  it('yields the file in chunks through two recycled buffers, reporting each size', async () => {
    const sizes: number[] = [];
    const seen = new Set<ArrayBufferLike>();
    const out: Buffer[] = [];
    for await (const c of fileChunks({ path, start: 0, end: Number.POSITIVE_INFINITY }, descriptor, {
      ...options({ onChunk: (n) => sizes.push(n) }),
    })) {
      seen.add(c.buffer);
      out.push(Buffer.from(c));
    }
    expect(Buffer.concat(out).equals(data)).toBe(true);
    expect(sizes).toEqual([FILE_CHUNK_SIZE, FILE_CHUNK_SIZE, 12_345]);
    expect(seen.size).toBe(2);
    const fresh = new Set<ArrayBufferLike>();
    for await (const c of fileChunks(
      { path, start: 0, end: Infinity },
      descriptor,
      options({ recycle: false }),
    ))
      fresh.add(c.buffer);
    expect(fresh.size).toBe(3);
  });

  it('reads a byte range from an offset, hashing the skipped prefix when verifying', async () => {
    const padded = dir.join('padded');
    await writeFile(padded, Buffer.concat([Buffer.alloc(100, 9), data, Buffer.alloc(50, 8)]));
    const file = { path: padded, start: 100, end: 100 + data.length - 1 };
    const rest = await collect(fileChunks(file, descriptor, options({ offset: 1_500_000, verify: true })));
    expect(Buffer.concat(rest).equals(data.subarray(1_500_000))).toBe(true);
  });

  it('fails on a size mismatch before any byte, and on a digest mismatch before the last chunk', async () => {
    const wrongSize = { ...descriptor, size: data.length + 1 };
    const whole = { path, start: 0, end: Number.POSITIVE_INFINITY };
    await expect(collect(fileChunks(whole, wrongSize, options()))).rejects.toMatchObject({
      code: 'IMG_SIZE_MISMATCH',
      message: expect.stringContaining(`holds ${data.length} bytes, the descriptor says ${data.length + 1}`),
    });
    const wrongDigest = { ...descriptor, digest: sha256Digest('other') };
    let delivered = 0;
    const consume = async () => {
      for await (const c of fileChunks(whole, wrongDigest, options({ verify: true }))) delivered += c.length;
    };
    await expect(consume()).rejects.toMatchObject({ code: 'IMG_DIGEST_MISMATCH' });
    expect(delivered).toBe(FILE_CHUNK_SIZE * 2);
    // Without verification the registry is the judge: the bytes go out as they are.
    expect(Buffer.concat(await collect(fileChunks(whole, wrongDigest, options()))).equals(data)).toBe(true);
  });

  it('fails with IMG_SIZE_MISMATCH when the file shrinks while it is sent', async () => {
    const shrinking = dir.join('shrinking');
    await writeFile(shrinking, data);
    const chunks = fileChunks(
      { path: shrinking, start: 0, end: Number.POSITIVE_INFINITY },
      descriptor,
      options(),
    );
    const consume = async () => {
      for await (const _ of chunks) {
        await truncate(shrinking, 1_200_000);
        // A read-ahead failing now is reported when the next chunk is asked for, not as unhandled.
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await expect(consume()).rejects.toMatchObject({
      code: 'IMG_SIZE_MISMATCH',
      message: expect.stringContaining('ended before the descriptor size'),
    });
  });

  it('closes the file when the consumer stops early', async () => {
    const it = fileChunks({ path, start: 0, end: Number.POSITIVE_INFINITY }, descriptor, options());
    await it.next();
    await it.return(undefined);
    expect((await it.next()).done).toBe(true);
  });
});
