// Interop with the reference implementation (github.com/containerd/stargz-snapshotter/estargz, pinned
// in test/oracles/estargz/go.mod): its verifier accepts our blobs, ours accepts blobs it builds from
// the same tar, and both describe the same tree.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { run, useTempDir } from '@img/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CS_MANIFEST_CHECKSUM_ANNOTATION,
  CS_MANIFEST_POSITION_ANNOTATION,
  CS_TARSPLIT_CHECKSUM_ANNOTATION,
  CS_TARSPLIT_POSITION_ANNOTATION,
  type EstargzLayerOptions,
  estargzFromTarToFile,
  openEstargz,
  parseToc,
  serializeToc,
  type TocEntry,
} from '../src/index.js';
import { TAR_SPLIT_FRAME_SIZE } from '../src/tar-split.js';
import {
  type FixtureTree,
  fixtureTree,
  LONG_DIR,
  LONG_NAME,
  MiB,
  ORACLE,
  oracleBuild,
  oracleRejects,
  oracleVerify,
  oracleZstdChunked,
  sha256,
  systemDecompress,
  writeOurs,
  writePlainTar,
} from './helpers.js';

const work = useTempDir('estargz-oracle-');
let tree: FixtureTree;
let plainTar: string;

beforeAll(async () => {
  tree = await fixtureTree(work.path);
  plainTar = await writePlainTar(tree.spec, work.join('plain.tar'));
});

const PRIORITIZED = ['app/main.js', 'bin/tool', `${LONG_DIR}/${LONG_NAME}`];

interface Variant {
  readonly name: string;
  readonly options: EstargzLayerOptions;
  /** Flags for estargz-oracle build/verify that make the same layout. */
  readonly buildFlags: string[];
  readonly verifyFlags: string[];
  readonly decompress: 'gzip' | 'zstd';
}

const VARIANTS: Variant[] = [
  { name: 'gzip, defaults', options: {}, buildFlags: ['-level', '6'], verifyFlags: [], decompress: 'gzip' },
  {
    name: 'gzip, prioritized files',
    options: { prioritizedFiles: PRIORITIZED },
    buildFlags: ['-level', '6', '-prioritized', 'PRIORITIZED'],
    verifyFlags: [],
    decompress: 'gzip',
  },
  {
    name: 'gzip, 1 MiB chunks, level 9',
    options: { chunkSize: MiB, level: 9 },
    buildFlags: ['-chunk-size', String(MiB), '-level', '9'],
    verifyFlags: [],
    decompress: 'gzip',
  },
  {
    name: 'zstd:chunked',
    options: { compression: 'zstd', zstdChunkedVariant: 'stargz-snapshotter', prioritizedFiles: PRIORITIZED },
    buildFlags: ['-zstdchunked', '-prioritized', 'PRIORITIZED'],
    verifyFlags: ['-zstdchunked'],
    decompress: 'zstd',
  },
];

/** TOC entries without the fields that depend on compressed sizes. */
function layoutFree(entries: readonly TocEntry[]): TocEntry[] {
  return entries.map(({ offset: _o, innerOffset: _i, ...rest }) => rest);
}

async function prioritizedFile(): Promise<string> {
  const path = work.join('prioritized.txt');
  await writeFile(path, `${PRIORITIZED.join('\n')}\n`);
  return path;
}

describe.skipIf(ORACLE === undefined)('reference estargz library', () => {
  for (const variant of VARIANTS) {
    describe(variant.name, () => {
      it('accepts our blob (VerifyTOC, every chunk read at its offset) and sees the same files', async () => {
        const ours = await writeOurs(tree.spec, work.join(`ours-${variant.name}.blob`), variant.options);
        const summary = await oracleVerify(ours.path, ours.tocDigest, variant.verifyFlags);
        expect(summary.tocDigest).toBe(ours.tocDigest);
        const byName = new Map(summary.files.map((f) => [f.name, f]));
        for (const [path, data] of tree.files) {
          const seen = byName.get(path);
          expect(seen, path).toBeDefined();
          if (seen!.type === 'reg') {
            expect(seen!.size ?? 0).toBe(data.length);
            expect(seen!.digest).toBe(sha256(data));
          } else {
            expect(seen!.type, path).toBe('hardlink');
          }
        }
        const big = byName.get('big.bin')!;
        expect(big.chunks).toBe(Math.ceil((10 * MiB) / (variant.options.chunkSize ?? 4 * MiB)));
        expect(byName.get('bin/main-link')).toMatchObject({ type: 'symlink', linkName: '../app/main.js' });
        expect(byName.get('abs-link')).toMatchObject({ type: 'symlink', linkName: '/etc/os-release' });
        expect(byName.get('empty-dir')).toMatchObject({ type: 'dir', mode: 0o755 });
        expect(byName.get('xattr.txt')!.xattrs).toEqual({ 'user.comment': 'hello <xattr>', 'user.ünï': 'ü' });
        expect(summary.chunks).toBeGreaterThan(tree.files.size - 4);
        // The diff_id is the digest of everything the blob decompresses to.
        const stream = await systemDecompress(ours.path, variant.decompress);
        expect(ours.metadata.diff_id).toBe(sha256(stream));
        expect(ours.metadata.uncompressed_size).toBe(stream.length);
      });

      it('builds a blob from the same tar that our verifier accepts, with the same TOC but offsets', async () => {
        const list = variant.buildFlags.includes('PRIORITIZED') ? await prioritizedFile() : '';
        const buildFlags = variant.buildFlags.map((f) => (f === 'PRIORITIZED' ? list : f));
        const refPath = work.join(`ref-${variant.name}.blob`);
        const ref = await oracleBuild(plainTar, refPath, buildFlags);
        const reader = await openEstargz(refPath);
        expect(reader.format).toBe(variant.decompress === 'zstd' ? 'zstd:chunked' : 'estargz');
        const report = await reader.verify(ref.tocDigest);
        expect(report.tocDigest).toBe(ref.tocDigest);
        for (const [path, data] of tree.files)
          expect((await reader.readFile(path)).equals(data), path).toBe(true);
        // The reference diff_id is the digest of the whole decompressed stream, like ours.
        const stream = await systemDecompress(refPath, variant.decompress);
        expect(ref.diffId).toBe(sha256(stream));

        // Same entries, metadata, digests and chunking as ours: only compressed offsets differ.
        const ours = await writeOurs(tree.spec, work.join(`ours2-${variant.name}.blob`), variant.options);
        const ourReader = await openEstargz(ours.path);
        expect(ourReader.toc.entries.length).toBeGreaterThan(tree.files.size + 4);
        expect(layoutFree(ourReader.toc.entries)).toEqual(layoutFree(reader.toc.entries));
      });
    });
  }

  it('writes TOC JSON byte for byte as Go marshals it (escapes, xattrs, unicode, field order)', async () => {
    const refPath = work.join('ref-json.blob');
    const ref = await oracleBuild(plainTar, refPath, ['-level', '1']);
    const reader = await openEstargz(refPath);
    expect(reader.tocDigest).toBe(ref.tocDigest);
    // Serialising the parsed reference TOC reproduces Go's exact bytes, hence its digest.
    expect(reader.toc.entries.some((e) => e.xattrs !== undefined)).toBe(true);
    expect(sha256(serializeToc(reader.toc))).toBe(ref.tocDigest);
    expect(parseToc(serializeToc(reader.toc), 'again')).toEqual(reader.toc);
  });

  it('reads reference blobs whose payloads share members (innerOffset), which VerifyTOC itself rejects', async () => {
    const refPath = work.join('ref-min-chunk.blob');
    const ref = await oracleBuild(plainTar, refPath, ['-min-chunk-size', '64000']);
    const reader = await openEstargz(refPath);
    expect(reader.toc.entries.some((e) => (e.innerOffset ?? 0) > 0)).toBe(true);
    const report = await reader.verify(ref.tocDigest);
    expect(report.files).toBeGreaterThan(5);
    for (const [path, data] of tree.files)
      expect((await reader.readFile(path)).equals(data), path).toBe(true);
    // Upstream (v0.18.2) VerifyTOC insists on one payload per offset.
    expect(await oracleRejects(refPath, ref.tocDigest)).toMatch(/found twice/);
  });

  it('our minChunkSize blobs are read by the reference reader (VerifyTOC aside) and verified by ours', async () => {
    const ours = await writeOurs(tree.spec, work.join('ours-min-chunk.blob'), { minChunkSize: 64_000 });
    const reader = await openEstargz(ours.path);
    expect(reader.toc.entries.filter((e) => (e.innerOffset ?? 0) > 0).length).toBeGreaterThan(2);
    await reader.verify(ours.tocDigest);
    const summary = await oracleVerify(ours.path, ours.tocDigest, ['-skip-verify-toc']);
    const util = summary.files.find((f) => f.name === 'app/copy-of-util.js')!;
    expect(util.digest).toBe(sha256(tree.files.get('app/copy-of-util.js')!));
  });

  it('rejects what the reference rejects: a wrong TOC digest', async () => {
    const ours = await writeOurs(tree.spec, work.join('ours-wrong.blob'));
    const wrong = `sha256:${'0'.repeat(64)}`;
    expect(await oracleRejects(ours.path, wrong)).toMatch(/invalid TOC JSON/);
    const reader = await openEstargz(ours.path);
    await expect(reader.verify(wrong)).rejects.toMatchObject({ code: 'IMG_ESTARGZ_TOC_DIGEST_MISMATCH' });
    expect((await readFile(ours.path)).length).toBe(ours.metadata.size);
  });

  describe('zstd:chunked, containers/storage layout (tar-split)', () => {
    it('is read back as containers/storage reads it and rebuilt by tar-split to the diff_id', async () => {
      for (const [name, options] of [
        ['default chunks', {}],
        ['1 MiB chunks, prioritized', { chunkSize: MiB, prioritizedFiles: PRIORITIZED }],
      ] as const) {
        const ours = await writeOurs(tree.spec, work.join(`cs-${name.replace(/\W+/g, '-')}.blob`), {
          compression: 'zstd',
          ...options,
        });
        const seen = await oracleZstdChunked(ours.path);
        const a = ours.metadata.annotations!;
        expect(seen.diffId, name).toBe(ours.metadata.diff_id);
        const { toc } = await openEstargz(ours.path);
        expect(seen.files).toBe(toc.entries.filter((e) => e.type === 'reg' && (e.size ?? 0) > 0).length);
        expect(seen.files).toBeGreaterThan(8);
        expect(seen.manifestChecksum).toBe(a[CS_MANIFEST_CHECKSUM_ANNOTATION]);
        expect(seen.manifestPosition).toBe(a[CS_MANIFEST_POSITION_ANNOTATION]);
        expect(seen.tarSplitChecksum).toBe(a[CS_TARSPLIT_CHECKSUM_ANNOTATION]);
        expect(seen.tarSplitPosition).toBe(a[CS_TARSPLIT_POSITION_ANNOTATION]);
      }
    });

    it('a tar converted with estargzFromTar (GNU headers, long names) rebuilds to its diff_id too', async () => {
      const gnu = work.join('cs-gnu.tar');
      await run('tar', ['--sort=name', '--format=gnu', '-C', tree.root, '-cf', gnu, '.']);
      const out = work.join('cs-gnu.zst');
      const meta = await estargzFromTarToFile(gnu, out, { compression: 'zstd' });
      expect((await oracleZstdChunked(out)).diffId).toBe(meta.diff_id);
    });

    it('a tar-split of many frames (a tree of 2,500 files) is read back and rebuilt to the diff_id', async () => {
      const root = work.join('many-files');
      for (let d = 0; d < 25; d++) {
        await mkdir(`${root}/d${d}`, { recursive: true });
        for (let f = 0; f < 100; f++) await writeFile(`${root}/d${d}/f${f}.txt`, `file ${d}/${f}\n`);
      }
      const ours = await writeOurs(
        { entries: [{ type: 'directory', path: '/', source: root }] },
        work.join('cs-many.blob'),
        { compression: 'zstd' },
      );
      const [, , tarSplitSize] = ours.metadata
        .annotations![CS_TARSPLIT_POSITION_ANNOTATION]!.split(':')
        .map(Number);
      expect(tarSplitSize).toBeGreaterThan(2 * TAR_SPLIT_FRAME_SIZE);
      const seen = await oracleZstdChunked(ours.path);
      expect(seen.diffId).toBe(ours.metadata.diff_id);
      const { toc } = await openEstargz(ours.path);
      expect(seen.files).toBe(toc.entries.filter((e) => e.type === 'reg' && (e.size ?? 0) > 0).length);
      expect(seen.files).toBeGreaterThanOrEqual(2500);
    });

    it('rejects a blob whose file data was altered (CRC-64 / digest checks)', async () => {
      const ours = await writeOurs(tree.spec, work.join('cs-bad.blob'), { compression: 'zstd' });
      const reader = await openEstargz(ours.path);
      const entry = reader.toc.entries.find((e) => e.name === 'app/main.js')!;
      const blob = await readFile(ours.path);
      const other = reader.toc.entries.find((e) => e.name === 'bin/tool')!;
      // Swap in another file's frame: sizes and digests no longer match the manifest.
      const bad = Buffer.concat([
        blob.subarray(0, entry.offset!),
        blob.subarray(other.offset!, other.endOffset!),
        blob.subarray(entry.endOffset!),
      ]);
      await writeFile(work.join('cs-bad2.blob'), bad);
      const r = await run(ORACLE!, ['zstdchunked', work.join('cs-bad2.blob')], { allowFailure: true });
      expect(r.code).not.toBe(0);
    });
  });
});
