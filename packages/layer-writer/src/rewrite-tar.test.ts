// layerFromTar in rewrite mode never changes content silently: names byte-exact (or refused), binary
// xattrs byte-exact, and the caps reach the parser.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { paxHeader, rawTarHeader, TAR_END, tarFileEntry } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { LayerError } from './errors.js';
import { type LayerFromTarOptions, layerFromTar } from './from-tar.js';
import { type TarEntryInfo, TarParser } from './tar-reader.js';
import { perTestCleanup } from './test-helpers.js';

const { tmp } = perTestCleanup();

async function rewrite(tar: Buffer, options: LayerFromTarOptions = {}): Promise<Buffer> {
  const path = join(tmp(), 'in.tar');
  writeFileSync(path, tar);
  const { stream, metadata } = layerFromTar(path, { mode: 'rewrite', compression: 'none', ...options });
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  await metadata;
  return Buffer.concat(parts);
}

function entries(tar: Buffer): TarEntryInfo[] {
  const out: TarEntryInfo[] = [];
  const p = new TarParser({ onEntry: (e) => out.push(e) });
  p.push(tar);
  p.end();
  return out;
}

describe('rewrite keeps content', () => {
  it('keeps a backslash in a name (a\\b and a/b are two files, not one)', async () => {
    const out = await rewrite(
      Buffer.concat([
        rawTarHeader({ name: 'a/', typeflag: '5', mode: 0o755 }),
        tarFileEntry('a/b', 'slash'),
        tarFileEntry('a\\b', 'backslash'),
        TAR_END,
      ]),
    );
    expect(entries(out).map((e) => e.name)).toEqual(['a/', 'a/b', 'a\\b']);
  });

  it('keeps binary xattr values byte-exact (a file capability with bytes >= 0x80)', async () => {
    const capability = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
    const out = await rewrite(
      Buffer.concat([
        paxHeader({ 'SCHILY.xattr.security.capability': capability, 'SCHILY.xattr.user.k': 'v', atime: '1' }),
        tarFileEntry('bin/ping', 'ELF'),
        TAR_END,
      ]),
    );
    const [e] = entries(out);
    expect(e!.binaryPaxRecords?.['SCHILY.xattr.security.capability']?.equals(capability)).toBe(true);
    expect({ ...e!.paxRecords }).toEqual({ 'SCHILY.xattr.user.k': 'v' });
    // The same bytes dedupe: two files with the same binary xattr and content become one and a link.
    const twice = await rewrite(
      Buffer.concat([
        paxHeader({ 'SCHILY.xattr.security.capability': capability }),
        tarFileEntry('a', 'same'),
        paxHeader({ 'SCHILY.xattr.security.capability': capability }),
        tarFileEntry('b', 'same'),
        paxHeader({ 'SCHILY.xattr.security.capability': Buffer.from([0x01, 0x81]) }),
        tarFileEntry('c', 'same'),
        TAR_END,
      ]),
    );
    expect(entries(twice).map((x) => [x.name, x.type])).toEqual([
      ['a', 'file'],
      ['b', 'hardlink'],
      ['c', 'file'],
    ]);
  });
});

describe('rewrite refuses what it cannot keep', () => {
  it('names that are not UTF-8, naming the tar', async () => {
    const err = await rewrite(
      Buffer.concat([
        tarFileEntry(Buffer.from([0x61, 0xff]), '1'),
        tarFileEntry(Buffer.from([0x61, 0xfe]), '2'),
        TAR_END,
      ]),
    ).catch((e: unknown) => e as LayerError);
    expect(err).toBeInstanceOf(LayerError);
    expect((err as LayerError).code).toBe('IMG_LAYER_INVALID_PATH');
    expect((err as LayerError).message).toMatch(
      /in\.tar: tar entry at offset 0: name "a\\xff" is not valid UTF-8/,
    );
  });

  it('input past a cap given as an option', async () => {
    const err = (await rewrite(Buffer.concat([tarFileEntry('a'), tarFileEntry('b'), TAR_END]), {
      maxEntries: 1,
    }).catch((e: unknown) => e)) as LayerError;
    expect(err.code).toBe('IMG_LAYER_LIMIT_EXCEEDED');
    expect(err.message).toMatch(/in\.tar: tar entry at offset 512: more than 1 entries/);
  });
});
