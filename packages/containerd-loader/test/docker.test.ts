import { ciRequires, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerEndpoint, dockerImageStore, loadIntoDocker } from '../src/index.js';
import { startDockerd, type TestDockerd } from './dockerd.js';
import { busyboxEntries, TestContent } from './fixtures.js';

const needs = ciRequires('dockerd', 'docker', 'containerd', 'runc', 'busybox', { root: true });
const tmp = useTempDir('docker-load-');

describe.skipIf(needs.skip)('loadIntoDocker, classic image store (Debian docker.io 20.10)', () => {
  let dockerd: TestDockerd;
  beforeAll(async () => {
    dockerd = await startDockerd();
  }, 60_000);
  afterAll(() => dockerd?.stop(), 60_000);

  const app = (msg: string) => [{ type: 'content' as const, path: '/etc/msg', content: msg }];
  const cmd = ['/bin/sh', '-c', 'echo docker-$(cat /etc/msg)'];

  it('streams a docker-save archive to /images/load, and the image runs', async () => {
    expect(await dockerImageStore(dockerEndpoint(dockerd.host))).toMatchObject({ kind: 'classic' });
    const tc = new TestContent(tmp.join('v1'));
    const img = await tc.image({ layers: [busyboxEntries, app('one')], cmd });
    const r = await loadIntoDocker(tc.content(img.descriptor), {
      host: dockerd.host,
      names: ['imgtest/dbb:1'],
    });
    expect(r).toMatchObject({
      runtime: 'docker',
      blobsWritten: 3,
      blobsPresent: 0,
      names: ['docker.io/imgtest/dbb:1'],
    });
    expect(r.archiveBytes).toBeGreaterThan(r.bytesWritten);
    const id = (
      await dockerd.docker(['image', 'inspect', '--format', '{{.Id}}', 'imgtest/dbb:1'])
    ).stdout.trim();
    expect(id).toBe(img.manifest.config.digest);
    const out = await dockerd.docker(['run', '--rm', '--network', 'none', 'imgtest/dbb:1']);
    expect(out.stdout.trim()).toBe('docker-one');
  });

  it('skips the load when Docker has the image ID and only adds the tags', async () => {
    const tc = new TestContent(tmp.join('v1b'));
    const img = await tc.image({ layers: [busyboxEntries, app('one')], cmd });
    const r = await loadIntoDocker(tc.content(img.descriptor), {
      host: dockerd.host,
      names: ['imgtest/dbb:1', 'imgtest/dbb:also'],
    });
    expect(r).toMatchObject({ skipped: true, blobsWritten: 0, bytesWritten: 0 });
    const id = (
      await dockerd.docker(['image', 'inspect', '--format', '{{.Id}}', 'imgtest/dbb:also'])
    ).stdout.trim();
    expect(id).toBe(img.manifest.config.digest);
  });

  it('moves the tag to a rebuilt image, sending only the layers above the chain Docker has', async () => {
    const tc = new TestContent(tmp.join('v2'));
    const img = await tc.image({ layers: [busyboxEntries, app('two')], cmd });
    const r = await loadIntoDocker(tc.content(img.descriptor), {
      host: dockerd.host,
      names: ['imgtest/dbb:1'],
    });
    expect(r.skipped).toBeUndefined();
    // The busybox layer is the bottom of imgtest/dbb:1's chain: listed in manifest.json, not sent.
    expect(r.blobs.map((b) => `${b.kind}:${b.status}`)).toEqual([
      'layer:present',
      'layer:written',
      'config:written',
    ]);
    expect(r.bytesWritten).toBe(img.layers[1]!.size + img.configBytes.length);
    expect(r.archiveBytes).toBeLessThan(img.layers[0]!.size);
    const out = await dockerd.docker(['run', '--rm', '--network', 'none', 'imgtest/dbb:1']);
    expect(out.stdout.trim()).toBe('docker-two');
    const layers = JSON.parse(
      (await dockerd.docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'imgtest/dbb:1']))
        .stdout,
    );
    expect(layers).toEqual(img.layers.map((l) => l.diff_id));
  });

  it('surfaces the error Docker reports inside its HTTP 200 answer', async () => {
    const tc = new TestContent(tmp.join('bad'));
    const img = await tc.image({ layers: [app('bad')], wrongDiffIds: true });
    const err = await loadIntoDocker(tc.content(img.descriptor), {
      host: dockerd.host,
      names: ['imgtest/bad:1'],
    }).catch((e) => e);
    expect(err).toMatchObject({
      code: 'IMG_LOAD_DAEMON',
      message: expect.stringMatching(/^docker load: .*diff ?id/i),
    });
    expect(
      (await dockerd.docker(['image', 'inspect', 'imgtest/bad:1'], { allowFailure: true })).code,
    ).not.toBe(0);
  });

  it('refuses --platform all with the classic store, and names an unreachable daemon', async () => {
    const tc = new TestContent(tmp.join('misc'));
    const img = await tc.image({ layers: [app('x')] });
    await expect(
      loadIntoDocker(tc.content(img.descriptor), { host: dockerd.host, names: ['x:1'], platform: 'all' }),
    ).rejects.toMatchObject({
      code: 'IMG_LOAD_UNSUPPORTED',
    });
    await expect(
      loadIntoDocker(tc.content(img.descriptor), { host: `unix://${tmp.join('nope.sock')}`, names: ['x:1'] }),
    ).rejects.toMatchObject({
      code: 'IMG_LOAD_CONNECT',
      message: expect.stringContaining('nope.sock'),
    });
  });
});
