import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseLayerMetadata } from '@img/oci-spec';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { img, imgOk } from './helpers.js';

const tmp = useTempDir('cli-layer-from-tar-');

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function tarFixture(): Promise<{ tar: string; diffId: string }> {
  await writeFile(tmp.join('f.txt'), 'payload\n'.repeat(100));
  await imgOk(
    'layer',
    `--add=opt/f.txt=${tmp.join('f.txt')}`,
    '--format=none',
    `--metadata=${tmp.join('src.json')}`,
    tmp.join('src.tar'),
  );
  return { tar: tmp.join('src.tar'), diffId: sha256(await readFile(tmp.join('src.tar'))) };
}

const meta = async (name: string) => parseLayerMetadata(await readFile(tmp.join(name)), name);

describe('img layer-from-tar', () => {
  it('keeps a tar as it is: digest of the file, diff_id of its decompressed bytes', async () => {
    const { tar, diffId } = await tarFixture();
    const gz = tmp.join('src.tar.gz');
    await writeFile(gz, gzipSync(await readFile(tar), { level: 9 }));
    await imgOk('layer-from-tar', gz, `--metadata=${tmp.join('keep.json')}`, '--annotation=k=v');
    const m = await meta('keep.json');
    expect(m.digest).toBe(sha256(await readFile(gz)));
    expect(m.size).toBe((await readFile(gz)).length);
    expect(m.diff_id).toBe(diffId);
    expect(m.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(m.annotations).toEqual({ k: 'v' });

    await imgOk(
      'layer-from-tar',
      gz,
      '--format=gzip',
      `--output=${tmp.join('copy.tgz')}`,
      `--metadata=${tmp.join('copy.json')}`,
    );
    expect(await readFile(tmp.join('copy.tgz'))).toEqual(await readFile(gz));
    expect((await meta('copy.json')).digest).toBe(m.digest);
  });

  it('recompresses to zstd and to none with the same diff_id', async () => {
    const { tar, diffId } = await tarFixture();
    await imgOk(
      'layer-from-tar',
      tar,
      '--format=zstd',
      `--output=${tmp.join('r.tar.zst')}`,
      `--metadata=${tmp.join('r.json')}`,
    );
    const zstd = await meta('r.json');
    expect(zstd.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    expect(zstd.diff_id).toBe(diffId);
    expect(zstd.digest).toBe(sha256(await readFile(tmp.join('r.tar.zst'))));
    await imgOk(
      'layer-from-tar',
      tmp.join('r.tar.zst'),
      '--format=none',
      `--output=${tmp.join('n.tar')}`,
      `--metadata=${tmp.join('n.json')}`,
    );
    expect(await readFile(tmp.join('n.tar'))).toEqual(await readFile(tar));
    expect((await meta('n.json')).digest).toBe(diffId);
  });

  it('fails naming the file when it is missing or not a supported compression', async () => {
    const missing = await img('layer-from-tar', tmp.join('nope.tar'), `--metadata=${tmp.join('x.json')}`);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.tar: no such file');
    await writeFile(tmp.join('x.tar.bz2'), Buffer.from('BZh91AY&SY'));
    const bz = await img('layer-from-tar', tmp.join('x.tar.bz2'), `--metadata=${tmp.join('x.json')}`);
    expect(bz.code).toBe(1);
    expect(bz.stderr).toMatch(/x\.tar\.bz2: bzip2 compression is not supported/);
    const usage = await img(
      'layer-from-tar',
      tmp.join('x.tar.bz2'),
      '--format=brotli',
      `--metadata=${tmp.join('x.json')}`,
    );
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--format "brotli"/);
    await expect(readFile(tmp.join('x.json'))).rejects.toThrow(/ENOENT/);
  });

  it('--rewrite normalises a tar and hardlinks identical files, whatever the source mtimes and order', async () => {
    const gnuTar = async (name: string, mtime: number, order: string[]) => {
      const dir = tmp.join(`src-${name}`);
      await mkdir(join(dir, 'app'), { recursive: true });
      for (const f of ['a.bin', 'b.bin']) {
        await writeFile(join(dir, 'app', f), 'same bytes\n'.repeat(1000));
        await utimes(join(dir, 'app', f), mtime, mtime);
      }
      const out = tmp.join(`${name}.tar`);
      execFileSync('tar', ['-cf', out, '-C', dir, '--no-recursion', 'app', ...order.map((f) => `app/${f}`)]);
      return out;
    };
    const one = await gnuTar('one', 1_000_000, ['b.bin', 'a.bin']);
    const two = await gnuTar('two', 2_000_000, ['a.bin', 'b.bin']);
    for (const [src, name] of [
      [one, 'one'],
      [two, 'two'],
    ] as const) {
      await imgOk(
        'layer-from-tar',
        src,
        '--rewrite',
        '--format=gzip',
        `--output=${tmp.join(`${name}.tgz`)}`,
        `--metadata=${tmp.join(`${name}.json`)}`,
      );
    }
    const [m1, m2] = [await meta('one.json'), await meta('two.json')];
    expect(m1.digest).toBe(m2.digest);
    expect(m1.digest).toBe(sha256(await readFile(tmp.join('one.tgz'))));
    const listing = execFileSync('tar', ['-tvzf', tmp.join('one.tgz')], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(listing.map((l) => l.slice(l.indexOf(' app') + 1))).toEqual([
      'app/',
      'app/a.bin',
      'app/b.bin link to app/a.bin',
    ]);
    expect(listing[1]).toContain('1970-01-01');
    // A rewrite is a new tar: without --output there is nowhere to put it.
    const noOut = await img('layer-from-tar', one, '--rewrite', `--metadata=${tmp.join('x.json')}`);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain('--output is required to rewrite');
  });

  it('--estargz converts a tar to eStargz (or zstd:chunked) that img estargz verify accepts', async () => {
    const { tar } = await tarFixture();
    const out = tmp.join('e.esgz');
    await imgOk('layer-from-tar', tar, '--estargz', `--output=${out}`, `--metadata=${tmp.join('e.json')}`);
    const m = await meta('e.json');
    expect(m.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(m.digest).toBe(sha256(await readFile(out)));
    expect(m.annotations?.['containerd.io/snapshot/stargz/toc.digest']).toMatch(/^sha256:/);
    await imgOk('estargz', 'verify', out, `--metadata=${tmp.join('e.json')}`);
    const ls = await imgOk('estargz', 'ls', out);
    expect(ls.stdout).toContain('opt/f.txt');
    const listing = execFileSync('tar', ['-tzf', out], { encoding: 'utf8' }).trim().split('\n');
    expect(listing[0]).toBe('.no.prefetch.landmark');
    expect(listing.at(-1)).toBe('stargz.index.json');

    await imgOk(
      'layer-from-tar',
      tar,
      '--estargz',
      '--rewrite',
      '--format=zstd',
      `--output=${tmp.join('e.zst')}`,
      `--metadata=${tmp.join('ez.json')}`,
    );
    expect((await meta('ez.json')).mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    await imgOk('estargz', 'verify', tmp.join('e.zst'), `--metadata=${tmp.join('ez.json')}`);

    const bad = await img(
      'layer-from-tar',
      tar,
      '--estargz',
      '--format=none',
      `--output=${tmp.join('n')}`,
      `--metadata=${tmp.join('n.json')}`,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--estargz needs --format gzip or zstd');
  });
});
