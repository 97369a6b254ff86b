import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Digest } from '@img/oci-spec';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_DIR, img, imgOk } from '../helpers.js';

const tmp = useTempDir('img-cli-pipeline-');
const p = (...parts: string[]) => join(tmp.path, ...parts);

/** `img layout` of the arm64 image, with `l1Blob` as the first layer's blob. */
const armLayoutArgs = (l1Blob: string, output: string) => [
  'layout',
  '--manifest',
  p('arm.m.json'),
  '--config',
  p('arm.c.json'),
  '--layer',
  `${p('l1.json')}=${l1Blob}`,
  '--layer',
  `${p('l2.json')}=${p('l2.tzst')}`,
  '--output',
  output,
];

describe('img layer | manifest | index | layout', () => {
  it('matches rules_img golden digests for an image with no layers', async () => {
    const r = await imgOk('manifest', '--manifest', p('g.manifest.json'), '--config', p('g.config.json'));
    expect(sha256Digest(await readFile(p('g.config.json')))).toBe(
      'sha256:dc570f145a7f2862c9ef3c30b8d6ae2feaceb0d364e4b2e08e67ae18815427d9',
    );
    expect(r.stdout).toBe('sha256:c5c3090c78a69c23565353b874b43eda3ad7c4cfcb855e839f3908ac5a11a9e6');
  });

  it('builds layers, a manifest on a base given as files, an index, and valid layouts', async () => {
    // Layer 1: files, a directory, a symlink; layer 2: zstd with metadata.
    await imgOk(
      'layer',
      '--add',
      `/app/config.json=${join(EXAMPLE_DIR, 'app/config.json')}`,
      '--add-dir',
      `/app/static=${join(EXAMPLE_DIR, 'app/static')}`,
      '--symlink',
      '/app/current=/app/static',
      '--metadata',
      p('l1.json'),
      p('l1.tgz'),
    );
    await imgOk(
      'layer',
      '--add',
      `/app/hello.sh=${join(EXAMPLE_DIR, 'app/hello.sh')}`,
      '--file-metadata',
      '/app/hello.sh={"mode":"0750","uid":1000,"gid":1000}',
      '--format',
      'zstd',
      '--compression-level',
      '5',
      '--annotation',
      'org.example=1',
      '--metadata',
      p('l2.json'),
      p('l2.tzst'),
    );
    const l2 = JSON.parse(await readFile(p('l2.json'), 'utf8'));
    expect(l2.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    expect(l2.annotations).toEqual({ 'org.example': '1' });
    expect(l2.digest).toBe(sha256Digest(await readFile(p('l2.tzst'))));

    // A base image as plain manifest + config files (made by img itself).
    await imgOk(
      'manifest',
      '--layer',
      p('l1.json'),
      '--env',
      'PATH=/usr/bin',
      '--cmd',
      'sh',
      '--manifest',
      p('base.m.json'),
      '--config',
      p('base.c.json'),
    );
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      const tag = platform.replace('/', '-');
      await imgOk(
        'manifest',
        '--base-manifest',
        p('base.m.json'),
        '--base-config',
        p('base.c.json'),
        '--base-name',
        'registry.example/base:1',
        '--layer',
        p('l2.json'),
        '--platform',
        'linux/amd64',
        '--entrypoint',
        '/app/hello.sh',
        '--env',
        'PATH=/bin',
        '--env',
        'GREETING=hi',
        '--manifest',
        p(`${tag}.m.json`),
        '--config',
        p(`${tag}.c.json`),
        '--descriptor',
        p(`${tag}.d.json`),
      );
      if (platform === 'linux/amd64') break; // the base is amd64; arm64 is asserted below to fail
    }
    const cfg = JSON.parse(await readFile(p('linux-amd64.c.json'), 'utf8'));
    expect(cfg.config.Env).toEqual(['PATH=/bin', 'GREETING=hi']);
    expect(cfg.config.Entrypoint).toEqual(['/app/hello.sh']);
    expect(cfg.config.Cmd).toBeUndefined();
    expect(cfg.rootfs.diff_ids).toHaveLength(2);
    const m = JSON.parse(await readFile(p('linux-amd64.m.json'), 'utf8'));
    expect(m.annotations['org.opencontainers.image.base.name']).toBe('registry.example/base:1');
    expect(m.annotations['org.opencontainers.image.base.digest']).toBe(
      sha256Digest(await readFile(p('base.m.json'))),
    );

    const wrong = await img(
      'manifest',
      '--base-manifest',
      p('base.m.json'),
      '--base-config',
      p('base.c.json'),
      '--platform',
      'linux/arm64',
      '--manifest',
      p('x.m'),
      '--config',
      p('x.c'),
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/is linux\/amd64, not linux\/arm64\/v8/);

    // Second platform from the same layers on a scratch base.
    await imgOk(
      'manifest',
      '--layer',
      p('l1.json'),
      '--layer',
      p('l2.json'),
      '--platform',
      'linux/arm64',
      '--manifest',
      p('arm.m.json'),
      '--config',
      p('arm.c.json'),
      '--descriptor',
      p('arm.d.json'),
    );
    const ix = await imgOk(
      'index',
      '--manifest-descriptor',
      p('linux-amd64.d.json'),
      '--manifest-descriptor',
      p('arm.d.json'),
      '--output',
      p('index.json'),
      '--digest',
      p('index.digest'),
    );
    expect(await readFile(p('index.digest'), 'utf8')).toBe(ix.stdout);

    await imgOk(
      'layout',
      '--index',
      p('index.json'),
      '--manifest',
      p('linux-amd64.m.json'),
      '--config',
      p('linux-amd64.c.json'),
      '--manifest',
      p('arm.m.json'),
      '--config',
      p('arm.c.json'),
      '--layer',
      `${p('l1.json')}=${p('l1.tgz')}`,
      '--layer',
      `${p('l2.json')}=${p('l2.tzst')}`,
      '--output',
      `oci:${p('layout')}`,
    );
    const v = await imgOk('validate', `oci:${p('layout')}`);
    expect(v.stdout).toMatch(/2 image\(s\), 2 layer\(s\) checked/);
    expect(v.stdout).toContain(ix.stdout);
    await imgOk(...armLayoutArgs(p('l1.tgz'), `oci-archive:${p('arm.tar')}`));
    await imgOk('validate', `oci-archive:${p('arm.tar')}`);
  });

  it('refuses a layer blob that does not match its metadata', async () => {
    await writeFile(p('fake.tgz'), 'not the layer');
    const r = await img(...armLayoutArgs(p('fake.tgz'), `oci:${p('bad-layout')}`));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^img: layer sha256:[0-9a-f]{64}: expected \d+ bytes, got 13$/);
    expect(await readdir(tmp.path)).not.toContain('bad-layout');
    expect((await readdir(tmp.path)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});
