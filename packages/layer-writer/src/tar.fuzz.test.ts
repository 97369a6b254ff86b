// Property/fuzz tests of the tar reader: random and mutated headers and archives always finish, hold
// bounded memory and fail only with LayerError; what we write reads back exactly.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawTarHeader, TAR_END, withChecksum } from '@img/test-utils';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fuzzParameters, fuzzTimeout } from '../../../test/fuzz.js';
import { LayerError } from './errors.js';
import { parsePaxRecords } from './pax-records.js';
import type { TarHeader } from './tar-header.js';
import { type TarEntryInfo, TarParser } from './tar-reader.js';
import { TarWriter } from './tar-writer.js';
import { tempDir, toolAvailable } from './test-helpers.js';

const KiB = 1024;
/** Small caps so that a case that would grow past them shows up as memory, not as a pass. */
const LIMITS = { maxHeaderSize: 64 * KiB, maxEntries: 10_000, maxTrailingBytes: 16 * KiB };
const MEMORY_BOUND = 32 * 1024 * KiB;

function memory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Parse in `chunk`-byte pieces: returns the entries, or the LayerError; anything else fails. */
function parseHostile(tar: Uint8Array, chunk: number): TarEntryInfo[] | LayerError {
  const before = memory();
  const entries: TarEntryInfo[] = [];
  let peak = before;
  try {
    const p = new TarParser(
      {
        onEntry: (e) => {
          entries.push(e);
          peak = Math.max(peak, memory());
        },
      },
      LIMITS,
    );
    const buf = Buffer.from(tar);
    for (let i = 0; i < buf.length; i += chunk) p.push(buf.subarray(i, i + chunk));
    p.end();
  } catch (err) {
    if (!(err instanceof LayerError)) throw err;
    return err;
  } finally {
    expect(Math.max(peak, memory()) - before).toBeLessThan(MEMORY_BOUND);
  }
  for (const e of entries) {
    expect(Number.isSafeInteger(e.size) && e.size >= 0).toBe(true);
    expect(e.dataOffset).toBeLessThanOrEqual(tar.length);
    expect(Buffer.byteLength(e.name)).toBeLessThanOrEqual(4096);
  }
  expect(entries.length).toBeLessThanOrEqual(tar.length / 512);
  return entries;
}

/** Offsets of the fields a mutation should hit most: sizes, typeflag, checksum, magic, numbers. */
const FIELD_OFFSETS = [0, 99, 100, 108, 116, 124, 125, 135, 136, 148, 155, 156, 157, 257, 263, 329, 337, 345];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('field' as const),
    block: fc.nat({ max: 64 }),
    field: fc.constantFrom(...FIELD_OFFSETS),
    bytes: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 12 }),
      fc.constantFrom(
        Buffer.from('-1536'),
        Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfa, 0x00]),
        Buffer.from([0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        Buffer.from('77777777777'),
        Buffer.from('x'),
        Buffer.from('L'),
        Buffer.from('g'),
      ),
    ),
    fixChecksum: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ maxLength: 1100 }),
  }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(tar: Buffer, mutations: readonly Mutation[]): Buffer {
  let out = Buffer.from(tar);
  for (const m of mutations) {
    if (out.length === 0) break;
    if (m.kind === 'byte') out[m.at % out.length] = m.value;
    else if (m.kind === 'cut') out = out.subarray(0, m.at % (out.length + 1));
    else if (m.kind === 'splice') {
      const at = m.at % (out.length + 1);
      out = Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
    } else {
      const start = (m.block * 512) % Math.max(512, out.length - (out.length % 512));
      if (start + 512 > out.length) continue;
      Buffer.from(m.bytes).copy(out, start + m.field, 0, Math.min(m.bytes.length, 512 - m.field));
      if (m.fixChecksum) withChecksum(out.subarray(start, start + 512));
    }
  }
  return out;
}

const name = fc
  .array(
    fc.oneof(
      fc.stringMatching(/^[a-z0-9._-]{1,12}$/),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }).filter((s) => !/[/\0]/.test(s)),
    ),
    { minLength: 1, maxLength: 12 },
  )
  .map((parts) => parts.join('/'))
  .filter((n) => n !== '.' && n !== '..');

const entry = fc.record({
  name,
  type: fc.constantFrom('file', 'directory', 'symlink', 'hardlink', 'char', 'fifo'),
  size: fc.nat({ max: 3000 }),
  mode: fc.nat({ max: 0o7777 }),
  uid: fc.oneof(fc.nat({ max: 70000 }), fc.constant(2 ** 40)),
  mtime: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  linkname: name,
  xattr: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined }),
});

type Entry = typeof entry extends fc.Arbitrary<infer T> ? T : never;

async function writeTar(entries: readonly Entry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const w = new TarWriter((c) => {
    chunks.push(Buffer.from(c));
  });
  for (const [i, e] of entries.entries()) {
    const header: TarHeader = {
      name: e.name,
      type: e.type,
      mode: e.mode,
      uid: e.uid,
      gid: i,
      mtime: e.mtime,
      ...(e.type === 'file' ? { size: e.size } : {}),
      ...(e.type === 'symlink' || e.type === 'hardlink' ? { linkname: e.linkname } : {}),
      ...(e.xattr ? { paxRecords: { 'SCHILY.xattr.user.x': e.xattr } } : {}),
    };
    await w.writeEntry(header, e.type === 'file' ? Buffer.alloc(e.size, i) : undefined);
  }
  await w.finish();
  return Buffer.concat(chunks);
}

/** Real archives from GNU tar (gnu, pax, ustar formats) of a small tree, when tar is installed. */
const gnuTars: Buffer[] = [];

beforeAll(() => {
  if (!toolAvailable('tar')) return;
  const t = tempDir('tar-fuzz-');
  try {
    const root = join(t.dir, 'tree');
    const deep = join(root, 'd', 'e', 'x'.repeat(60), 'y'.repeat(50));
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, `${'long-name-'.repeat(9)}.txt`), 'x'.repeat(700));
    writeFileSync(join(root, 'ü.txt'), 'unicode');
    writeFileSync(join(root, 'empty'), '');
    execFileSync('ln', ['-s', 'd/e', join(root, 'link')]);
    execFileSync('ln', [join(root, 'ü.txt'), join(root, 'hard')]);
    for (const format of ['gnu', 'pax', 'ustar']) {
      const out = join(t.dir, `${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '--sort=name', '-C', root, '-cf', out, '.'], {
        stdio: 'ignore',
      });
      gnuTars.push(readFileSync(out));
    }
  } finally {
    t.cleanup();
  }
});

describe('TarParser (property)', () => {
  it(
    'random header blocks with a valid checksum: finish, bounded memory, LayerError only',
    () => {
      const block = fc
        .tuple(
          fc.uint8Array({ minLength: 512, maxLength: 512 }),
          fc.constantFrom(...'0125673LKxgSVMND\0'.split('')),
          fc.boolean(),
          fc.uint8Array({ maxLength: 2048 }),
        )
        .map(([bytes, flag, ustar, data]) => {
          const b = Buffer.from(bytes);
          b[156] = flag.charCodeAt(0);
          if (ustar) b.write('ustar\x0000', 257, 'latin1');
          return Buffer.concat([withChecksum(b), data]);
        });
      fc.assert(
        fc.property(
          fc.array(block, { minLength: 1, maxLength: 6 }),
          fc.integer({ min: 1, max: 1024 }),
          (blocks, chunk) => {
            parseHostile(Buffer.concat([...blocks, TAR_END]), chunk);
          },
        ),
        fuzzParameters(),
      );
    },
    fuzzTimeout(),
  );

  it(
    'mutated archives (ours and GNU tar gnu/pax/ustar): finish, bounded memory, LayerError only',
    async () => {
      const ours = await fc.sample(fc.array(entry, { minLength: 1, maxLength: 8 }), { numRuns: 8, seed: 1 });
      const seeds = [...(await Promise.all(ours.map(writeTar))), ...gnuTars];
      fc.assert(
        fc.property(
          fc.nat({ max: seeds.length - 1 }),
          fc.array(mutation, { minLength: 1, maxLength: 6 }),
          fc.integer({ min: 1, max: 4096 }),
          (i, mutations, chunk) => {
            parseHostile(mutate(seeds[i]!, mutations), chunk);
          },
        ),
        fuzzParameters(),
      );
    },
    fuzzTimeout(),
  );

  it(
    'hostile fields through rawTarHeader (sizes, names, type flags): LayerError only',
    () => {
      const header = fc.record({
        name: fc.oneof(fc.string({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 })),
        size: fc.oneof(fc.nat(), fc.uint8Array({ minLength: 12, maxLength: 12 })),
        typeflag: fc.constantFrom('0', '1', '2', '5', 'x', 'g', 'L', 'K', 'S', '?'),
        linkname: fc.oneof(fc.string({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 })),
      });
      fc.assert(
        fc.property(
          fc.array(header, { minLength: 1, maxLength: 5 }),
          fc.uint8Array({ maxLength: 3000 }),
          (hs, data) => {
            parseHostile(Buffer.concat([...hs.map((h) => rawTarHeader(h)), data, TAR_END]), 512);
          },
        ),
        fuzzParameters(),
      );
    },
    fuzzTimeout(),
  );

  it(
    'PAX record data: records or LayerError, never anything else',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }),
            fc
              .array(
                fc.tuple(fc.nat({ max: 40 }), fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })),
                { maxLength: 5 },
              )
              .map((rs) => Buffer.from(rs.map(([n, k, v]) => `${n} ${k}=${v}\n`).join(''))),
          ),
          (data) => {
            try {
              for (const [k, v] of Object.entries(parsePaxRecords(Buffer.from(data), 0))) {
                expect(k.length).toBeGreaterThan(0);
                expect(typeof v).toBe('string');
              }
            } catch (err) {
              expect(err).toBeInstanceOf(LayerError);
            }
          },
        ),
        fuzzParameters(),
      );
    },
    fuzzTimeout(),
  );

  it(
    'what TarWriter writes reads back: names, types, sizes, ids, times, binary xattrs, in any chunking',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(entry, { minLength: 1, maxLength: 10 }),
          fc.integer({ min: 1, max: 2000 }),
          async (entries, chunk) => {
            const tar = await writeTar(entries);
            const read = parseHostile(tar, chunk);
            expect(read).not.toBeInstanceOf(LayerError);
            const got = read as TarEntryInfo[];
            expect(got).toHaveLength(entries.length);
            for (const [i, e] of entries.entries()) {
              const g = got[i]!;
              expect(g.name).toBe(e.type === 'directory' ? `${e.name}/` : e.name);
              expect(g.type).toBe(e.type);
              expect(g.size).toBe(e.type === 'file' ? e.size : 0);
              expect([g.mode, g.uid, g.gid, g.mtime]).toEqual([e.mode, e.uid, i, e.mtime]);
              if (e.type === 'symlink' || e.type === 'hardlink') expect(g.linkname).toBe(e.linkname);
              if (e.xattr) {
                const v = g.paxRecords['SCHILY.xattr.user.x'] ?? g.binaryPaxRecords?.['SCHILY.xattr.user.x'];
                expect(Buffer.from(v ?? '').equals(Buffer.from(e.xattr))).toBe(true);
              }
            }
          },
        ),
        fuzzParameters(100),
      );
    },
    fuzzTimeout(),
  );
});
