import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { parseLayerMetadata } from '@img/oci-spec';
import { describe, expect, it } from 'vitest';
import type { LayerSpec } from './spec.js';
import {
  perTestCleanup,
  run,
  sha256Bytes,
  sha256File,
  tarList,
  tarNames,
  toolAvailable,
} from './test-helpers.js';
import { writeLayer, writeLayerMetadata, writeLayerToFile } from './write-layer.js';

const hasTar = toolAvailable('tar');
const hasGzip = toolAvailable('gzip');
const hasZstd = toolAvailable('zstd');

const { tmp } = perTestCleanup();

/** A small tree with files, an executable, a subdir, an empty dir and symlinks. */
function makeTree(root: string): string {
  const src = join(root, 'src');
  mkdirSync(join(src, 'lib', 'empty'), { recursive: true });
  writeFileSync(join(src, 'main.js'), 'console.log("hi")\n');
  writeFileSync(join(src, 'run.sh'), '#!/bin/sh\nexec node main.js\n');
  chmodSync(join(src, 'run.sh'), 0o700);
  writeFileSync(join(src, 'lib', 'util.js'), 'export const x = 1;\n'.repeat(500));
  symlinkSync('../main.js', join(src, 'lib', 'main-link'));
  symlinkSync('/usr/bin/env', join(src, 'env'));
  return src;
}

async function readAll(spec: LayerSpec, options = {}) {
  const { stream, metadata } = writeLayer(spec, options);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return { bytes: Buffer.concat(chunks), meta: await metadata };
}

describe('writeLayer', () => {
  it('writes a sorted tar with default modes and zero times, and metadata that matches the bytes', async () => {
    const src = makeTree(tmp());
    const { bytes, meta } = await readAll(
      {
        entries: [
          { type: 'directory', path: '/app', source: src },
          { type: 'content', path: 'app/VERSION', content: '1.0\n' },
        ],
      },
      { compression: 'none' },
    );
    expect(meta.mediaType).toBe('application/vnd.oci.image.layer.v1.tar');
    expect(meta.digest).toBe(sha256Bytes(bytes));
    expect(meta.diff_id).toBe(meta.digest);
    expect(meta.size).toBe(bytes.length);
    expect(meta.uncompressed_size).toBe(bytes.length);
    if (!hasTar) return;
    expect(tarList(bytes)).toEqual([
      'drwxr-xr-x 0/0               0 1970-01-01 00:00 app/',
      '-rw-r--r-- 0/0               4 1970-01-01 00:00 app/VERSION',
      'lrwxrwxrwx 0/0               0 1970-01-01 00:00 app/env -> /usr/bin/env',
      'drwxr-xr-x 0/0               0 1970-01-01 00:00 app/lib/',
      'drwxr-xr-x 0/0               0 1970-01-01 00:00 app/lib/empty/',
      'lrwxrwxrwx 0/0               0 1970-01-01 00:00 app/lib/main-link -> ../main.js',
      '-rw-r--r-- 0/0           10000 1970-01-01 00:00 app/lib/util.js',
      '-rw-r--r-- 0/0              18 1970-01-01 00:00 app/main.js',
      '-rwxr-xr-x 0/0              28 1970-01-01 00:00 app/run.sh',
    ]);
  });

  it('orders by path components: a directory is followed by its own subtree', async () => {
    const { bytes } = await readAll(
      {
        entries: [
          { type: 'content', path: 'a-b', content: '' },
          { type: 'content', path: 'a/b', content: 'x' },
          { type: 'directory', path: 'a' },
          { type: 'content', path: 'a.c', content: '' },
          { type: 'content', path: 'B', content: '' },
        ],
      },
      { compression: 'none' },
    );
    if (!hasTar) return;
    expect(tarNames(bytes)).toEqual(['B', 'a/', 'a/b', 'a-b', 'a.c']);
  });

  it.runIf(hasGzip && hasZstd)(
    'gzip -d and zstd -d give back the tar whose sha256 is the diff_id',
    async () => {
      const dir = tmp();
      const src = makeTree(dir);
      // > one zstd frame (8 MiB) so that multi-frame output is checked too
      writeFileSync(join(src, 'big.bin'), Buffer.alloc(20 * 1024 * 1024, 'abcdefghij'));
      const spec: LayerSpec = { entries: [{ type: 'directory', path: '/', source: src }] };
      const none = await writeLayerToFile(spec, join(dir, 'l.tar'), { compression: 'none' });
      for (const [compression, tool] of [
        ['gzip', 'gzip'],
        ['zstd', 'zstd'],
      ] as const) {
        const blob = join(dir, `l.${compression}`);
        const meta = await writeLayerToFile(spec, blob, { compression });
        expect(meta.digest).toBe(sha256File(blob));
        expect(meta.size).toBe(readFileSync(blob).length);
        const tar = run(tool, ['-dc', blob]);
        expect(sha256Bytes(tar)).toBe(meta.diff_id);
        expect(meta.diff_id).toBe(none.diff_id);
        expect(meta.uncompressed_size).toBe(tar.length);
        expect(meta.mediaType).toBe(`application/vnd.oci.image.layer.v1.tar+${compression}`);
      }
    },
  );

  it('zstd: chunks read from the stream stay intact (kept to the end) and equal the file writeLayerToFile writes', async () => {
    const dir = tmp();
    const src = join(dir, 'src');
    mkdirSync(src);
    // 3+ frames whose bytes all differ, so a frame buffer reused under a reader would show
    const data = Buffer.alloc(3 * 8 * 1024 * 1024 + 12345);
    for (let i = 0; i + 4 <= data.length; i += 4) data.writeUInt32LE(Math.imul(i, 2654435761) >>> 9, i);
    writeFileSync(join(src, 'data.bin'), data);
    writeFileSync(join(src, 'small.txt'), 'hello\n'.repeat(1000));
    const spec: LayerSpec = { entries: [{ type: 'directory', path: '/', source: src }] };
    const streamed = await readAll(spec, { compression: 'zstd' });
    expect(sha256Bytes(streamed.bytes)).toBe(streamed.meta.digest);
    const file = join(dir, 'l.tar.zst');
    const meta = await writeLayerToFile(spec, file, { compression: 'zstd' });
    expect(meta).toEqual(streamed.meta);
    expect(readFileSync(file).equals(streamed.bytes)).toBe(true);
    if (hasZstd) expect(sha256Bytes(run('zstd', ['-dc', file]))).toBe(meta.diff_id);
  });

  it('writes a gzip header with mtime 0 and no name', async () => {
    const { bytes } = await readAll({ entries: [{ type: 'content', path: 'x', content: 'x' }] });
    expect(bytes.subarray(0, 10)).toEqual(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]));
  });

  it('is deterministic: same bytes twice, and for a copy with other mtimes, owners and non-x mode bits', async () => {
    const dir = tmp();
    const src = makeTree(dir);
    const copy = join(dir, 'copy');
    cpSync(src, copy, { recursive: true, verbatimSymlinks: true });
    utimesSync(join(copy, 'main.js'), 1_600_000_000, 1_600_000_000);
    utimesSync(join(copy, 'lib'), 1_500_000_000, 1_500_000_000);
    chmodSync(join(copy, 'main.js'), 0o600);
    chmodSync(join(copy, 'run.sh'), 0o751);
    chmodSync(join(copy, 'lib'), 0o700);
    run('chown', ['-R', '1234:5678', copy]);
    for (const compression of ['gzip', 'zstd', 'none'] as const) {
      const spec = (s: string): LayerSpec => ({ entries: [{ type: 'directory', path: '/srv', source: s }] });
      const a = await readAll(spec(src), { compression });
      const b = await readAll(spec(src), { compression });
      const c = await readAll(spec(copy), { compression });
      expect(b.bytes.equals(a.bytes)).toBe(true);
      expect(c.bytes.equals(a.bytes)).toBe(true);
      expect(c.meta).toEqual(a.meta);
    }
  });

  it('applies defaultMetadata, fileMetadata (octal strings, RFC 3339, PAX xattrs) and SOURCE_DATE_EPOCH', async () => {
    const { bytes } = await readAll(
      {
        entries: [
          { type: 'content', path: '/bin/tool', content: 'bin' },
          { type: 'content', path: '/etc/conf', content: 'c' },
          { type: 'directory', path: '/var/data' },
          { type: 'symlink', path: '/bin/t', target: 'tool' },
        ],
        defaultMetadata: { uid: 1000, gid: 1000, mode: '0600' },
        fileMetadata: {
          'bin/tool': {
            mode: '4755',
            uname: 'app',
            gname: 'app',
            mtime: '2024-01-02T03:04:05Z',
            paxRecords: { 'SCHILY.xattr.user.note': 'hello' },
          },
          '/var/data/': { mode: 0o700, uid: 0 },
        },
      },
      { compression: 'none', sourceDateEpoch: 1_700_000_000 },
    );
    if (!hasTar) return;
    expect(tarList(bytes)).toEqual([
      'lrwxrwxrwx 1000/1000         0 2023-11-14 22:13 bin/t -> tool',
      '-rwsr-xr-x 1000/1000         3 2024-01-02 03:04 bin/tool',
      '-rw------- 1000/1000         1 2023-11-14 22:13 etc/conf',
      'drwx------ 0/1000            0 2023-11-14 22:13 var/data/',
    ]);
    const xattrs = run('tar', ['--xattrs', '--xattrs-include=*', '-tvvf', '-'], bytes).toString();
    expect(xattrs).toMatch(/bin\/tool\n\s+x: 5 user\.note\n/);
    // uname/gname are stored (GNU tar shows names when not --numeric-owner)
    expect(run('tar', ['-tvf', '-'], bytes).toString()).toContain('app/app');
  });

  it('writes whiteouts, opaque markers, empty files and synthesized parents', async () => {
    const { bytes } = await readAll(
      {
        entries: [
          { type: 'whiteout', path: '/etc/old.conf' },
          { type: 'opaque', path: '/var/cache' },
          { type: 'content', path: '/usr/share/empty', content: '' },
        ],
        createParentDirectories: true,
      },
      { compression: 'none' },
    );
    if (!hasTar) return;
    expect(tarList(bytes)).toEqual([
      'drwxr-xr-x 0/0               0 1970-01-01 00:00 etc/',
      '-rw-r--r-- 0/0               0 1970-01-01 00:00 etc/.wh.old.conf',
      'drwxr-xr-x 0/0               0 1970-01-01 00:00 usr/',
      'drwxr-xr-x 0/0               0 1970-01-01 00:00 usr/share/',
      '-rw-r--r-- 0/0               0 1970-01-01 00:00 usr/share/empty',
      'drwxr-xr-x 0/0               0 1970-01-01 00:00 var/',
      'drwxr-xr-x 0/0               0 1970-01-01 00:00 var/cache/',
      '-rw-r--r-- 0/0               0 1970-01-01 00:00 var/cache/.wh..wh..opq',
    ]);
  });

  it('writes no parent directories by default', async () => {
    const { bytes } = await readAll(
      { entries: [{ type: 'content', path: '/usr/bin/x', content: 'x' }] },
      { compression: 'none' },
    );
    if (!hasTar) return;
    expect(tarNames(bytes)).toEqual(['usr/bin/x']);
  });

  it('merges identical duplicates (same file twice, a dir named twice)', async () => {
    const src = makeTree(tmp());
    const { bytes } = await readAll(
      {
        entries: [
          { type: 'directory', path: '/app', source: src },
          { type: 'file', path: '/app/main.js', source: join(src, 'main.js') },
          { type: 'directory', path: '/app/lib' },
          { type: 'content', path: '/app/main.js', content: 'console.log("hi")\n' },
        ],
      },
      { compression: 'none' },
    );
    if (!hasTar) return;
    expect(tarNames(bytes).filter((n) => n === 'app/main.js' || n === 'app/lib/')).toEqual([
      'app/lib/',
      'app/main.js',
    ]);
  });

  it('writeLayerMetadata writes canonical JSON that parses back', async () => {
    const dir = tmp();
    const meta = await writeLayerToFile(
      { entries: [{ type: 'content', path: 'x', content: 'x' }] },
      join(dir, 'blob'),
      {
        annotations: { 'org.example': 'v' },
      },
    );
    await writeLayerMetadata(join(dir, 'meta.json'), meta);
    const text = readFileSync(join(dir, 'meta.json'), 'utf8');
    expect(parseLayerMetadata(text, 'meta.json')).toEqual(meta);
    expect(readdirSync(dir).sort()).toEqual(['blob', 'meta.json']);
  });

  it('writeLayerToFile leaves nothing behind on error', async () => {
    const dir = tmp();
    const blob = join(dir, 'out', 'blob.tgz');
    mkdirSync(join(dir, 'out'));
    await expect(
      writeLayerToFile({ entries: [{ type: 'file', path: '/x', source: join(dir, 'missing') }] }, blob),
    ).rejects.toMatchObject({ code: 'IMG_LAYER_SOURCE_MISSING' });
    expect(readdirSync(join(dir, 'out'))).toEqual([]);
    expect(existsSync(blob)).toBe(false);
  });
});
