// TarParser on hostile headers: every numeric field checked, every cap enforced, no loop.
import {
  paxHeader,
  paxRecord,
  rawTarHeader,
  TAR_END,
  tarFileEntry,
  tarPadding,
  withChecksum,
} from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { LayerError } from './errors.js';
import type { TarLimits } from './limits.js';
import { type TarEntryInfo, TarParser } from './tar-reader.js';

function parse(tar: Buffer, limits: TarLimits = {}, chunk = tar.length): TarEntryInfo[] {
  const entries: TarEntryInfo[] = [];
  const p = new TarParser({ onEntry: (e) => entries.push(e) }, limits);
  for (let i = 0; i < tar.length; i += chunk) p.push(tar.subarray(i, i + chunk));
  p.end();
  return entries;
}

function failure(tar: Buffer, limits: TarLimits = {}): LayerError {
  try {
    parse(tar, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(LayerError);
    return err as LayerError;
  }
  throw new Error('expected the parser to fail');
}

/** A GNU long name ('L') or link ('K') header with its data. */
function gnuLong(typeflag: 'L' | 'K', value: string | Buffer): Buffer {
  const data = Buffer.concat([Buffer.from(value), Buffer.alloc(1)]);
  return Buffer.concat([
    rawTarHeader({ name: '././@LongLink', typeflag, size: data.length }),
    data,
    tarPadding(data.length),
  ]);
}

describe('numeric fields', () => {
  it.each(['-1', '-512', '-1536', '+5', '5x', '', ' 5', '1e3', '0x10', '99999999999999999999'])(
    'refuses PAX size %j (a negative size used to move the parser backwards forever)',
    (size) => {
      const err = failure(Buffer.concat([paxHeader({ size }), tarFileEntry('a', 'hello'), TAR_END]));
      expect(err.code).toBe('IMG_LAYER_INVALID_TAR');
      expect(err.message).toContain(`invalid PAX size ${JSON.stringify(size)}`);
    },
  );

  it('refuses negative and unrepresentable base-256 sizes, reads valid ones', () => {
    const negative = Buffer.alloc(12, 0xff);
    negative.writeInt16BE(-512, 10);
    expect(failure(Buffer.concat([rawTarHeader({ name: 'a', size: negative }), TAR_END])).message).toMatch(
      /negative size -512 in the header at offset 0/,
    );
    const huge = Buffer.alloc(12, 0);
    huge[0] = 0x80;
    huge[4] = 0x01; // 2^56
    expect(failure(Buffer.concat([rawTarHeader({ name: 'a', size: huge }), TAR_END])).message).toMatch(
      /size field of the header at offset 0 is out of range/,
    );
    const five = Buffer.alloc(12, 0);
    five[0] = 0x80;
    five[11] = 5;
    const [e] = parse(
      Buffer.concat([rawTarHeader({ name: 'a', size: five }), Buffer.from('hello'), tarPadding(5), TAR_END]),
    );
    expect(e).toMatchObject({ name: 'a', size: 5 });
  });

  it('refuses negative uid/gid (PAX or header), accepts a negative PAX mtime', () => {
    expect(failure(Buffer.concat([paxHeader({ uid: '-1' }), tarFileEntry('a'), TAR_END])).message).toContain(
      'invalid PAX uid "-1"',
    );
    const negGid = Buffer.concat([rawTarHeader({ name: 'a' }), TAR_END]);
    negGid.fill(0xff, 116, 124);
    withChecksum(negGid.subarray(0, 512));
    expect(failure(negGid).message).toMatch(/negative gid -1/);
    const [e] = parse(Buffer.concat([paxHeader({ mtime: '-86400.5' }), tarFileEntry('a'), TAR_END]));
    expect(e!.mtime).toBe(-86401);
  });
});

describe('PAX records', () => {
  it.each([
    ['a length that does not fit', Buffer.from('99 path=a\n')],
    ['a zero length', Buffer.from('0 path=a\n')],
    ['a length without digits', Buffer.from(' path=a\n')],
    ['no newline at the declared end', Buffer.from('10 path=ab')],
    ['no key', Buffer.from('6 =abc\n')],
    ['a NUL in path', paxRecord('path', Buffer.from([0x61, 0x00, 0x62]))],
    ['garbage after NUL padding', Buffer.concat([paxRecord('a', 'b'), Buffer.from([0, 0, 0x41])])],
  ])('refuses %s', (_what, data) => {
    const tar = Buffer.concat([
      rawTarHeader({ name: 'PaxHeaders/a', typeflag: 'x', size: data.length }),
      data,
      tarPadding(data.length),
      tarFileEntry('a'),
      TAR_END,
    ]);
    const err = failure(tar);
    expect(err.code).toBe('IMG_LAYER_INVALID_TAR');
    expect(err.message).toMatch(/invalid PAX record in the header at offset 0/);
  });

  it('keeps binary values byte-exact and odd keys (__proto__) as data', () => {
    const capability = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0xff, 0x00, 0x00]);
    const [e] = parse(
      Buffer.concat([
        paxHeader({
          'SCHILY.xattr.security.capability': capability,
          ['__proto__']: 'x',
          'SCHILY.xattr.user.a': 'ü',
        }),
        tarFileEntry('a'),
        TAR_END,
      ]),
    );
    expect(e!.binaryPaxRecords?.['SCHILY.xattr.security.capability']?.equals(capability)).toBe(true);
    expect(Object.keys(e!.paxRecords).sort()).toEqual(['SCHILY.xattr.user.a', '__proto__']);
    expect(e!.paxRecords['SCHILY.xattr.user.a']).toBe('ü');
  });
});

describe('caps', () => {
  it('refuses a GNU long name larger than maxHeaderSize before reading it', () => {
    const header = rawTarHeader({ name: '././@LongLink', typeflag: 'L', size: 256 * 1024 * 1024 });
    const err = failure(Buffer.concat([header, Buffer.alloc(512, 0x61)]));
    expect(err.code).toBe('IMG_LAYER_LIMIT_EXCEEDED');
    expect(err.message).toMatch(
      /GNU long name data of 268435456 bytes exceeds 1048576.*--limit tar-header-size=N/,
    );
  });

  it('counts PAX data pending for one entry and global records across headers', () => {
    const local = Buffer.concat([paxHeader({ a: 'x'.repeat(600) }), paxHeader({ b: 'y'.repeat(600) })]);
    expect(failure(Buffer.concat([local, tarFileEntry('a'), TAR_END]), { maxHeaderSize: 1000 }).code).toBe(
      'IMG_LAYER_LIMIT_EXCEEDED',
    );
    const global = [
      paxHeader({ a: 'x'.repeat(600) }, 'g'),
      tarFileEntry('a'),
      paxHeader({ b: 'y'.repeat(600) }, 'g'),
    ];
    expect(
      failure(Buffer.concat([...global, tarFileEntry('b'), TAR_END]), { maxHeaderSize: 1000 }).message,
    ).toMatch(/global PAX records exceed 1000 bytes/);
  });

  it('caps entries, total name bytes, name length and depth', () => {
    const three = Buffer.concat([tarFileEntry('a'), tarFileEntry('b'), tarFileEntry('c'), TAR_END]);
    expect(parse(three, { maxEntries: 3 })).toHaveLength(3);
    expect(failure(three, { maxEntries: 2 }).message).toMatch(/more than 2 entries.*--limit tar-entries=N/);
    expect(failure(three, { maxNamesSize: 2 }).message).toMatch(/names and link targets exceed 2 bytes/);
    const long = Buffer.concat([gnuLong('L', `${'d/'.repeat(40)}f`), tarFileEntry('ignored'), TAR_END]);
    expect(parse(long)[0]!.name).toBe(`${'d/'.repeat(40)}f`);
    expect(failure(long, { maxPathLength: 80 }).message).toMatch(/name of 81 bytes is longer than 80/);
    expect(failure(long, { maxPathDepth: 40 }).message).toMatch(/name has 41 components, more than 40/);
    const link = Buffer.concat([
      gnuLong('K', 'x'.repeat(100)),
      rawTarHeader({ name: 'l', typeflag: '2' }),
      TAR_END,
    ]);
    expect(failure(link, { maxPathLength: 99 }).message).toMatch(/link target of 100 bytes/);
  });

  it('reads at most maxTrailingBytes after the end-of-archive marker', () => {
    const tar = Buffer.concat([tarFileEntry('a', 'b'), TAR_END, Buffer.alloc(9 * 1024)]);
    expect(parse(tar, { maxTrailingBytes: 9 * 1024 })).toHaveLength(1);
    expect(failure(tar, { maxTrailingBytes: 8 * 1024 }).message).toMatch(
      /more than 8192 bytes after the end-of-archive marker/,
    );
  });

  it('rejects invalid cap values as options errors', () => {
    expect(() => new TarParser({ onEntry() {} }, { maxEntries: 0 })).toThrow(
      /maxEntries: expected a positive integer/,
    );
  });
});

describe('names', () => {
  it('refuses names and link targets that are not UTF-8, from any source, naming the bytes', () => {
    for (const tar of [
      Buffer.concat([tarFileEntry(Buffer.from([0x61, 0xff])), TAR_END]),
      Buffer.concat([gnuLong('L', Buffer.from([0x62, 0xc3])), tarFileEntry('x'), TAR_END]),
      Buffer.concat([paxHeader({ path: Buffer.from([0xe9]) }), tarFileEntry('x'), TAR_END]),
    ]) {
      const err = failure(tar);
      expect(err.code).toBe('IMG_LAYER_INVALID_PATH');
      expect(err.message).toMatch(/name "(a\\xff|b\\xc3|\\xe9)" is not valid UTF-8/);
    }
    const link = Buffer.concat([
      rawTarHeader({ name: 'l', typeflag: '2', linkname: Buffer.from([0xff]) }),
      TAR_END,
    ]);
    expect(failure(link).message).toMatch(/link target "\\xff" is not valid UTF-8/);
  });

  it('gives the same entries whatever the chunking (down to 1 byte)', () => {
    const tar = Buffer.concat([
      paxHeader({ path: 'ü/long', 'SCHILY.xattr.user.k': 'v' }),
      tarFileEntry('x', 'data'),
      gnuLong('L', 'g'.repeat(200)),
      tarFileEntry('y', 'more'),
      TAR_END,
    ]);
    const whole = parse(tar);
    expect(whole.map((e) => e.name)).toEqual(['ü/long', 'g'.repeat(200)]);
    for (const chunk of [1, 7, 511, 513]) expect(parse(tar, {}, chunk)).toEqual(whole);
  });
});
