import {
  chmodSync,
  linkSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { layerFromTar, layerFromTarToFile } from './from-tar.js';
import { type TarEntryInfo, TarParser } from './tar-reader.js';
import { TarWriter } from './tar-writer.js';
import {
  perTestCleanup,
  run,
  sha256Bytes,
  sha256File,
  tarList,
  tempDir,
  toolAvailable,
} from './test-helpers.js';
import { writeLayerToFile } from './write-layer.js';

const tools =
  toolAvailable('tar') && toolAvailable('gzip') && toolAvailable('zstd') && toolAvailable('bzip2');

const { defer } = perTestCleanup();

let dir: string;
let tree: string;
let cleanupAll: () => void;
const long = `deep/${'x'.repeat(120)}/${'y'.repeat(120)}.txt`;

beforeAll(() => {
  ({ dir, cleanup: cleanupAll } = tempDir());
  tree = join(dir, 'tree');
  mkdirSync(join(tree, 'bin'), { recursive: true });
  mkdirSync(join(tree, 'deep', 'x'.repeat(120)), { recursive: true });
  writeFileSync(join(tree, 'bin', 'tool'), '#!/bin/sh\necho tool\n');
  chmodSync(join(tree, 'bin', 'tool'), 0o755);
  writeFileSync(join(tree, 'a.txt'), 'same content\n'.repeat(100));
  writeFileSync(join(tree, 'b.txt'), 'same content\n'.repeat(100));
  linkSync(join(tree, 'a.txt'), join(tree, 'hard'));
  writeFileSync(join(tree, long), 'long name\n');
  writeFileSync(join(tree, 'ü.txt'), 'unicode\n');
  writeFileSync(join(tree, 'empty'), '');
  symlinkSync('/bin/tool', join(tree, 'abs-link'));
  for (const p of ['a.txt', 'bin', 'bin/tool', 'ü.txt'])
    utimesSync(join(tree, p), 1_650_000_000, 1_650_000_000);
  return () => cleanupAll();
});

function makeTar(name: string, args: string[]): string {
  const out = join(dir, name);
  run('tar', ['-C', tree, ...args, '-cf', out, '.']);
  return out;
}

async function collect(path: string, options: Parameters<typeof layerFromTar>[1]) {
  const { stream, metadata } = layerFromTar(path, options);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return { bytes: Buffer.concat(chunks), meta: await metadata };
}

describe.runIf(tools)('layerFromTar', () => {
  it('passthrough keeps the blob and computes the diff_id of its content', async () => {
    const raw = makeTar('p.tar', ['--format=pax']);
    run('sh', ['-c', `gzip -6 -c ${raw} > ${raw}.gz && zstd -q -3 -c ${raw} > ${raw}.zst`]);
    const diff = sha256File(raw);
    for (const [input, mediaType] of [
      [raw, 'application/vnd.oci.image.layer.v1.tar'],
      [`${raw}.gz`, 'application/vnd.oci.image.layer.v1.tar+gzip'],
      [`${raw}.zst`, 'application/vnd.oci.image.layer.v1.tar+zstd'],
    ] as const) {
      const { bytes, meta } = await collect(input, { mode: 'passthrough' });
      expect(bytes.equals(readFileSync(input))).toBe(true);
      expect(meta).toEqual({
        mediaType,
        digest: sha256File(input),
        size: bytes.length,
        diff_id: diff,
        uncompressed_size: readFileSync(raw).length,
      });
    }
  });

  it('recompress changes the compression and keeps the diff_id', async () => {
    const raw = makeTar('r.tar', ['--format=gnu']);
    run('sh', ['-c', `gzip -1 -c ${raw} > ${raw}.gz`]);
    const out = join(dir, 'r.tar.zst');
    const meta = await layerFromTarToFile(`${raw}.gz`, out, { mode: 'recompress', compression: 'zstd' });
    expect(meta.diff_id).toBe(sha256File(raw));
    expect(meta.digest).toBe(sha256File(out));
    expect(run('zstd', ['-dc', out]).equals(readFileSync(raw))).toBe(true);
    expect(meta.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
  });

  it('rewrite of GNU, PAX and USTAR-ish tars of one tree gives the bytes writeLayer gives for the tree', async () => {
    const expected = await writeLayerToFile(
      { entries: [{ type: 'directory', path: '/', source: tree }] },
      join(dir, 'direct.tar'),
      { compression: 'none' },
    );
    const gnu = makeTar('g.tar', ['--format=gnu', '--sort=none']);
    const pax = makeTar('x.tar', ['--format=pax']);
    run('sh', ['-c', `gzip -c ${gnu} > ${gnu}.gz && zstd -q -c ${pax} > ${pax}.zst`]);
    for (const input of [gnu, `${gnu}.gz`, `${pax}.zst`]) {
      const { bytes, meta } = await collect(input, { mode: 'rewrite', compression: 'none' });
      expect(meta.diff_id).toBe(expected.diff_id);
      expect(bytes.equals(readFileSync(join(dir, 'direct.tar')))).toBe(true);
    }
    const listing = tarList(readFileSync(join(dir, 'direct.tar')));
    expect(listing).toContain('hrw-r--r-- 0/0               0 1970-01-01 00:00 b.txt link to a.txt');
    expect(listing).toContain('hrw-r--r-- 0/0               0 1970-01-01 00:00 hard link to a.txt');
    expect(listing).toContain(`-rw-r--r-- 0/0              10 1970-01-01 00:00 ${long}`);
    // ownership in the input is content: kept
    const owned = makeTar('o.tar', ['--format=pax', '--owner=u:1', '--group=g:2']);
    const { bytes } = await collect(owned, { mode: 'rewrite', compression: 'none' });
    expect(tarList(bytes).every((l) => / 1\/2 /.test(l))).toBe(true);
  });

  it('rewrite keeps uid/gid, modes and xattrs, drops names and times, re-targets hardlinks', async () => {
    const input = join(dir, 'custom.tar');
    const chunks: Buffer[] = [];
    const w = new TarWriter((c) => {
      chunks.push(Buffer.from(c));
    });
    const h = { uid: 0, gid: 0, mtime: 1_700_000_000, uname: 'root', gname: 'root' };
    await w.writeEntry(
      {
        ...h,
        name: './z/data',
        type: 'file',
        mode: 0o640,
        uid: 5000,
        gid: 6000,
        paxRecords: { 'SCHILY.xattr.user.k': 'v', atime: '1' },
      },
      Buffer.from('data'),
    );
    await w.writeEntry({
      ...h,
      name: './a-link',
      type: 'hardlink',
      mode: 0o640,
      uid: 5000,
      gid: 6000,
      linkname: './z/data',
      paxRecords: { 'SCHILY.xattr.user.k': 'v' },
    });
    await w.writeEntry({ ...h, name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 });
    await w.writeEntry({ ...h, name: 'z/', type: 'directory', mode: 0o700 });
    await w.finish();
    writeFileSync(input, Buffer.concat(chunks));
    const { bytes } = await collect(input, { mode: 'rewrite', compression: 'none', sourceDateEpoch: 86400 });
    expect(tarList(bytes)).toEqual([
      '-rw-r----- 5000/6000         4 1970-01-02 00:00 a-link',
      'crw-rw-rw- 0/0             1,3 1970-01-02 00:00 dev/null',
      'drwx------ 0/0               0 1970-01-02 00:00 z/',
      'hrw-r----- 5000/6000         0 1970-01-02 00:00 z/data link to a-link',
    ]);
    const entries: TarEntryInfo[] = [];
    const p = new TarParser({ onEntry: (e) => entries.push(e) });
    p.push(bytes);
    p.end();
    expect(entries[0]!.paxRecords).toEqual({ 'SCHILY.xattr.user.k': 'v' });
    expect(entries[0]!.uname).toBe('');
  });

  it('rejects escaping paths, dangling hardlinks, garbage, truncation and unknown compression', async () => {
    const bad = async (name: string, entries: Array<Parameters<TarWriter['writeEntry']>>) => {
      const chunks: Buffer[] = [];
      const w = new TarWriter((c) => {
        chunks.push(Buffer.from(c));
      });
      for (const e of entries) await w.writeEntry(...e);
      await w.finish();
      const path = join(dir, name);
      writeFileSync(path, Buffer.concat(chunks));
      return path;
    };
    const h = { mode: 0o644, uid: 0, gid: 0, mtime: 0 };
    const escaping = await bad('esc.tar', [
      [{ ...h, name: 'a/../../etc/passwd', type: 'file' }, Buffer.from('x')],
    ]);
    await expect(collect(escaping, { mode: 'rewrite' })).rejects.toMatchObject({
      code: 'IMG_LAYER_PATH_ESCAPES',
      message: expect.stringContaining('a/../../etc/passwd'),
    });
    const dangling = await bad('dangling.tar', [
      [{ ...h, name: 'l', type: 'hardlink', linkname: 'missing' }],
    ]);
    await expect(collect(dangling, { mode: 'rewrite' })).rejects.toMatchObject({
      code: 'IMG_LAYER_INVALID_TAR',
      message: expect.stringContaining('"missing"'),
    });
    const garbage = join(dir, 'garbage.tar');
    writeFileSync(garbage, Buffer.alloc(2048, 'garbage!'));
    await expect(collect(garbage, { mode: 'rewrite' })).rejects.toMatchObject({
      code: 'IMG_LAYER_INVALID_TAR',
      message: expect.stringContaining(garbage),
    });
    const raw = makeTar('t.tar', []);
    const truncated = join(dir, 'trunc.tar.gz');
    writeFileSync(truncated, run('gzip', ['-c', raw]).subarray(0, 200));
    for (const mode of ['passthrough', 'recompress', 'rewrite'] as const) {
      await expect(collect(truncated, { mode })).rejects.toMatchObject({
        message: expect.stringContaining(truncated),
      });
    }
    run('sh', ['-c', `bzip2 -c ${raw} > ${raw}.bz2`]);
    await expect(collect(`${raw}.bz2`, { mode: 'recompress' })).rejects.toMatchObject({
      code: 'IMG_LAYER_UNKNOWN_COMPRESSION',
      message: expect.stringContaining('bzip2'),
    });
    await expect(collect(join(dir, 'nope.tar'), { mode: 'rewrite' })).rejects.toMatchObject({
      code: 'IMG_LAYER_SOURCE_MISSING',
    });
  });
});

describe.runIf(tools)('TarParser', () => {
  it('reads GNU long names and base-256 ids, and PAX records', () => {
    const t = tempDir();
    defer(t.cleanup);
    const names = [`${'n'.repeat(150)}`, 'short'];
    for (const n of names) writeFileSync(join(t.dir, n), n);
    symlinkSync('t'.repeat(130), join(t.dir, 'sym'));
    for (const format of ['gnu', 'pax', 'oldgnu']) {
      const tar = run('tar', [
        '-C',
        t.dir,
        `--format=${format}`,
        '--owner=0:3000000',
        '--group=0:4000000',
        '-cf',
        '-',
        ...names,
        'sym',
      ]);
      const seen: TarEntryInfo[] = [];
      const data: string[] = [];
      const p = new TarParser({ onEntry: (e) => seen.push(e), onData: (b) => data.push(b.toString()) });
      for (let i = 0; i < tar.length; i += 100) p.push(tar.subarray(i, i + 100));
      p.end();
      expect(seen.map((e) => [e.name, e.type, e.uid, e.gid, e.linkname])).toEqual([
        [names[0], 'file', 3000000, 4000000, ''],
        ['short', 'file', 3000000, 4000000, ''],
        ['sym', 'symlink', 3000000, 4000000, 't'.repeat(130)],
      ]);
      expect(data.join('')).toBe(names.join(''));
      expect(sha256Bytes(tar)).toMatch(/^sha256:/);
    }
  });
});
