import { join } from 'node:path';
import { ciRequires, repoRoot, requireTool, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerEndpoint, dockerImageStore, type LoadResult, loadIntoDocker } from '../src/index.js';
import { startDockerd, type TestDockerd } from './dockerd.js';
import { busyboxEntries, TestContent } from './fixtures.js';

// Docker 28 from Debian sid, extracted into .tools/docker-sid by scripts/install-test-tools.sh.
const sidDir = join(repoRoot(), '.tools/docker-sid/usr/sbin');
const dockerd28 = requireTool(join(sidDir, 'dockerd'));
const needs = ciRequires('docker', 'containerd', 'runc', 'busybox', { root: true });
const tmp = useTempDir('docker28-load-');
const statuses = (r: LoadResult) => r.blobs.map((b) => `${b.kind}:${b.status}`);

describe.skipIf(needs.skip || !dockerd28)('loadIntoDocker, containerd image store (Docker 28)', () => {
  let dockerd: TestDockerd;
  beforeAll(async () => {
    dockerd = await startDockerd({
      dockerd: dockerd28!,
      config: { features: { 'containerd-snapshotter': true } },
      storageDriver: 'overlayfs',
      path: [sidDir],
    });
  }, 60_000);
  afterAll(() => dockerd?.stop(), 60_000);

  const app = (msg: string) => [{ type: 'content' as const, path: '/etc/msg', content: msg }];
  const cmd = ['/bin/sh', '-c', 'echo ctrd-store-$(cat /etc/msg)'];

  it("writes into Docker's containerd (namespace moby), only the blobs it lacks, and Docker runs the image", async () => {
    const store = await dockerImageStore(dockerEndpoint(dockerd.host));
    expect(store).toMatchObject({
      kind: 'containerd',
      namespace: 'moby',
      address: expect.stringContaining(dockerd.dir),
    });

    const tc = new TestContent(tmp.join('blobs'));
    const v1 = await tc.image({ layers: [busyboxEntries, app('one')], cmd });
    const first = await loadIntoDocker(tc.content(v1.descriptor), {
      host: dockerd.host,
      names: ['imgtest/c28:dev'],
    });
    expect(statuses(first)).toEqual(['layer:written', 'layer:written', 'config:written', 'manifest:written']);
    expect(
      (await dockerd.docker(['run', '--rm', '--network', 'none', 'imgtest/c28:dev'])).stdout.trim(),
    ).toBe('ctrd-store-one');
    // With the containerd store, Docker's image ID is the manifest digest.
    const id = (
      await dockerd.docker(['image', 'inspect', '--format', '{{.Id}}', 'imgtest/c28:dev'])
    ).stdout.trim();
    expect(id).toBe(v1.descriptor.digest);

    const v2 = await tc.image({ layers: [busyboxEntries, app('two')], cmd });
    const second = await loadIntoDocker(tc.content(v2.descriptor), {
      host: dockerd.host,
      names: ['imgtest/c28:dev'],
    });
    expect(statuses(second)).toEqual([
      'layer:present',
      'layer:written',
      'config:written',
      'manifest:written',
    ]);
    expect(second.bytesWritten).toBe(v2.layers[1]!.size + v2.configBytes.length + v2.manifestBytes.length);
    expect(
      (await dockerd.docker(['run', '--rm', '--network', 'none', 'imgtest/c28:dev'])).stdout.trim(),
    ).toBe('ctrd-store-two');
  });
});
