// estargzFromTar: an existing tar (ours, GNU, PAX + gzip) converted to eStargz / zstd:chunked; checked
// with our reader, the reference verifier, and against estargz.Build of the same tar.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { run, tarFile, useTempDir } from '@img/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  estargzFromTarToFile,
  NO_PREFETCH_LANDMARK,
  openEstargz,
  TOC_DIGEST_ANNOTATION,
  TOC_TAR_NAME,
  type TocEntry,
} from '../src/index.js';
import {
  type FixtureTree,
  fixtureTree,
  ORACLE,
  oracleBuild,
  oracleVerify,
  sha256,
  systemDecompress,
  tarNames,
  writePlainTar,
} from './helpers.js';

const work = useTempDir('estargz-from-tar-');
let tree: FixtureTree;
/** name -> [tar as given, the same tar uncompressed (input of the reference builder)] */
const inputs = new Map<string, [string, string]>();

beforeAll(async () => {
  tree = await fixtureTree(work.path);
  const ours = await writePlainTar(tree.spec, work.join('ours.tar'));
  inputs.set('img layer tar', [ours, ours]);
  const gnu = work.join('gnu.tar');
  await run('tar', ['--sort=name', '--format=gnu', '-C', tree.root, '-cf', gnu, '.']);
  inputs.set('GNU tar', [gnu, gnu]);
  const pax = work.join('pax.tar');
  await run('tar', ['--sort=name', '--format=pax', '-C', tree.root, '-cf', pax, '.']);
  await run('sh', ['-c', `gzip -c '${pax}' > '${pax}.gz'`]);
  inputs.set('PAX tar, gzip', [`${pax}.gz`, pax]);
});

/**
 * TOC entries without compressed offsets, each with the user and group name it stands for: the
 * writers name an owner only when it changes for an id, and estargz.Build runs one writer per core
 * (GOMAXPROCS parts), so it repeats names at part boundaries.
 */
function layoutFree(entries: readonly TocEntry[]): TocEntry[] {
  const users = new Map<number, string>();
  const groups = new Map<number, string>();
  return entries.map(({ offset: _o, innerOffset: _i, ...rest }) => {
    if (rest.userName !== undefined) users.set(rest.uid ?? 0, rest.userName);
    if (rest.groupName !== undefined) groups.set(rest.gid ?? 0, rest.groupName);
    const userName = users.get(rest.uid ?? 0);
    const groupName = groups.get(rest.gid ?? 0);
    return { ...rest, ...(userName ? { userName } : {}), ...(groupName ? { groupName } : {}) };
  });
}

describe('estargzFromTar', () => {
  for (const name of ['img layer tar', 'GNU tar', 'PAX tar, gzip']) {
    it(`converts a ${name}: every file reads back, the TOC verifies, the landmark comes first`, async () => {
      const [input] = inputs.get(name)!;
      const out = work.join(`${name.replace(/\W+/g, '-')}.esgz`);
      const meta = await estargzFromTarToFile(input, out);
      const tocDigest = meta.annotations![TOC_DIGEST_ANNOTATION]!;
      const reader = await openEstargz(out);
      await reader.verify(tocDigest);
      for (const [path, data] of tree.files) {
        expect((await reader.readFile(path)).equals(data), path).toBe(true);
      }
      const stream = await systemDecompress(out);
      expect(meta.diff_id).toBe(sha256(stream));
      expect(meta.uncompressed_size).toBe(stream.length);
      expect(meta.digest).toBe(sha256(await readFile(out)));
      await writeFile(`${out}.tar`, stream);
      const names = await tarNames(`${out}.tar`);
      expect(names[0]).toBe(NO_PREFETCH_LANDMARK);
      expect(names.at(-1)).toBe(TOC_TAR_NAME);
    });
  }

  it.skipIf(ORACLE === undefined)(
    'gives the TOC of estargz.Build for the same tar (offsets aside), and the reference verifier accepts it',
    async () => {
      for (const name of inputs.keys()) {
        const [input, plain] = inputs.get(name)!;
        const out = work.join(`oracle-${name.replace(/\W+/g, '-')}.esgz`);
        const meta = await estargzFromTarToFile(input, out);
        const tocDigest = meta.annotations![TOC_DIGEST_ANNOTATION]!;
        expect((await oracleVerify(out, tocDigest)).tocDigest).toBe(tocDigest);
        const ref = work.join(`ref-${name.replace(/\W+/g, '-')}.esgz`);
        await oracleBuild(plain, ref);
        const ours = (await openEstargz(out)).toc.entries;
        const theirs = (await openEstargz(ref)).toc.entries;
        expect(layoutFree(ours), name).toEqual(layoutFree(theirs));
      }
    },
  );

  it('writes zstd:chunked from a gzip tar, with the same files', async () => {
    const [input] = inputs.get('PAX tar, gzip')!;
    const out = work.join('chunked.zst');
    const meta = await estargzFromTarToFile(input, out, { compression: 'zstd', compressorJobs: 2 });
    expect(meta.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    const reader = await openEstargz(out);
    expect(reader.format).toBe('zstd:chunked');
    await reader.verify(meta.annotations![TOC_DIGEST_ANNOTATION]!);
    expect((await reader.readFile('big.bin')).equals(tree.files.get('big.bin')!)).toBe(true);
  });

  it('rejects entries escaping the root and reserved names, naming tar and entry; writes nothing', async () => {
    const cases: Array<[string, RegExp]> = [
      ['../evil.txt', /bad-0\.tar: entry "\.\.\/evil\.txt".*escapes/],
      [TOC_TAR_NAME, /bad-1\.tar: entry "stargz\.index\.json": the name is reserved/],
    ];
    for (const [i, [entryName, message]] of cases.entries()) {
      const tar = work.join(`bad-${i}.tar`);
      await writeFile(
        tar,
        tarFile([
          { name: 'ok.txt', content: 'ok' },
          { name: entryName, content: 'x' },
        ]),
      );
      const dir = work.join(`bad-out-${i}`);
      await run('mkdir', ['-p', dir]);
      await expect(estargzFromTarToFile(tar, `${dir}/layer.esgz`)).rejects.toThrow(message);
      expect(await readdir(dir)).toEqual([]);
    }
  });
});
