import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { writeLayerToFile } from '@img/layer-writer';
import { useTempDir } from '@img/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { EstargzAssembler } from '../src/assembler.js';
import { gzipCodec, type MemberCodec } from '../src/codec.js';
import {
  CS_MANIFEST_CHECKSUM_ANNOTATION,
  CS_MANIFEST_POSITION_ANNOTATION,
  CS_TARSPLIT_CHECKSUM_ANNOTATION,
  CS_TARSPLIT_POSITION_ANNOTATION,
  FOOTER_SIZE,
  NO_PREFETCH_LANDMARK,
  openEstargz,
  PREFETCH_LANDMARK,
  serializeToc,
  TOC_DIGEST_ANNOTATION,
  TOC_TAR_NAME,
  UNCOMPRESSED_SIZE_ANNOTATION,
  writeEstargzLayer,
  ZSTD_CHUNKED_MANIFEST_POSITION_ANNOTATION,
} from '../src/index.js';
import {
  type FixtureTree,
  fixtureTree,
  MiB,
  sha256,
  systemDecompress,
  tarNames,
  unzstd,
  writeOurs,
} from './helpers.js';

const work = useTempDir('estargz-write-');
let tree: FixtureTree;

beforeAll(async () => {
  tree = await fixtureTree(work.path);
});

describe('writeEstargzLayer (gzip)', () => {
  it('is a valid tar.gz: entries, then the TOC entry, then the archive end; diff_id covers all of it', async () => {
    const ours = await writeOurs(tree.spec, work.join('plain-check.blob'));
    const stream = await systemDecompress(ours.path);
    await writeFile(work.join('plain-check.tar'), stream);
    const names = await tarNames(work.join('plain-check.tar'));
    expect(names[0]).toBe(NO_PREFETCH_LANDMARK);
    expect(names.at(-1)).toBe(TOC_TAR_NAME);
    expect(names).toContain('big.bin');
    expect(stream.subarray(stream.length - 1024).every((b) => b === 0)).toBe(true);
    expect(ours.metadata.diff_id).toBe(sha256(stream));
    expect(ours.metadata.uncompressed_size).toBe(stream.length);
    expect(ours.metadata.annotations![UNCOMPRESSED_SIZE_ANNOTATION]).toBe(String(stream.length));
    expect(ours.metadata.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    const blob = await readFile(ours.path);
    expect(ours.metadata.digest).toBe(sha256(blob));
    expect(ours.metadata.size).toBe(blob.length);
  });

  it('starts a gzip member at every payload chunk; the TOC digest is the sha256 of stargz.index.json', async () => {
    const ours = await writeOurs(tree.spec, work.join('members.blob'));
    const blob = await readFile(ours.path);
    const reader = await openEstargz(ours.path);
    const data = reader.toc.entries.filter(
      (e) => (e.type === 'reg' && (e.size ?? 0) > 0) || e.type === 'chunk',
    );
    expect(data.length).toBeGreaterThan(8);
    for (const e of data) {
      const offset = e.offset!;
      expect(blob.subarray(offset, offset + 4).toString('hex'), e.name).toBe('1f8b0800');
      expect(e.innerOffset).toBeUndefined();
      const file = reader.entries().find((x) => x.name === e.name.replace(/\/$/, ''))!;
      const chunk = file.chunks.find((c) => c.offset === offset)!;
      // gunzip from the member start: the chunk's bytes come first.
      const out = gunzipSync(blob.subarray(offset, chunk.compressedEnd));
      expect(sha256(out.subarray(0, chunk.chunkSize)), e.name).toBe(e.chunkDigest);
    }
    // The footer: an empty gzip member pointing at the TOC member.
    const footer = blob.subarray(blob.length - FOOTER_SIZE);
    expect(footer.subarray(0, 16).toString('hex')).toBe('1f8b08040000000000ff1a0053471600');
    expect(footer.subarray(16, 38).toString('latin1')).toBe(
      `${reader.tocOffset.toString(16).padStart(16, '0')}STARGZ`,
    );
    expect(gunzipSync(footer).length).toBe(0);
    const tocTar = gunzipSync(blob.subarray(reader.tocOffset, blob.length - FOOTER_SIZE));
    const size = Number.parseInt(tocTar.subarray(124, 136).toString('latin1').replace(/\0.*$/, ''), 8);
    expect(tocTar.subarray(0, TOC_TAR_NAME.length).toString()).toBe(TOC_TAR_NAME);
    expect(sha256(tocTar.subarray(512, 512 + size))).toBe(ours.tocDigest);
    expect(reader.tocDigest).toBe(ours.tocDigest);
  });

  it('splits files larger than the chunk size (10 MiB: 4 + 4 + 2 MiB)', async () => {
    const ours = await writeOurs(tree.spec, work.join('chunks.blob'));
    const reader = await openEstargz(ours.path);
    const chunks = reader.toc.entries.filter((e) => e.name === 'big.bin');
    expect(chunks.map((e) => [e.type, e.chunkOffset ?? 0, e.chunkSize])).toEqual([
      ['reg', 0, 4 * MiB],
      ['chunk', 4 * MiB, 4 * MiB],
      ['chunk', 8 * MiB, undefined],
    ]);
    expect(chunks[0]!.digest).toBe(sha256(tree.files.get('big.bin')!));
    expect((await reader.readFile('big.bin')).equals(tree.files.get('big.bin')!)).toBe(true);
  });

  it('puts prioritized files (with their parent directories) first, then .prefetch.landmark', async () => {
    const ours = await writeOurs(tree.spec, work.join('prio.blob'), {
      prioritizedFiles: ['/bin/tool', 'app/lib/util.js', './empty.txt'],
    });
    const reader = await openEstargz(ours.path);
    const names = reader.toc.entries.filter((e) => e.type !== 'chunk').map((e) => e.name);
    expect(names.slice(0, 7)).toEqual([
      'bin/',
      'bin/tool',
      'app/',
      'app/lib/',
      'app/lib/util.js',
      'empty.txt',
      PREFETCH_LANDMARK,
    ]);
    expect(names).not.toContain(NO_PREFETCH_LANDMARK);
    // The prioritized copy is the full file; its earlier-sorted twin becomes the hardlink.
    expect(reader.lookup('app/lib/util.js', false)!.type).toBe('reg');
    expect(reader.lookup('app/copy-of-util.js', false)).toMatchObject({
      type: 'hardlink',
      linkName: 'app/lib/util.js',
    });
    // The landmark's member holds only the landmark: the next payload starts a new member.
    const landmark = reader.toc.entries.find((e) => e.name === PREFETCH_LANDMARK)!;
    expect(landmark).toMatchObject({ size: 1, digest: sha256(Buffer.from([0x0f])) });
    await reader.verify(ours.tocDigest);
  });

  it('is deterministic: same spec, same bytes', async () => {
    const a = await writeOurs(tree.spec, work.join('det-a.blob'), { prioritizedFiles: ['app/main.js'] });
    const b = await writeOurs(tree.spec, work.join('det-b.blob'), { prioritizedFiles: ['app/main.js'] });
    expect(a.metadata).toEqual(b.metadata);
    expect((await readFile(a.path)).equals(await readFile(b.path))).toBe(true);
  });

  it('compressorJobs changes how many members are compressed at once, never the bytes', async () => {
    const digests = new Set<string>();
    for (const compressorJobs of [undefined, 1, 2, 4] as const) {
      const ours = await writeOurs(tree.spec, work.join(`jobs-${compressorJobs}.blob`), {
        ...(compressorJobs === undefined ? {} : { compressorJobs }),
      });
      digests.add(ours.metadata.digest);
    }
    expect(digests.size).toBe(1);

    await writeLayerToFile(tree.spec, work.join('jobs.tar'), { compression: 'none' });
    const tar = await readFile(work.join('jobs.tar'));
    for (const compressJobs of [1, 3]) {
      let running = 0;
      let most = 0;
      const gzip = gzipCodec(1);
      const codec: MemberCodec = {
        ...gzip,
        async member(data) {
          most = Math.max(most, ++running);
          await new Promise((resolve) => setTimeout(resolve, 2));
          try {
            return await gzip.member(data);
          } finally {
            running--;
          }
        },
      };
      const assembler = new EstargzAssembler({
        codec,
        chunkSize: 64 * 1024,
        minChunkSize: 0,
        compressJobs,
        output: async () => {},
      });
      assembler.endEntries(tar.length - 1024);
      await assembler.write(tar);
      await assembler.finish();
      expect(most).toBe(compressJobs);
    }
  });

  it('keeps user annotations and history; its own annotations win', async () => {
    const ours = await writeOurs(tree.spec, work.join('annotations.blob'), {
      annotations: { 'org.example/team': 'infra', [TOC_DIGEST_ANNOTATION]: 'bogus' },
      history: [{ created_by: 'test' }],
    });
    expect(ours.metadata.annotations!['org.example/team']).toBe('infra');
    expect(ours.metadata.annotations![TOC_DIGEST_ANNOTATION]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(ours.metadata.history).toEqual([{ created_by: 'test' }]);
  });

  it('shares members between small payloads with minChunkSize (innerOffset) and still verifies', async () => {
    const ours = await writeOurs(tree.spec, work.join('min.blob'), { minChunkSize: 100_000 });
    const reader = await openEstargz(ours.path);
    const shared = reader.toc.entries.filter((e) => (e.innerOffset ?? 0) > 0);
    expect(shared.length).toBeGreaterThan(2);
    const report = await reader.verify(ours.tocDigest);
    expect(report.files).toBe(reader.entries().filter((e) => e.type === 'reg' && e.size > 0).length);
    for (const [path, data] of tree.files)
      expect((await reader.readFile(path)).equals(data), path).toBe(true);
  });
});

describe('writeEstargzLayer (zstd:chunked)', () => {
  it('stargz-snapshotter variant: zstd frames per payload, the TOC in a skippable frame, a 40-byte footer', async () => {
    const ours = await writeOurs(tree.spec, work.join('zstd.blob'), {
      compression: 'zstd',
      zstdChunkedVariant: 'stargz-snapshotter',
    });
    expect(ours.metadata.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    const blob = await readFile(ours.path);
    const reader = await openEstargz(ours.path);
    expect(reader.format).toBe('zstd:chunked');
    for (const e of reader.toc.entries.filter((x) => x.offset !== undefined)) {
      expect(blob.subarray(e.offset!, e.offset! + 4).toString('hex'), e.name).toBe('28b52ffd');
    }
    const [offset, length, raw, type] = ours.metadata
      .annotations![ZSTD_CHUNKED_MANIFEST_POSITION_ANNOTATION]!.split(':')
      .map(Number);
    expect([offset, type]).toEqual([reader.tocOffset, 1]);
    expect(blob.subarray(offset! - 8, offset! - 4).toString('hex')).toBe('502a4d18');
    expect(blob.readUInt32LE(offset! - 4)).toBe(length);
    expect(blob.subarray(blob.length - 8).toString('latin1')).toBe('GnUlInUx');
    // The tar stream holds no TOC entry: the TOC lives outside it.
    const stream = await systemDecompress(ours.path, 'zstd');
    await writeFile(work.join('zstd.tar'), stream);
    expect(await tarNames(work.join('zstd.tar'))).not.toContain(TOC_TAR_NAME);
    expect(ours.metadata.diff_id).toBe(sha256(stream));
    expect(raw).toBe(serializeToc(reader.toc).length);
    await reader.verify(ours.tocDigest);
  });

  it('containers/storage variant (default): payload-only frames with endOffset, a tar-split, a 64-byte footer', async () => {
    const ours = await writeOurs(tree.spec, work.join('cs.blob'), {
      compression: 'zstd',
      chunkSize: 4 * MiB,
    });
    const blob = await readFile(ours.path);
    const reader = await openEstargz(ours.path);
    expect(reader.format).toBe('zstd:chunked');
    await reader.verify(ours.tocDigest);
    // Every payload frame decompresses to exactly its bytes: no padding, no following header.
    for (const e of reader.toc.entries.filter((x) => x.offset !== undefined)) {
      const frame = unzstd(blob.subarray(e.offset!, e.endOffset!));
      if (e.type === 'reg' && e.chunkSize === undefined) expect(frame.length, e.name).toBe(e.size);
      if (e.type === 'chunk' || e.chunkSize !== undefined)
        expect(sha256(frame.subarray(0, e.chunkSize))).toBe(e.chunkDigest);
    }
    // A chunked file's first entry spans all its frames; every chunk carries its size.
    const big = reader.toc.entries.filter((e) => e.name === 'big.bin');
    expect(big.map((e) => e.chunkSize)).toEqual([4 * MiB, 4 * MiB, 2 * MiB]);
    expect(big[0]!.endOffset).toBe(big[2]!.endOffset);
    expect(
      unzstd(blob.subarray(big[0]!.offset!, big[0]!.endOffset!)).equals(tree.files.get('big.bin')!),
    ).toBe(true);
    // Footer: skippable frame of 64 bytes; the positions match the annotations.
    const footer = blob.subarray(blob.length - 64);
    expect(blob.readUInt32LE(blob.length - 72)).toBe(0x184d2a50);
    expect(blob.readUInt32LE(blob.length - 68)).toBe(64);
    expect(footer.subarray(56).toString('latin1')).toBe('GNUlInUx');
    const a = ours.metadata.annotations!;
    const position = [0, 8, 16, 24].map((o) => Number(footer.readBigUInt64LE(o))).join(':');
    expect(a[CS_MANIFEST_POSITION_ANNOTATION]).toBe(position);
    const tarSplitPos = [32, 40, 48].map((o) => Number(footer.readBigUInt64LE(o)));
    expect(a[CS_TARSPLIT_POSITION_ANNOTATION]).toBe(tarSplitPos.join(':'));
    const compressedTarSplit = blob.subarray(tarSplitPos[0]!, tarSplitPos[0]! + tarSplitPos[1]!);
    expect(a[CS_TARSPLIT_CHECKSUM_ANNOTATION]).toBe(sha256(compressedTarSplit));
    expect(reader.toc.tarSplitDigest).toBe(a[CS_TARSPLIT_CHECKSUM_ANNOTATION]);
    const [manifestOffset, manifestLength] = a[CS_MANIFEST_POSITION_ANNOTATION]!.split(':').map(Number);
    expect(a[CS_MANIFEST_CHECKSUM_ANNOTATION]).toBe(
      sha256(blob.subarray(manifestOffset!, manifestOffset! + manifestLength!)),
    );
    // The tar-split: segments and files in stream order, rebuilding the whole tar.
    const lines = unzstd(compressedTarSplit)
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.position)).toEqual(lines.map((_, i) => i));
    const files = new Map(lines.filter((l) => l.type === 1).map((l) => [l.name, l]));
    expect(files.get('big.bin')).toMatchObject({ size: 10 * MiB });
    expect(files.get('empty.txt')).toMatchObject({ payload: null });
    const stream = await systemDecompress(ours.path, 'zstd');
    expect(ours.metadata.diff_id).toBe(sha256(stream));
    const segments = Buffer.concat(
      lines.filter((l) => l.type === 2).map((l) => Buffer.from(l.payload, 'base64')),
    );
    const data = [...files.values()].reduce((n, l) => n + (l.size ?? 0), 0);
    expect(segments.length + data).toBe(stream.length);
  });
});

describe('bad options and specs', () => {
  it('rejects uncompressed eStargz and bad sizes before writing anything', () => {
    expect(() => writeEstargzLayer(tree.spec, { compression: 'none' })).toThrow(/eStargz layers are gzip/);
    expect(() => writeEstargzLayer(tree.spec, { chunkSize: 0 })).toThrow(
      /chunkSize: expected an integer >= 1/,
    );
    expect(() => writeEstargzLayer(tree.spec, { minChunkSize: -1 })).toThrow(/minChunkSize/);
  });

  it('names a prioritized path that is not in the layer, and leaves nothing behind', async () => {
    const dir = work.join('missing-prio');
    await mkdir(dir);
    await expect(
      writeOurs(tree.spec, `${dir}/out.blob`, { prioritizedFiles: ['app/main.js', 'app/nope.js'] }),
    ).rejects.toMatchObject({
      code: 'IMG_ESTARGZ_PRIORITIZED_NOT_FOUND',
      message: expect.stringContaining('prioritizedFiles[1]: "app/nope.js" is not in the layer'),
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses user files named like the TOC or a landmark', async () => {
    const spec = { entries: [{ type: 'content' as const, path: '/stargz.index.json', content: '{}' }] };
    await expect(writeOurs(spec, work.join('reserved.blob'))).rejects.toMatchObject({
      code: 'IMG_ESTARGZ_RESERVED_PATH',
    });
  });
});
