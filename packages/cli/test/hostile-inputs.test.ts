// Hostile tars, compressed streams and eStargz blobs given to the real CLI (bundled from source, in a
// child process): each must fail with one line naming the file, within a time budget (a hang is a
// failure) and under 300 MiB of peak RSS, leaving no output behind.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { estargzFooter } from '@img/estargz';
import {
  paxHeader,
  rawTarHeader,
  TAR_END,
  tarFileEntry,
  tarPadding,
  useTempDir,
  writeGzipBomb,
  zstdZeroBomb,
} from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledImg, type ChildRun, otherNode } from './child-rss.js';

const tmp = useTempDir('cli-hostile-');
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const RSS_BOUND_MIB = 300;

let img: Awaited<ReturnType<typeof bundledImg>>;
let outputs = 0;
/** A fresh output path for each run, so that a leftover of one run cannot satisfy another's check. */
const out = () => tmp.join(`out-${++outputs}`);

/** `img layer-from-tar INPUT ARGS --output=<fresh path> --metadata=...` in a child; returns the output path too. */
async function fromTar(
  input: string,
  args: readonly string[],
  { node = process.execPath, timeoutMs = 20_000 } = {},
): Promise<ChildRun & { output: string }> {
  const output = out();
  const r = await img(
    node,
    ['layer-from-tar', input, ...args, `--output=${output}`, `--metadata=${tmp.join('m.json')}`],
    timeoutMs,
  );
  return { ...r, output };
}
const nodes: Array<[label: string, path: string]> = [[`node ${process.version}`, process.execPath]];
const node24 = otherNode();
if (node24) nodes.push(['node 24 (native zstd)', node24]);

/** Peak RSS and time of every refused run, printed at the end (figures for reviews). */
const measured: Array<{ file: string; ms: number; peakRssMiB: number }> = [];
afterAll(() => {
  console.log(
    measured
      .map((m) => `${m.peakRssMiB.toFixed(0).padStart(4)} MiB ${String(m.ms).padStart(6)} ms  ${m.file}`)
      .join('\n'),
  );
});

/** Fails the test on a hang, a crash, an unbounded RSS or a message that names nothing. */
function expectRefused(r: ChildRun, file: string, message: RegExp): void {
  measured.push({ file: basename(file), ms: r.ms, peakRssMiB: r.peakRssMiB });
  expect(r.timedOut, `timed out after ${r.ms} ms: ${r.stderr}`).toBe(false);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr.split('\n')).toHaveLength(1);
  expect(r.stderr).toContain(file);
  expect(r.stderr).toMatch(message);
  expect(r.peakRssMiB).toBeLessThan(RSS_BOUND_MIB);
}

beforeAll(async () => {
  img = await bundledImg(tmp.path);
});

describe('tars that drive a parser backwards', () => {
  it('a negative PAX size (used to loop forever at 100% CPU): refused in --rewrite and --estargz', async () => {
    const tar = tmp.join('negative-pax-size.tar');
    const bytes = Buffer.concat([paxHeader({ size: '-1536' }), tarFileEntry('a', 'hello'), TAR_END]);
    await writeFile(tar, Buffer.concat([bytes, Buffer.alloc(10 * 1024 - bytes.length)]));
    for (const mode of ['--rewrite', '--estargz']) {
      const r = await fromTar(tar, [mode]);
      expectRefused(r, tar, /invalid PAX size "-1536"/);
      expect(existsSync(r.output)).toBe(false);
    }
  });

  it('a negative base-256 size field: refused', async () => {
    const tar = tmp.join('negative-base256.tar');
    const size = Buffer.alloc(12, 0xff);
    size.writeInt16BE(-512, 10);
    await writeFile(tar, Buffer.concat([rawTarHeader({ name: 'a', size }), TAR_END]));
    const r = await fromTar(tar, ['--rewrite']);
    expectRefused(r, tar, /negative size -512/);
  });
});

describe('bombs: bounded memory, then a clear refusal', () => {
  it('10 GiB of zeros in a 320 KiB zstd stream (used to take 7+ GiB of RSS)', async () => {
    const bomb = tmp.join('zeros-10g.tar.zst');
    await writeFile(bomb, zstdZeroBomb(rawTarHeader({ name: 'zeros', size: 8 * GiB - 512 }), 10 * GiB));
    for (const [label, node] of nodes) {
      for (const args of [['--rewrite'], ['--format=gzip'], []]) {
        const r = await fromTar(bomb, args, { node, timeoutMs: 60_000 });
        expectRefused(r, bomb, /decompresses to more than \d+ bytes.*--limit decompression-ratio=N/);
        // Without a conversion the blob is the input, copied as it is before it is measured.
        if (args.length > 0) expect(existsSync(r.output), `${label} ${args}`).toBe(false);
      }
    }
  });

  it('the same zstd bomb converted to eStargz', async () => {
    const bomb = tmp.join('zeros-10g.tar.zst');
    const r = await fromTar(bomb, ['--estargz'], { node: nodes.at(-1)![1], timeoutMs: 90_000 });
    expectRefused(r, bomb, /decompresses to more than/);
  });

  it('a zstd frame asking for a 256 MiB window', async () => {
    const bomb = tmp.join('window.tar.zst');
    await writeFile(bomb, zstdZeroBomb(rawTarHeader({ name: 'a', size: 0 }), 2 * MiB, 28));
    for (const [, node] of nodes) {
      const r = await fromTar(bomb, ['--rewrite'], { node });
      expectRefused(r, bomb, /window.*--limit zstd-window-size=N/);
    }
  });

  it('a 256 MiB GNU long name in a 256 KiB gzip (used to cost 2 GiB)', async () => {
    const bomb = tmp.join('long-name.tar.gz');
    const size = 256 * MiB;
    await writeGzipBomb(bomb, [
      rawTarHeader({ name: '././@LongLink', typeflag: 'L', size }),
      { fill: 0x61, size },
      tarPadding(size),
      tarFileEntry('x', 'y'),
      TAR_END,
    ]);
    for (const mode of ['--rewrite', '--estargz']) {
      const r = await fromTar(bomb, [mode]);
      expectRefused(r, bomb, /GNU long name data of 268435456 bytes exceeds 1048576.*tar-header-size/);
    }
  });

  it('zeros after the end of the archive are read up to the cap only', async () => {
    const bomb = tmp.join('trailing.tar.zst');
    await writeFile(bomb, zstdZeroBomb(Buffer.concat([tarFileEntry('a', 'b'), TAR_END]), 10 * GiB));
    const r = await fromTar(bomb, ['--rewrite']);
    expectRefused(r, bomb, /more than 1048576 bytes after the end-of-archive marker/);
  });

  it('an eStargz blob whose 300 MiB TOC is a 300 KiB gzip member (used to cost 3 GiB in `estargz ls`)', async () => {
    const blob = tmp.join('huge-toc.tgz');
    const entry = Buffer.from('{"name":"usr/lib/a-file-name","type":"reg","size":1},');
    const body = Math.floor((300 * MiB) / entry.length) * entry.length;
    const json = [Buffer.from('{"version":1,"entries":['), { fill: entry, size: body }, Buffer.from('{}]}')];
    const jsonSize = 24 + body + 4;
    const member = await writeGzipBomb(blob, [
      rawTarHeader({ name: 'stargz.index.json', size: jsonSize }),
      ...json,
      tarPadding(jsonSize),
      TAR_END,
    ]);
    await writeFile(blob, estargzFooter(0), { flag: 'a' });
    expect(member).toBeLessThan(MiB);
    for (const cmd of [['ls'], ['verify', '--toc-digest', `sha256:${'0'.repeat(64)}`]]) {
      const r = await img(process.execPath, ['estargz', cmd[0]!, blob, ...cmd.slice(1)], 20_000);
      expectRefused(r, blob, /TOC is larger than 67108864 bytes.*--limit toc-size=N/);
    }
  });
});

describe('inputs that are not regular files', () => {
  it('a FIFO, /dev/zero and a symlink to /dev/zero are refused without reading them', async () => {
    const fifo = tmp.join('fifo');
    execFileSync('mkfifo', [fifo]);
    const zeroLink = tmp.join('zero-link.tar');
    await symlink('/dev/zero', zeroLink);
    for (const [input, kind] of [
      [fifo, 'a FIFO'],
      ['/dev/zero', 'a device'],
      [zeroLink, 'a device'],
    ] as const) {
      for (const extra of [[], ['--rewrite'], ['--format=zstd']]) {
        const r = await fromTar(input, extra, { timeoutMs: 10_000 });
        expectRefused(r, input, new RegExp(`input tar is ${kind}, not a regular file`));
      }
      const r = await img(process.execPath, ['estargz', 'ls', input], 10_000);
      expectRefused(r, input, new RegExp(`blob is ${kind}, not a regular file`));
    }
    for (const source of [fifo, zeroLink]) {
      const r = await img(
        process.execPath,
        ['layer', `--add=a=${source}`, `--metadata=${tmp.join('m.json')}`, out()],
        10_000,
      );
      expectRefused(r, source, /is not a regular file/);
    }
  });
});

describe('no silent content change', () => {
  it('--rewrite refuses names that are not UTF-8 instead of merging them into one entry', async () => {
    const tar = tmp.join('latin1-names.tar');
    await writeFile(
      tar,
      Buffer.concat([
        tarFileEntry(Buffer.from([0x61, 0xff]), '1'),
        tarFileEntry(Buffer.from([0x61, 0xfe]), '2'),
        TAR_END,
      ]),
    );
    for (const mode of ['--rewrite', '--estargz']) {
      const r = await fromTar(tar, [mode]);
      expectRefused(r, tar, /name "a\\xff" is not valid UTF-8/);
      expect(existsSync(r.output)).toBe(false);
    }
  });

  it('--estargz refuses a hardlink out of the root or to no earlier entry (its verifier would reject the blob)', async () => {
    for (const [name, link, message] of [
      ['hardlink-outside', '../../outside', /"\.\.\/\.\.\/outside" escapes the layer root/],
      ['hardlink-forward', 'later', /hardlink target "later" is not an earlier file in the tar/],
    ] as const) {
      const tar = tmp.join(`${name}.tar`);
      await writeFile(
        tar,
        Buffer.concat([
          tarFileEntry('f', '1'),
          rawTarHeader({ name: 'l', typeflag: '1', linkname: link }),
          tarFileEntry('later', '2'),
          TAR_END,
        ]),
      );
      const r = await fromTar(tar, ['--estargz']);
      expectRefused(r, tar, message);
      expect(r.stderr).toContain('entry "l"');
      expect(existsSync(r.output)).toBe(false);
    }
  });

  it('a valid hardlink converts and the result verifies', async () => {
    const tar = tmp.join('hardlink-ok.tar');
    await writeFile(
      tar,
      Buffer.concat([
        tarFileEntry('f', '1'),
        rawTarHeader({ name: 'l', typeflag: '1', linkname: './f' }),
        TAR_END,
      ]),
    );
    const r = await fromTar(tar, ['--estargz']);
    expect(r.code, r.stderr).toBe(0);
    const meta = tmp.join('m.json');
    const v = await img(process.execPath, ['estargz', 'verify', r.output, `--metadata=${meta}`], 20_000);
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(await readFile(meta, 'utf8')).digest).toMatch(/^sha256:/);
  });
});
