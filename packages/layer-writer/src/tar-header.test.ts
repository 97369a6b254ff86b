import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BLOCK_SIZE, encodePaxRecords, encodeTarHeader, type TarHeader } from './tar-header.js';
import { TarWriter } from './tar-writer.js';
import { perTestCleanup, run, tarList, tempDir, toolAvailable } from './test-helpers.js';

const hasTar = toolAvailable('tar');

async function buildTar(entries: Array<[TarHeader, Uint8Array?]>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const w = new TarWriter(
    (c) => {
      chunks.push(Buffer.from(c));
    },
    { chunkSize: 4096 },
  );
  for (const [h, data] of entries) await w.writeEntry(h, data);
  await w.finish();
  return Buffer.concat(chunks);
}

const base = { mode: 0o644, uid: 0, gid: 0, mtime: 0 } as const;
const { defer } = perTestCleanup();

describe('encodeTarHeader', () => {
  it('writes a single USTAR block when every field fits', () => {
    const block = encodeTarHeader({ ...base, name: 'app/x', type: 'file', size: 5 });
    expect(block.length).toBe(BLOCK_SIZE);
    expect(block.subarray(257, 265).toString('latin1')).toBe('ustar\x0000');
    expect(block.subarray(100, 108).toString('latin1')).toBe('0000644\0');
    expect(block.subarray(124, 136).toString('latin1')).toBe('00000000005\0');
    expect(block[156]).toBe(0x30);
    // checksum: 6 octal digits, NUL, space; equal to the byte sum with the field as spaces
    const copy = Buffer.from(block);
    copy.fill(0x20, 148, 156);
    const sum = copy.reduce((a, b) => a + b, 0);
    expect(block.subarray(148, 156).toString('latin1')).toBe(`${sum.toString(8).padStart(6, '0')}\0 `);
  });

  it('adds a trailing slash to directory names and no PAX header', () => {
    const block = encodeTarHeader({ ...base, mode: 0o755, name: 'app', type: 'directory' });
    expect(block.length).toBe(BLOCK_SIZE);
    expect(block.subarray(0, 5).toString('latin1')).toBe('app/\0');
    expect(block[156]).toBe(0x35);
  });

  it('splits names of 101..256 ASCII bytes into prefix + name without PAX', () => {
    const name = `${'d'.repeat(120)}/${'f'.repeat(90)}`;
    const block = encodeTarHeader({ ...base, name, type: 'file', size: 0 });
    expect(block.length).toBe(BLOCK_SIZE);
    expect(block.subarray(345, 345 + 120).toString('latin1')).toBe('d'.repeat(120));
  });

  it('uses one local PAX header (sorted keys) for long names, big ids and explicit records', () => {
    const name = 'x'.repeat(300);
    const out = encodeTarHeader({
      ...base,
      name,
      type: 'file',
      size: 0,
      uid: 0o10000000,
      paxRecords: { 'SCHILY.xattr.user.b': '2', 'SCHILY.xattr.user.a': '1' },
    });
    expect(out[156]).toBe(0x78); // 'x'
    expect(out.length).toBe(3 * BLOCK_SIZE);
    const size = Number.parseInt(out.subarray(124, 135).toString('latin1'), 8);
    const records = out.subarray(BLOCK_SIZE, BLOCK_SIZE + size).toString('utf8');
    const keys = records
      .split('\n')
      .filter(Boolean)
      .map((r) => r.slice(r.indexOf(' ') + 1, r.indexOf('=')));
    expect(keys).toEqual(['SCHILY.xattr.user.a', 'SCHILY.xattr.user.b', 'path', 'uid']);
    // the main header's uid field is 0 when PAX carries it
    expect(out.subarray(2 * BLOCK_SIZE + 108, 2 * BLOCK_SIZE + 116).toString('latin1')).toBe('0000000\0');
  });

  it('carries sizes above 8 GiB in PAX', () => {
    const out = encodeTarHeader({ ...base, name: 'big', type: 'file', size: 9 * 1024 ** 3 });
    expect(out.length).toBe(3 * BLOCK_SIZE);
    expect(out.subarray(BLOCK_SIZE, 2 * BLOCK_SIZE).toString('utf8')).toContain(`size=${9 * 1024 ** 3}\n`);
  });

  it('computes PAX record lengths that include their own digits', () => {
    for (const len of [1, 5, 90, 95, 96, 97, 98, 990, 995, 996]) {
      const rec = encodePaxRecords({ k: 'v'.repeat(len) }).toString('utf8');
      expect(Number.parseInt(rec, 10)).toBe(Buffer.byteLength(rec));
    }
  });

  it('rejects invalid numbers naming the entry', () => {
    expect(() => encodeTarHeader({ ...base, name: 'a', type: 'file', mode: 0o17777 })).toThrow(
      /a: invalid mode/,
    );
    expect(() => encodeTarHeader({ ...base, name: 'a', type: 'file', uid: -1 })).toThrow(/a: invalid uid/);
  });
});

describe.runIf(hasTar)('GNU tar reads what we write', () => {
  it('lists names, modes, owners, links, long and non-ASCII names exactly', async () => {
    const long255 = `${'a'.repeat(150)}/${'b'.repeat(99)}`;
    const long300 = `deep/${'c'.repeat(290)}.txt`;
    const target = `/opt/${'t'.repeat(150)}`;
    const tar = await buildTar([
      [{ ...base, mode: 0o755, name: 'app', type: 'directory' }],
      [{ ...base, mode: 0o755, name: 'app/run', type: 'file' }, Buffer.from('#!/bin/sh\n')],
      [{ ...base, mode: 0o4755, name: 'app/suid', type: 'file' }, Buffer.from('x')],
      [{ ...base, mode: 0o644, name: 'app/link-run', type: 'hardlink', linkname: 'app/run' }],
      [{ ...base, mode: 0o777, name: 'app/abs', type: 'symlink', linkname: '/etc/passwd' }],
      [{ ...base, mode: 0o777, name: 'app/longlink', type: 'symlink', linkname: target }],
      [{ ...base, name: long255, type: 'file' }, Buffer.from('long')],
      [{ ...base, name: long300, type: 'file' }, Buffer.from('longer')],
      [{ ...base, name: 'ünïcødé/日本.txt', type: 'file' }, Buffer.from('u')],
      [{ ...base, name: 'ids', type: 'file', uid: 3_000_000, gid: 70_000, uname: 'svc', gname: 'grp' }],
      [{ ...base, name: 'dated', type: 'file', mtime: 1_700_000_000 }],
    ]);
    expect(tar.length % BLOCK_SIZE).toBe(0);
    expect(tar.subarray(tar.length - 1024).every((b) => b === 0)).toBe(true);
    const lines = tarList(tar);
    expect(lines).toEqual([
      'drwxr-xr-x 0/0               0 1970-01-01 00:00 app/',
      '-rwxr-xr-x 0/0              10 1970-01-01 00:00 app/run',
      '-rwsr-xr-x 0/0               1 1970-01-01 00:00 app/suid',
      'hrw-r--r-- 0/0               0 1970-01-01 00:00 app/link-run link to app/run',
      'lrwxrwxrwx 0/0               0 1970-01-01 00:00 app/abs -> /etc/passwd',
      `lrwxrwxrwx 0/0               0 1970-01-01 00:00 app/longlink -> ${target}`,
      `-rw-r--r-- 0/0               4 1970-01-01 00:00 ${long255}`,
      `-rw-r--r-- 0/0               6 1970-01-01 00:00 ${long300}`,
      '-rw-r--r-- 0/0               1 1970-01-01 00:00 ünïcødé/日本.txt',
      '-rw-r--r-- 3000000/70000     0 1970-01-01 00:00 ids',
      '-rw-r--r-- 0/0               0 2023-11-14 22:13 dated',
    ]);
  });

  it('extracts to the same tree (modes, symlinks, hardlinks, content)', async () => {
    const t = tempDir();
    defer(t.cleanup);
    const tar = await buildTar([
      [{ ...base, mode: 0o750, name: 'd', type: 'directory' }],
      [{ ...base, mode: 0o755, name: 'd/exe', type: 'file' }, Buffer.from('run')],
      [{ ...base, mode: 0o755, name: 'd/exe2', type: 'hardlink', linkname: 'd/exe' }],
      [{ ...base, mode: 0o777, name: 'd/rel', type: 'symlink', linkname: '../d/exe' }],
      [{ ...base, mode: 0o600, name: `d/${'n'.repeat(200)}`, type: 'file' }, Buffer.from('long')],
      [{ ...base, mode: 0o640, name: 'd/ñ', type: 'file' }, Buffer.alloc(0)],
    ]);
    run('tar', ['-xpf', '-', '-C', t.dir], tar);
    const d = join(t.dir, 'd');
    expect(lstatSync(d).mode & 0o7777).toBe(0o750);
    expect(readFileSync(join(d, 'exe'), 'utf8')).toBe('run');
    expect(lstatSync(join(d, 'exe')).mode & 0o7777).toBe(0o755);
    expect(lstatSync(join(d, 'exe2')).ino).toBe(lstatSync(join(d, 'exe')).ino);
    expect(readlinkSync(join(d, 'rel'))).toBe('../d/exe');
    expect(readFileSync(join(d, 'n'.repeat(200)), 'utf8')).toBe('long');
    expect(lstatSync(join(d, 'ñ')).mode & 0o7777).toBe(0o640);
    expect(readdirSync(d).sort()).toEqual(['exe', 'exe2', 'n'.repeat(200), 'rel', 'ñ'].sort());
  });
});

describe('TarWriter chunk buffers', () => {
  it('takes the next buffer only after the sink accepted the last one, so one buffer can serve', async () => {
    const free: Buffer[] = [];
    const made: Buffer[] = [];
    const out: Buffer[] = [];
    const w = new TarWriter(
      async (chunk) => {
        await new Promise((resolve) => setImmediate(resolve));
        out.push(Buffer.from(chunk));
        free.push(chunk); // done with it: the writer may have it back
      },
      {
        chunkSize: 1024,
        allocate: () => {
          const buf = free.pop() ?? Buffer.alloc(1024);
          if (!made.includes(buf)) made.push(buf);
          return buf;
        },
      },
    );
    const data = Buffer.alloc(5000, 'x');
    await w.writeEntry({ ...base, name: 'f', type: 'file' }, data);
    await w.finish();
    expect(made).toHaveLength(1);
    const tar = Buffer.concat(out);
    expect(tar.length).toBe(BLOCK_SIZE + 5120 + 2 * BLOCK_SIZE);
    expect(tar.subarray(BLOCK_SIZE, BLOCK_SIZE + 5000).equals(data)).toBe(true);
  });
});
