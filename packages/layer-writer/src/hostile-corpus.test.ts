// The corpus of small hostile tars in test/fixtures/hostile/: each file is checked against its
// generator (UPDATE_HOSTILE_CORPUS=1 rewrites them) and must get its documented outcome from a
// rewrite, quickly. The multi-GiB bombs are generated at test time instead (see the CLI's
// hostile-inputs test), never committed.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { paxHeader, rawTarHeader, TAR_END, tarFileEntry, tarPadding, zstdZeroBomb } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { layerFromTar } from './from-tar.js';
import { type TarEntryInfo, TarParser } from './tar-reader.js';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'hostile');

interface Case {
  readonly file: string;
  readonly bytes: Buffer;
  /** The error code a rewrite fails with, or the names it keeps. */
  readonly outcome: { code: string; message: RegExp } | { names: string[] };
}

function withPadding(tar: Buffer, size: number): Buffer {
  return Buffer.concat([tar, Buffer.alloc(Math.max(0, size - tar.length))]);
}

const negativeBase256 = Buffer.alloc(12, 0xff);
negativeBase256.writeInt16BE(-512, 10);
const badRecord = Buffer.from('99 path=a\n');

const corpus: Case[] = [
  {
    file: 'negative-pax-size.tar',
    bytes: withPadding(
      Buffer.concat([paxHeader({ size: '-1536' }), tarFileEntry('a', 'hello'), TAR_END]),
      10240,
    ),
    outcome: { code: 'IMG_LAYER_INVALID_TAR', message: /invalid PAX size "-1536"/ },
  },
  {
    file: 'negative-base256-size.tar',
    bytes: Buffer.concat([rawTarHeader({ name: 'a', size: negativeBase256 }), TAR_END]),
    outcome: { code: 'IMG_LAYER_INVALID_TAR', message: /negative size -512/ },
  },
  {
    file: 'pax-record-length-overflow.tar',
    bytes: Buffer.concat([
      rawTarHeader({ name: 'PaxHeaders/a', typeflag: 'x', size: badRecord.length }),
      badRecord,
      tarPadding(badRecord.length),
      tarFileEntry('a'),
      TAR_END,
    ]),
    outcome: { code: 'IMG_LAYER_INVALID_TAR', message: /invalid PAX record/ },
  },
  {
    file: 'gnu-long-name-2g-declared.tar',
    bytes: Buffer.concat([rawTarHeader({ name: '././@LongLink', typeflag: 'L', size: 2 ** 31 }), TAR_END]),
    outcome: { code: 'IMG_LAYER_LIMIT_EXCEEDED', message: /GNU long name data of 2147483648 bytes/ },
  },
  {
    file: 'pax-headers-piling-up.tar.gz',
    bytes: gzipSync(
      Buffer.concat([
        ...Array.from({ length: 20 }, (_, i) => paxHeader({ [`k${i}`]: 'v'.repeat(60_000) })),
        tarFileEntry('a'),
        TAR_END,
      ]),
      { level: 9 },
    ),
    outcome: { code: 'IMG_LAYER_LIMIT_EXCEEDED', message: /PAX header data of \d+ bytes exceeds 1048576/ },
  },
  {
    file: 'zstd-window-256m.tar.zst',
    bytes: zstdZeroBomb(rawTarHeader({ name: 'a' }), 1024, 28),
    outcome: { code: 'IMG_LAYER_LIMIT_EXCEEDED', message: /window/ },
  },
  {
    file: 'latin1-names.tar',
    bytes: Buffer.concat([
      tarFileEntry(Buffer.from([0x61, 0xff]), '1'),
      tarFileEntry(Buffer.from([0x61, 0xfe]), '2'),
      TAR_END,
    ]),
    outcome: { code: 'IMG_LAYER_INVALID_PATH', message: /name "a\\xff" is not valid UTF-8/ },
  },
  {
    file: 'hardlink-outside.tar',
    bytes: Buffer.concat([
      tarFileEntry('f', '1'),
      rawTarHeader({ name: 'l', typeflag: '1', linkname: '../../outside' }),
      TAR_END,
    ]),
    outcome: { code: 'IMG_LAYER_PATH_ESCAPES', message: /escapes the layer root/ },
  },
  {
    file: 'hardlink-forward.tar',
    bytes: Buffer.concat([
      rawTarHeader({ name: 'l', typeflag: '1', linkname: 'f' }),
      tarFileEntry('f', '1'),
      TAR_END,
    ]),
    outcome: { code: 'IMG_LAYER_INVALID_TAR', message: /is not an earlier regular file/ },
  },
  {
    file: 'backslash-names.tar',
    bytes: Buffer.concat([tarFileEntry('a\\b', '1'), tarFileEntry('a/b', '2'), TAR_END]),
    outcome: { names: ['a/b', 'a\\b'] },
  },
  {
    file: 'binary-xattr.tar',
    bytes: Buffer.concat([
      paxHeader({ 'SCHILY.xattr.security.capability': Buffer.from([1, 0, 0, 2, 0x80, 0, 0, 0]) }),
      tarFileEntry('ping', 'x'),
      TAR_END,
    ]),
    outcome: { names: ['ping'] },
  },
];

async function rewrite(path: string): Promise<Buffer> {
  const { stream, metadata } = layerFromTar(path, { mode: 'rewrite', compression: 'none' });
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(p as Buffer);
  await metadata;
  return Buffer.concat(parts);
}

describe('hostile corpus (test/fixtures/hostile)', () => {
  it.each(corpus.map((c) => [c.file, c] as const))(
    '%s: the committed bytes are what the generator makes',
    (_f, c) => {
      const path = join(CORPUS, c.file);
      if (process.env.UPDATE_HOSTILE_CORPUS === '1' || !existsSync(path)) writeFileSync(path, c.bytes);
      // gzip bytes depend on the zlib build: compare what they hold.
      const content = (b: Buffer) => (c.file.endsWith('.gz') ? gunzipSync(b) : b);
      expect(content(readFileSync(path)).equals(content(c.bytes))).toBe(true);
      expect(c.bytes.length).toBeLessThan(64 * 1024);
    },
  );

  it.each(corpus.map((c) => [c.file, c] as const))(
    '%s: rewrite gives the documented outcome',
    async (_f, c) => {
      const path = join(CORPUS, c.file);
      if ('code' in c.outcome) {
        const err = (await rewrite(path).catch((e: unknown) => e)) as Error & { code: string };
        expect(err).toBeInstanceOf(Error);
        expect({ code: err.code, file: err.message.startsWith(path) }).toEqual({
          code: c.outcome.code,
          file: true,
        });
        expect(err.message).toMatch(c.outcome.message);
        return;
      }
      const out = await rewrite(path);
      const names: string[] = [];
      const entries: TarEntryInfo[] = [];
      const p = new TarParser({ onEntry: (e) => entries.push(e) });
      p.push(out);
      p.end();
      for (const e of entries) names.push(e.name);
      expect(names.sort()).toEqual([...c.outcome.names].sort());
      if (c.file === 'binary-xattr.tar') {
        expect(entries[0]!.binaryPaxRecords?.['SCHILY.xattr.security.capability']).toEqual(
          Buffer.from([1, 0, 0, 2, 0x80, 0, 0, 0]),
        );
      }
    },
  );
});
