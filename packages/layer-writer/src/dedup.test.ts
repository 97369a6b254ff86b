import { linkSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LayerSpec } from './spec.js';
import { perTestCleanup, run, tarList, toolAvailable } from './test-helpers.js';
import { writeLayer, writeLayerToFile } from './write-layer.js';

const hasTar = toolAvailable('tar');
const { tmp } = perTestCleanup();

/** Deterministic, poorly compressible data (so the blob size shows whether content was stored). */
function noise(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, i);
  }
  return b;
}

async function tarOf(spec: LayerSpec): Promise<Buffer> {
  const { stream } = writeLayer(spec, { compression: 'none' });
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('hardlink dedup', () => {
  it('100 copies of a 10 MiB file make a ~10 MiB layer of one file and 99 hardlinks', async () => {
    const dir = tmp();
    const src = join(dir, 'tree');
    mkdirSync(src);
    const data = noise(10 * 1024 * 1024, 7);
    for (let i = 0; i < 100; i++) writeFileSync(join(src, `copy-${String(i).padStart(3, '0')}.bin`), data);
    const meta = await writeLayerToFile(
      { entries: [{ type: 'directory', path: '/data', source: src }] },
      join(dir, 'l.tgz'),
    );
    expect(meta.uncompressed_size).toBeLessThan(10 * 1024 * 1024 + 200 * 1024);
    expect(meta.size).toBeLessThan(10.2 * 1024 * 1024);
    expect(statSync(join(dir, 'l.tgz')).size).toBe(meta.size);
    if (!hasTar) return;
    const lines = tarList(run('gzip', ['-dc', join(dir, 'l.tgz')]));
    expect(lines[1]).toBe('-rw-r--r-- 0/0        10485760 1970-01-01 00:00 data/copy-000.bin');
    const links = lines.filter((l) => l.startsWith('h'));
    expect(links).toHaveLength(99);
    expect(links[98]).toBe(
      'hrw-r--r-- 0/0               0 1970-01-01 00:00 data/copy-099.bin link to data/copy-000.bin',
    );
  });

  it('links only equal content with equal metadata; same size with other content stays a file', async () => {
    const dir = tmp();
    const a = noise(4096, 1);
    const b = noise(4096, 2);
    writeFileSync(join(dir, 'a'), a);
    writeFileSync(join(dir, 'a2'), a);
    writeFileSync(join(dir, 'b'), b);
    const tar = await tarOf({
      entries: [
        { type: 'file', path: '/1', source: join(dir, 'a') },
        { type: 'file', path: '/2', source: join(dir, 'b') },
        { type: 'file', path: '/3', source: join(dir, 'a2') },
        { type: 'file', path: '/4', source: join(dir, 'a2') },
        { type: 'content', path: '/5', content: a },
        { type: 'content', path: '/6', content: a },
        { type: 'file', path: '/7', source: join(dir, 'b') },
      ],
      fileMetadata: { '/6': { mode: '0600' } },
    });
    if (!hasTar) return;
    expect(tarList(tar)).toEqual([
      '-rw-r--r-- 0/0            4096 1970-01-01 00:00 1',
      '-rw-r--r-- 0/0            4096 1970-01-01 00:00 2',
      'hrw-r--r-- 0/0               0 1970-01-01 00:00 3 link to 1',
      'hrw-r--r-- 0/0               0 1970-01-01 00:00 4 link to 1',
      'hrw-r--r-- 0/0               0 1970-01-01 00:00 5 link to 1',
      '-rw------- 0/0            4096 1970-01-01 00:00 6',
      'hrw-r--r-- 0/0               0 1970-01-01 00:00 7 link to 2',
    ]);
  });

  it('treats host hardlinks (same inode) as the same content and leaves empty files alone', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'x'), noise(1000, 3));
    linkSync(join(dir, 'x'), join(dir, 'y'));
    writeFileSync(join(dir, 'e1'), '');
    writeFileSync(join(dir, 'e2'), '');
    const tar = await tarOf({ entries: [{ type: 'directory', path: '/', source: dir }] });
    if (!hasTar) return;
    expect(tarList(tar)).toEqual([
      '-rw-r--r-- 0/0               0 1970-01-01 00:00 e1',
      '-rw-r--r-- 0/0               0 1970-01-01 00:00 e2',
      '-rw-r--r-- 0/0            1000 1970-01-01 00:00 x',
      'hrw-r--r-- 0/0               0 1970-01-01 00:00 y link to x',
    ]);
  });

  it('can be turned off', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'x'), 'same');
    writeFileSync(join(dir, 'y'), 'same');
    const { stream, metadata } = writeLayer(
      { entries: [{ type: 'directory', path: '/', source: dir }] },
      { compression: 'none', deduplicate: false },
    );
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    await metadata;
    if (!hasTar) return;
    expect(tarList(Buffer.concat(chunks)).filter((l) => l.startsWith('h'))).toEqual([]);
  });
});
