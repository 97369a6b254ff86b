import { readFile, writeFile } from 'node:fs/promises';
import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import { useTempDir } from '@img/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { gzipCodec } from '../src/codec.js';
import { FOOTER_SIZE, openEstargz, type Toc } from '../src/index.js';
import { type FixtureTree, fixtureTree, MiB, ORACLE, oracleRejects, sha256, writeOurs } from './helpers.js';

const work = useTempDir('estargz-reader-');
let tree: FixtureTree;
let good: { path: string; tocDigest: string };

beforeAll(async () => {
  tree = await fixtureTree(work.path);
  good = await writeOurs(tree.spec, work.join('good.blob'));
});

/** The same blob with its TOC replaced (new TOC member and footer); returns path and TOC digest. */
async function withToc(name: string, edit: (toc: Toc) => void): Promise<{ path: string; tocDigest: string }> {
  const reader = await openEstargz(good.path);
  const toc: Toc = structuredClone(reader.toc);
  edit(toc);
  const tail = await gzipCodec(6).tail(toc, reader.tocOffset);
  const blob = await readFile(good.path);
  const path = work.join(name);
  await writeFile(path, Buffer.concat([blob.subarray(0, reader.tocOffset), ...tail.blobBytes]));
  return { path, tocDigest: tail.tocDigest };
}

describe('EstargzReader', () => {
  it('lists the TOC and extracts single files by seeking to their members', async () => {
    const reader = await openEstargz(good.path);
    expect(reader.format).toBe('estargz');
    const names = reader.entries().map((e) => e.name);
    expect(names).toContain('bin/tool');
    expect(names[0]).toBe('.no.prefetch.landmark');
    for (const [path, data] of tree.files)
      expect((await reader.readFile(`/${path}`)).equals(data), path).toBe(true);
    const parts: Buffer[] = [];
    for await (const part of reader.openFile('./big.bin')) parts.push(part as Buffer);
    expect(parts.map((p) => p.length)).toEqual([4 * MiB, 4 * MiB, 2 * MiB]);
    expect(reader.lookup('bin/tool-hardlink', false)).toMatchObject({
      type: 'hardlink',
      linkName: 'bin/tool',
    });
    expect(reader.lookup('owned.txt')).toMatchObject({
      uid: 1000,
      gid: 1001,
      userName: 'app',
      groupName: 'appgroup',
    });
    expect(reader.lookup('xattr.txt')!.xattrs['user.comment']!.toString()).toBe('hello <xattr>');
    expect(reader.lookup('big.bin')!.modtime).toBe('2023-11-14T22:13:20Z');
  });

  it('names a missing entry and a non-file', async () => {
    const reader = await openEstargz(good.path);
    await expect(reader.readFile('nope')).rejects.toMatchObject({ code: 'IMG_ESTARGZ_NOT_FOUND' });
    await expect(reader.readFile('bin/main-link')).rejects.toMatchObject({
      code: 'IMG_ESTARGZ_NOT_A_FILE',
      message: expect.stringContaining('"bin/main-link" is a symlink'),
    });
  });

  it('verify counts every file and chunk', async () => {
    const reader = await openEstargz(good.path);
    const report = await reader.verify(good.tocDigest);
    const sizes = [...tree.files.values()];
    expect(report.bytes).toBe(
      sizes.reduce((n, b) => n + b.length, 0) - tree.files.get('bin/tool')!.length - 300_000 + 1,
    );
    expect(report.chunks).toBe(report.files + 2);
  });
});

describe('bad input', () => {
  it('a truncated blob: no footer', async () => {
    const blob = await readFile(good.path);
    for (const [name, bytes] of [
      ['cut.blob', blob.subarray(0, blob.length - 100)],
      ['cut-footer.blob', blob.subarray(0, blob.length - 1)],
      ['tiny.blob', blob.subarray(0, 20)],
      ['empty.blob', Buffer.alloc(0)],
    ] as const) {
      await writeFile(work.join(name), bytes);
      await expect(openEstargz(work.join(name)), name).rejects.toMatchObject({
        code: 'IMG_ESTARGZ_NOT_ESTARGZ',
        message: expect.stringMatching(/not an eStargz or zstd:chunked blob: no eStargz footer/),
      });
    }
  });

  it('a plain gzip layer and a missing file', async () => {
    await writeFile(work.join('plain.gz'), gzipSync(Buffer.alloc(4096)));
    await expect(openEstargz(work.join('plain.gz'))).rejects.toMatchObject({
      code: 'IMG_ESTARGZ_NOT_ESTARGZ',
    });
    await expect(openEstargz(work.join('missing.blob'))).rejects.toMatchObject({
      code: 'IMG_ESTARGZ_READ_FAILED',
      message: expect.stringContaining('missing.blob: cannot open blob (ENOENT)'),
    });
  });

  it('a wrong TOC digest', async () => {
    const reader = await openEstargz(good.path);
    const wrong = sha256(Buffer.from('other'));
    await expect(reader.verify(wrong)).rejects.toMatchObject({
      code: 'IMG_ESTARGZ_TOC_DIGEST_MISMATCH',
      message: `${good.path}: TOC digest is ${good.tocDigest}, expected ${wrong}`,
    });
  });

  it('a chunk whose bytes were changed (valid gzip, wrong content)', async () => {
    const stored = await writeOurs(tree.spec, work.join('stored.blob'), { level: 0 });
    const reader = await openEstargz(stored.path);
    const chunk = reader.lookup('big.bin')!.chunks[1]!;
    const blob = Buffer.from(await readFile(stored.path));
    const member = blob.subarray(chunk.offset, chunk.compressedEnd);
    const data = gunzipSync(member);
    // Level 0: the data is stored verbatim after the 10-byte header and a 5-byte block header.
    const at = chunk.offset + 10 + 5 + 1000;
    expect(blob[at]).toBe(data[1000]);
    blob[at] ^= 0xff;
    data[1000] ^= 0xff;
    blob.writeUInt32LE(crc32(data) >>> 0, chunk.compressedEnd - 8);
    const path = work.join('tampered.blob');
    await writeFile(path, blob);
    expect(gunzipSync(blob).length).toBeGreaterThan(10 * MiB);
    const tampered = await openEstargz(path);
    await expect(tampered.verify(stored.tocDigest)).rejects.toMatchObject({
      code: 'IMG_ESTARGZ_CHUNK_DIGEST_MISMATCH',
      message: expect.stringContaining(`"big.bin" bytes ${4 * MiB}-${8 * MiB} (member at ${chunk.offset})`),
    });
    await expect(tampered.readFile('big.bin')).rejects.toMatchObject({
      code: 'IMG_ESTARGZ_CHUNK_DIGEST_MISMATCH',
    });
    expect((await tampered.readFile('app/main.js')).equals(tree.files.get('app/main.js')!)).toBe(true);
    if (ORACLE)
      expect(await oracleRejects(path, stored.tocDigest)).toMatch(/big\.bin.*does not match its digest/);
  });

  it('a chunk whose compressed bytes were damaged', async () => {
    const reader = await openEstargz(good.path);
    const chunk = reader.lookup('app/copy-of-util.js')!.chunks[0]!;
    const blob = Buffer.from(await readFile(good.path));
    for (let i = 0; i < 16; i++) blob[chunk.offset + 200 + i] ^= 0x5a;
    const path = work.join('damaged.blob');
    await writeFile(path, blob);
    const damaged = await openEstargz(path);
    const err = await damaged.verify(good.tocDigest).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: expect.stringMatching(/IMG_ESTARGZ_(CORRUPT_DATA|CHUNK_DIGEST_MISMATCH)/),
    });
    expect((err as Error).message).toContain('"app/copy-of-util.js"');
    if (ORACLE) await oracleRejects(path, good.tocDigest);
  });

  it('TOCs that promise what the blob does not hold', async () => {
    const noDigest = await withToc('no-chunk-digest.blob', (toc) => {
      const e = toc.entries.find((x) => x.type === 'chunk')!;
      delete e.chunkDigest;
    });
    await expect((await openEstargz(noDigest.path)).verify(noDigest.tocDigest)).rejects.toMatchObject({
      code: 'IMG_ESTARGZ_INVALID_TOC',
      message: expect.stringContaining('"big.bin" chunk at 4194304 has no chunkDigest'),
    });
    if (ORACLE)
      expect(await oracleRejects(noDigest.path, noDigest.tocDigest)).toMatch(/ChunkDigest not found/);

    const past = await withToc('offset-past.blob', (toc) => {
      toc.entries.find((x) => x.name === 'app/main.js')!.offset = 10 ** 9;
    });
    await expect((await openEstargz(past.path)).verify(past.tocDigest)).rejects.toMatchObject({
      code: 'IMG_ESTARGZ_INVALID_TOC',
      message: expect.stringContaining('offset 1000000000 is outside the payload area'),
    });

    const wrongDigest = await withToc('wrong-file-digest.blob', (toc) => {
      toc.entries.find((x) => x.name === 'bin/tool')!.chunkDigest = sha256(Buffer.from('x'));
    });
    await expect((await openEstargz(wrongDigest.path)).verify(wrongDigest.tocDigest)).rejects.toMatchObject({
      code: 'IMG_ESTARGZ_CHUNK_DIGEST_MISMATCH',
    });

    const danglingLink = await withToc('dangling.blob', (toc) => {
      toc.entries.find((x) => x.type === 'hardlink')!.linkName = 'gone';
    });
    await expect((await openEstargz(danglingLink.path)).verify(danglingLink.tocDigest)).rejects.toMatchObject(
      {
        code: 'IMG_ESTARGZ_INVALID_TOC',
        message: expect.stringContaining('which is not in the TOC'),
      },
    );
  });

  it('a TOC member that is not a TOC', async () => {
    const reader = await openEstargz(good.path);
    const blob = await readFile(good.path);
    const footer = blob.subarray(blob.length - FOOTER_SIZE);
    const path = work.join('bad-toc.blob');
    await writeFile(
      path,
      Buffer.concat([blob.subarray(0, reader.tocOffset), gzipSync(Buffer.alloc(1024)), footer]),
    );
    await expect(openEstargz(path)).rejects.toMatchObject({ code: 'IMG_ESTARGZ_INVALID_TOC' });
  });
});
