import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ciRequires, startContainerd, type TestContainerd, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { img, imgOk } from '../helpers.js';

const needs = ciRequires('containerd', 'ctr', 'runc', 'busybox', { root: true });
const tmp = useTempDir('img-cli-load-');

/** A spec for an image of Debian's static busybox plus one small layer whose content we change. */
async function writeBusyboxSpec(dir: string, message: string): Promise<string> {
  await writeFile(join(dir, 'msg.txt'), message);
  const spec = {
    platform: 'linux/amd64',
    layers: [
      {
        files: { '/bin/busybox': '/bin/busybox' },
        symlinks: { '/bin/sh': 'busybox', '/bin/echo': 'busybox' },
        metadata: { '/bin/busybox': { mode: '0755' } },
      },
      { files: { '/etc/msg': 'msg.txt' }, compress: 'none' },
    ],
    config: { cmd: ['/bin/sh', '-c', 'echo from-spec-$(cat /etc/msg)'] },
  };
  const path = join(dir, 'image.json');
  await writeFile(path, JSON.stringify(spec));
  return path;
}

describe.skipIf(needs.skip)('img load --daemon containerd', () => {
  let ctrd: TestContainerd;
  beforeAll(async () => {
    ctrd = await startContainerd();
  });
  afterAll(() => ctrd?.stop());

  const contentLs = async (ns: string) =>
    new Set(
      (await ctrd.ctr(['content', 'ls', '-q'], { namespace: ns })).stdout
        .split('\n')
        .filter((l) => l.startsWith('sha256:')),
    );

  it('loads a spec built in-process, runs it, and reloads only what changed', async () => {
    const ns = ctrd.newNamespace('cli');
    const spec = await writeBusyboxSpec(tmp.path, 'one');
    const flags = [
      '--daemon',
      'containerd',
      '--address',
      ctrd.address,
      '--namespace',
      ns,
      '--tag',
      'imgtest/cli:dev',
    ];
    const first = await imgOk('load', spec, ...flags);
    expect(first.stdout).toMatch(
      /^loaded docker\.io\/imgtest\/cli:dev \(sha256:[0-9a-f]{64}\) into containerd: 0 blobs present, 4 written, [\d.]+ (KiB|MiB) written in [\d.]+ s$/,
    );
    const check = await ctrd.ctr(['images', 'check'], { namespace: ns });
    expect(check.stdout).toMatch(/docker\.io\/imgtest\/cli:dev .* complete \(3\/3\)/);
    const run1 = await ctrd.ctr(['run', '--rm', 'docker.io/imgtest/cli:dev', `c1-${ns}`], { namespace: ns });
    expect(run1.stdout.trim()).toBe('from-spec-one');

    const before = await contentLs(ns);
    await writeBusyboxSpec(tmp.path, 'two');
    const second = await imgOk('load', spec, ...flags);
    // busybox layer present; the message layer, config and manifest written (a few hundred bytes).
    expect(second.stdout).toMatch(/: 1 blobs present, 3 written, ([\d.]+ B|[\d.]+ KiB) written in/);
    const added = [...(await contentLs(ns))].filter((d) => !before.has(d));
    expect(added).toHaveLength(3);
    const root = /\((sha256:[0-9a-f]{64})\)/.exec(second.stdout)![1]!;
    const manifest = JSON.parse((await ctrd.ctr(['content', 'get', root], { namespace: ns })).stdout);
    expect(added.sort()).toEqual([root, manifest.config.digest, manifest.layers[1].digest].sort());
    expect(before.has(manifest.layers[0].digest)).toBe(true);
    const run2 = await ctrd.ctr(['run', '--rm', 'docker.io/imgtest/cli:dev', `c2-${ns}`], { namespace: ns });
    expect(run2.stdout.trim()).toBe('from-spec-two');
    expect((await ctrd.ctr(['content', 'active'], { namespace: ns })).stdout.trim().split('\n')).toHaveLength(
      1,
    ); // header only
  });

  it('loads an OCI layout written by img build, finding every blob present', async () => {
    const ns = ctrd.newNamespace('layout');
    const spec = await writeBusyboxSpec(tmp.path, 'layout');
    const out = join(tmp.path, 'layout');
    await imgOk('build', spec, '--output', `oci:${out}`);
    const flags = [
      '--daemon',
      'containerd',
      '--address',
      ctrd.address,
      '--namespace',
      ns,
      '-t',
      'example.com/a:1',
      '-t',
      'example.com/b:2',
    ];
    expect((await imgOk('load', `oci:${out}`, ...flags)).stdout).toMatch(
      /^loaded example\.com\/a:1, example\.com\/b:2 .*0 blobs present, 4 written/,
    );
    expect((await imgOk('load', `oci:${out}`, ...flags)).stdout).toMatch(
      /4 blobs present, 0 written, 0 B written/,
    );
    const names = (await ctrd.ctr(['images', 'ls', '-q'], { namespace: ns })).stdout
      .trim()
      .split('\n')
      .sort();
    expect(names).toEqual(['example.com/a:1', 'example.com/b:2']);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'));
    const target = (await ctrd.ctr(['images', 'ls'], { namespace: ns })).stdout;
    expect(target).toContain(index.manifests[0].digest);
  });
});

describe('img load: bad input', () => {
  it('names the missing tag, a bad daemon, a bad platform and a missing source', async () => {
    const spec = join(tmp.path, 'none.json');
    let r = await img('load', 'oci:/nonexistent', '--daemon', 'containerd');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--tag NAME:TAG is required/);
    r = await img('load', 'oci:/nonexistent', '--daemon', 'kubelet', '-t', 'a:1');
    expect(r.stderr).toMatch(/--daemon "kubelet": expected containerd, docker or podman/);
    r = await img('load', 'oci:/nonexistent', '--daemon', 'containerd', '-t', 'a:1', '--platform', 'linux');
    expect(r.stderr).toMatch(/--platform: invalid platform "linux"/);
    r = await img('load', 'oci:/nonexistent', '--daemon', 'containerd', '-t', 'a:1');
    expect(r.stderr).toMatch(/oci:\/nonexistent: no such file or directory/);
    r = await img('load', spec, '--daemon', 'containerd', '-t', 'Bad Name');
    expect(r.code).toBe(1);
  });

  it('names the docker socket it could not reach', async () => {
    const spec = join(tmp.path, 'tiny.json');
    await writeFile(join(tmp.path, 'tiny.txt'), 'tiny');
    await writeFile(
      spec,
      JSON.stringify({ platform: 'linux/amd64', layers: [{ files: { '/tiny': 'tiny.txt' } }] }),
    );
    const sock = join(tmp.path, 'no-docker.sock');
    const r = await img('load', spec, '--daemon', 'docker', '--address', `unix://${sock}`, '-t', 'tiny:1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`docker at unix://${sock}`);
  });
});
