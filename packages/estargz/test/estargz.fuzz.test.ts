// Property/fuzz tests: the eStargz reader (footer, TOC, chunks) on mutated blobs fails only with
// EstargzError, and a conversion from any tar either refuses it or writes a blob that its own
// verifier accepts.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LayerError } from '@img/layer-writer';
import { type TarHeader, TarWriter } from '@img/layer-writer/internal';
import { useTempDir } from '@img/test-utils';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fuzzParameters, fuzzTimeout } from '../../../test/fuzz.js';
import { EstargzError, estargzFromTarToFile, openEstargz, TOC_DIGEST_ANNOTATION } from '../src/index.js';
import { pseudoRandom, writeOurs } from './helpers.js';

const work = useTempDir('estargz-fuzz-');
const KiB = 1024;
let cases = 0;
const seeds: Buffer[] = [];

beforeAll(async () => {
  const spec = {
    entries: [
      { type: 'content' as const, path: '/a.txt', content: 'hello\n'.repeat(50) },
      { type: 'content' as const, path: '/big.bin', content: pseudoRandom(40 * KiB, 3) },
      { type: 'content' as const, path: '/empty', content: '' },
      { type: 'symlink' as const, path: '/l', target: 'a.txt' },
    ],
  };
  for (const options of [
    {},
    { chunkSize: 8 * KiB },
    { compression: 'zstd' as const },
    { compression: 'zstd' as const, zstdChunkedVariant: 'stargz-snapshotter' as const },
    { minChunkSize: 64 * KiB },
  ]) {
    const { path } = await writeOurs(spec, work.join(`seed-${seeds.length}`), options);
    seeds.push(await readFile(path));
  }
});

const edit = fc.oneof(
  // Mostly the tail: footer and TOC.
  fc.record({ kind: fc.constant('tail' as const), back: fc.nat({ max: 2048 }), value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 64 }) }),
);
type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

function applyEdits(blob: Buffer, edits: readonly Edit[]): Buffer {
  let out = Buffer.from(blob);
  for (const e of edits) {
    if (out.length === 0) break;
    if (e.kind === 'tail') out[Math.max(0, out.length - 1 - (e.back % out.length))] = e.value;
    else if (e.kind === 'byte') out[e.at % out.length] = e.value;
    else if (e.kind === 'cut') out = out.subarray(0, e.at % out.length);
    else {
      const at = e.at % (out.length + 1);
      out = Buffer.concat([out.subarray(0, at), e.bytes, out.subarray(at)]);
    }
  }
  return out;
}

/** Open, verify against the blob's own TOC digest and read every file; only EstargzError may escape. */
async function readHostile(path: string): Promise<void> {
  try {
    const reader = await openEstargz(path, { maxTocSize: 256 * KiB, maxDecompressedSize: 4 * 1024 * KiB });
    await reader.verify(reader.tocDigest);
    for (const e of reader.entries()) if (e.type === 'reg') await reader.readFile(e.name);
  } catch (err) {
    if (!(err instanceof EstargzError)) throw err;
    expect(err.message.startsWith(path)).toBe(true);
  }
}

describe('EstargzReader (property)', () => {
  it(
    'mutated eStargz and zstd:chunked blobs: verify passes or fails with EstargzError naming the blob',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.nat({ max: 4 }),
          fc.array(edit, { minLength: 1, maxLength: 4 }),
          async (i, edits) => {
            const path = join(work.path, `case-${++cases % 8}`);
            await writeFile(path, applyEdits(seeds[i]!, edits));
            await readHostile(path);
          },
        ),
        fuzzParameters(),
      );
    },
    fuzzTimeout(),
  );
});

const segment = fc.oneof(
  fc.constantFrom('a', 'b', 'c', 'd', '..', '.', '', 'ü', '.no.prefetch.landmark', 'stargz.index.json'),
  fc.stringMatching(/^[a-z]{1,4}$/),
);
const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('/'));
const entry = fc.record({
  name: path,
  type: fc.constantFrom('file', 'directory', 'symlink', 'hardlink', 'fifo'),
  size: fc.nat({ max: 20 * KiB }),
  linkname: path,
});
type Entry = typeof entry extends fc.Arbitrary<infer T> ? T : never;

async function tarOf(entries: readonly Entry[]): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  const w = new TarWriter((c) => {
    chunks.push(Buffer.from(c));
  });
  try {
    for (const [i, e] of entries.entries()) {
      const header: TarHeader = {
        name: e.name,
        type: e.type,
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 0,
        ...(e.type === 'file' ? { size: e.size } : {}),
        ...(e.type === 'symlink' || e.type === 'hardlink' ? { linkname: e.linkname } : {}),
      };
      await w.writeEntry(header, e.type === 'file' ? pseudoRandom(e.size, i + 1) : undefined);
    }
    await w.finish();
  } catch {
    return undefined; // a name our own writer refuses (empty): not a tar to convert
  }
  return Buffer.concat(chunks);
}

describe('estargzFromTar (property)', () => {
  it(
    'any tar: refused with a LayerError/EstargzError naming it, or converted to a blob that verifies',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(entry, { minLength: 1, maxLength: 8 }),
          fc.constantFrom('gzip' as const, 'zstd' as const),
          async (entries, compression) => {
            const tar = await tarOf(entries);
            if (tar === undefined) return;
            const input = join(work.path, `in-${++cases % 8}.tar`);
            await writeFile(input, tar);
            const out = `${input}.blob`;
            let tocDigest: string;
            try {
              const meta = await estargzFromTarToFile(input, out, { compression, chunkSize: 8 * KiB });
              tocDigest = meta.annotations![TOC_DIGEST_ANNOTATION]!;
            } catch (err) {
              if (!(err instanceof LayerError || err instanceof EstargzError)) throw err;
              expect((err as Error).message.startsWith(input)).toBe(true);
              return;
            }
            const reader = await openEstargz(out);
            await reader.verify(tocDigest);
          },
        ),
        fuzzParameters(150),
      );
    },
    fuzzTimeout(),
  );
});
