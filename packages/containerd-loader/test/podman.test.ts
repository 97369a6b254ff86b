import { ciRequires, run, useTempDir } from '@img/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { loadIntoPodman } from '../src/index.js';
import { busyboxEntries, TestContent } from './fixtures.js';

const needs = ciRequires('podman', 'runc', 'busybox', { root: true });
const tmp = useTempDir('podman-load-');
// Podman raises nofile/nproc by default, which needs CAP_SYS_RESOURCE; these limits fit any host.
const ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'];

describe.skipIf(needs.skip)('loadIntoPodman', () => {
  const store = ['--root', tmp.join('root'), '--runroot', tmp.join('run'), '--storage-driver', 'vfs'];
  afterAll(async () => {
    if (!needs.skip) await run('podman', [...store, 'rmi', '-a', '-f'], { allowFailure: true });
  });

  it('streams the image into podman load, runs it, and skips a second load of the same image', async () => {
    const tc = new TestContent(tmp.join('blobs'));
    const img = await tc.image({
      layers: [busyboxEntries, [{ type: 'content', path: '/etc/msg', content: 'podman' }]],
      cmd: ['/bin/sh', '-c', 'echo hello-$(cat /etc/msg)'],
    });
    const first = await loadIntoPodman(tc.content(img.descriptor), {
      names: ['imgtest/pbb:1'],
      globalArgs: store,
    });
    expect(first).toMatchObject({ runtime: 'podman', blobsWritten: 3, names: ['docker.io/imgtest/pbb:1'] });
    expect(first.skipped).toBeUndefined();
    const out = await run('podman', [
      ...store,
      'run',
      '--rm',
      ...ULIMITS,
      '--network=none',
      'docker.io/imgtest/pbb:1',
    ]);
    expect(out.stdout.trim()).toBe('hello-podman');
    const id = (
      await run('podman', [...store, 'image', 'inspect', '--format', '{{.Id}}', 'docker.io/imgtest/pbb:1'])
    ).stdout.trim();
    expect(`sha256:${id}`).toBe(img.manifest.config.digest);

    const second = await loadIntoPodman(tc.content(img.descriptor), {
      names: ['imgtest/pbb:1', 'imgtest/pbb:again'],
      globalArgs: store,
    });
    expect(second).toMatchObject({ skipped: true, blobsWritten: 0, bytesWritten: 0 });
    const again = await run('podman', [
      ...store,
      'run',
      '--rm',
      ...ULIMITS,
      '--network=none',
      'docker.io/imgtest/pbb:again',
    ]);
    expect(again.stdout.trim()).toBe('hello-podman');
  });

  it("surfaces a podman load failure with podman's message", async () => {
    const tc = new TestContent(tmp.join('bad'));
    const img = tc.garbageImage();
    const err = await loadIntoPodman(tc.content(img.descriptor), {
      names: ['imgtest/bad:1'],
      globalArgs: store,
    }).catch((e) => e);
    expect(err).toMatchObject({
      code: 'IMG_LOAD_DAEMON',
      message: expect.stringMatching(/^podman load: .*\S/),
    });
    expect(
      (await run('podman', [...store, 'image', 'exists', 'docker.io/imgtest/bad:1'], { allowFailure: true }))
        .code,
    ).toBe(1);
  });
});
