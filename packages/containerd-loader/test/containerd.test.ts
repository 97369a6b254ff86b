import { createReadStream } from 'node:fs';
import { ciRequires, startContainerd, type TestContainerd, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerdClient, chainIds, getImage, type LoadResult, loadIntoContainerd } from '../src/index.js';
import { busyboxEntries, TestContent } from './fixtures.js';
import { activeIngests, collectGarbage, contentDigests, imageCheck, snapshotKeys } from './helpers.js';

const needs = ciRequires('containerd', 'ctr', 'runc', 'busybox', { root: true });
const tmp = useTempDir('ctrd-load-');

const statuses = (r: LoadResult) => r.blobs.map((b) => `${b.kind}:${b.status}`);

describe.skipIf(needs.skip)('loadIntoContainerd against a real containerd', () => {
  let ctrd: TestContainerd;
  beforeAll(async () => {
    ctrd = await startContainerd();
  });
  afterAll(() => ctrd?.stop());

  it('loads a runnable busybox image, then writes only the changed layer, config and manifest', async () => {
    const ns = ctrd.newNamespace('bb');
    const tc = new TestContent(tmp.join('bb'));
    const app = (msg: string) => [{ type: 'content' as const, path: '/etc/msg', content: msg }];
    const v1 = await tc.image({
      layers: [busyboxEntries, app('one')],
      cmd: ['/bin/sh', '-c', 'echo loaded-$(cat /etc/msg)'],
    });
    const first = await loadIntoContainerd(tc.content(v1.descriptor), {
      address: ctrd.address,
      namespace: ns,
      names: ['imgtest/bb:dev'],
    });
    expect(first.names).toEqual(['docker.io/imgtest/bb:dev']);
    expect(statuses(first)).toEqual(['layer:written', 'layer:written', 'config:written', 'manifest:written']);
    expect(first.bytesWritten).toBe(
      v1.layers.reduce((n, l) => n + l.size, 0) + v1.configBytes.length + v1.manifestBytes.length,
    );
    expect(await imageCheck(ctrd, ns, 'docker.io/imgtest/bb:dev')).toMatch(/complete \(3\/3\)/);
    const run1 = await ctrd.ctr(['run', '--rm', 'docker.io/imgtest/bb:dev', `t-${ns}`], { namespace: ns });
    expect(run1.stdout.trim()).toBe('loaded-one');

    const v2 = await tc.image({
      layers: [busyboxEntries, app('two')],
      cmd: ['/bin/sh', '-c', 'echo loaded-$(cat /etc/msg)'],
    });
    const before = await contentDigests(ctrd, ns);
    const second = await loadIntoContainerd(tc.content(v2.descriptor), {
      address: ctrd.address,
      namespace: ns,
      names: ['imgtest/bb:dev'],
    });
    expect(statuses(second)).toEqual([
      'layer:present',
      'layer:written',
      'config:written',
      'manifest:written',
    ]);
    expect(second.blobsPresent).toBe(1);
    expect(second.bytesWritten).toBe(v2.layers[1]!.size + v2.configBytes.length + v2.manifestBytes.length);
    const added = [...(await contentDigests(ctrd, ns))].filter((d) => !before.has(d)).sort();
    expect(added).toEqual([v2.layers[1]!.digest, v2.manifest.config.digest, v2.descriptor.digest].sort());
    // The name moved to the new manifest (Update), and the new image runs.
    const client = new ContainerdClient({ address: ctrd.address, namespace: ns });
    try {
      expect((await getImage(client, 'docker.io/imgtest/bb:dev'))?.target.digest).toBe(v2.descriptor.digest);
    } finally {
      client.close();
    }
    // The old image's snapshots lost their last reference when the name moved; a collection now must
    // still keep the shared base layer's snapshot, which the new config names (else `ctr run` can race
    // the collector: "parent snapshot ... does not exist").
    await collectGarbage(ctrd, ns);
    const baseChain = v2.config.rootfs.diff_ids[0]!;
    expect(await snapshotKeys(ctrd, ns)).toContain(baseChain);
    const configLine = (await ctrd.ctr(['content', 'ls'], { namespace: ns })).stdout
      .split('\n')
      .find((l) => l.startsWith(v2.manifest.config.digest));
    expect(configLine).toContain(`containerd.io/gc.ref.snapshot.overlayfs=${baseChain}`);
    const run2 = await ctrd.ctr(['run', '--rm', 'docker.io/imgtest/bb:dev', `t2-${ns}`], { namespace: ns });
    expect(run2.stdout.trim()).toBe('loaded-two');
    // containerd's unpacker named the new top snapshot by the chain ID we compute.
    expect(await snapshotKeys(ctrd, ns)).toContain(chainIds(v2.config.rootfs.diff_ids).at(-1));
    // The manifest carries the gc labels that keep its config and layers alive.
    const labels = (await ctrd.ctr(['content', 'ls'], { namespace: ns })).stdout
      .split('\n')
      .find((l) => l.startsWith(v2.descriptor.digest));
    expect(labels).toContain(`containerd.io/gc.ref.content.config=${v2.manifest.config.digest}`);
    expect(labels).toContain(`containerd.io/gc.ref.content.l.0=${v2.layers[0]!.digest}`);
    // Nothing is left in flight and no lease outlives the loads.
    expect(await activeIngests(ctrd, ns)).toEqual([]);
    expect((await ctrd.ctr(['leases', 'ls', '-q'], { namespace: ns })).stdout.trim()).toBe('');
    // A third load of the same image writes nothing.
    const third = await loadIntoContainerd(tc.content(v2.descriptor), {
      address: ctrd.address,
      namespace: ns,
      names: ['imgtest/bb:dev'],
    });
    expect(third.blobsWritten).toBe(0);
    expect(third.bytesWritten).toBe(0);
  });

  it('writes only the requested platform of an index, or every platform with "all"', async () => {
    const ns = ctrd.newNamespace('multi');
    const tc = new TestContent(tmp.join('multi'));
    const amd = await tc.image({
      platform: 'linux/amd64',
      layers: [[{ type: 'content', path: '/arch', content: 'amd64' }]],
    });
    const arm = await tc.image({
      platform: 'linux/arm64',
      layers: [[{ type: 'content', path: '/arch', content: 'arm64' }]],
    });
    const index = tc.index([amd, arm]);
    const r = await loadIntoContainerd(tc.content(index), {
      address: ctrd.address,
      namespace: ns,
      names: ['example.com/multi:1'],
      platform: { os: 'linux', architecture: 'arm64' },
    });
    expect(r.root.digest).toBe(index.digest);
    const stored = await contentDigests(ctrd, ns);
    expect([...stored].sort()).toEqual(
      [index.digest, arm.descriptor.digest, arm.manifest.config.digest, arm.layers[0]!.digest].sort(),
    );
    for (const d of [amd.descriptor.digest, amd.manifest.config.digest, amd.layers[0]!.digest])
      expect(stored.has(d)).toBe(false);
    const indexLine = (await ctrd.ctr(['content', 'ls'], { namespace: ns })).stdout
      .split('\n')
      .find((l) => l.startsWith(index.digest));
    expect(indexLine).toContain(`=${arm.descriptor.digest}`);
    expect(indexLine).not.toContain(amd.descriptor.digest);

    const all = await loadIntoContainerd(tc.content(index), {
      address: ctrd.address,
      namespace: ns,
      names: ['example.com/multi:1'],
      platform: 'all',
    });
    expect(all.blobsWritten).toBe(3); // amd64 manifest, config and layer
    expect(
      all.blobs
        .filter((b) => b.status === 'written')
        .map((b) => b.descriptor.digest)
        .sort(),
    ).toEqual([amd.descriptor.digest, amd.manifest.config.digest, amd.layers[0]!.digest].sort());
    expect(await imageCheck(ctrd, ns, 'example.com/multi:1')).toMatch(/complete/);
    await expect(
      loadIntoContainerd(tc.content(index), {
        address: ctrd.address,
        namespace: ns,
        names: ['x:1'],
        platform: { os: 'linux', architecture: 's390x' },
      }),
    ).rejects.toMatchObject({ code: 'IMG_LOAD_NO_MATCHING_PLATFORM' });
  });

  it('streams a base layer absent locally through fetchMissingBlob, only when containerd lacks it', async () => {
    const ns = ctrd.newNamespace('fetch');
    const tc = new TestContent(tmp.join('fetch'));
    const img = await tc.image({
      layers: [
        [{ type: 'content', path: '/base', content: 'base layer' }],
        [{ type: 'content', path: '/app', content: 'app' }],
      ],
    });
    const base = img.layers[0]!;
    const basePath = tmp.join('fetch', 'layer-0.blob');
    const shallow = {
      ...tc.content(img.descriptor),
      blobs: new Map([...tc.blobs].filter(([d]) => d !== base.digest)),
    };
    const calls: { digest: string; sources: unknown }[] = [];
    const sources = [{ registry: 'registry.example', repository: 'library/base' }];
    const fetchMissingBlob = async (d: { digest: string }, s: unknown) => {
      calls.push({ digest: d.digest, sources: s });
      return createReadStream(basePath);
    };

    await expect(
      loadIntoContainerd(shallow, { address: ctrd.address, namespace: ns, names: ['shallow:1'] }),
    ).rejects.toMatchObject({
      code: 'IMG_LOAD_BLOB_MISSING',
      message: expect.stringContaining(base.digest),
    });
    const r = await loadIntoContainerd(shallow, {
      address: ctrd.address,
      namespace: ns,
      names: ['shallow:1'],
      fetchMissingBlob,
      locations: sources,
    });
    expect(calls).toEqual([{ digest: base.digest, sources }]);
    expect(r.blobs.find((b) => b.descriptor.digest === base.digest)).toMatchObject({
      status: 'written',
      fetched: true,
    });
    expect(await imageCheck(ctrd, ns, 'docker.io/library/shallow:1')).toMatch(/complete \(3\/3\)/);
    // Present now: the fetcher is not asked again.
    await loadIntoContainerd(shallow, {
      address: ctrd.address,
      namespace: ns,
      names: ['shallow:2'],
      fetchMissingBlob,
      locations: sources,
    });
    expect(calls).toHaveLength(1);
  });

  it('rejects fetched bytes that do not match, leaving no blob and no image', async () => {
    const ns = ctrd.newNamespace('bad');
    const tc = new TestContent(tmp.join('bad'));
    const img = await tc.image({ layers: [[{ type: 'content', path: '/base', content: 'the real base' }]] });
    const layer = img.layers[0]!;
    const shallow = { ...tc.content(img.descriptor), blobs: new Map() };
    const { Readable } = await import('node:stream');
    const wrong = Buffer.alloc(layer.size, 7);
    await expect(
      loadIntoContainerd(shallow, {
        address: ctrd.address,
        namespace: ns,
        names: ['bad:1'],
        fetchMissingBlob: async () => Readable.from([wrong]),
      }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/DIGEST_MISMATCH/) });
    expect((await contentDigests(ctrd, ns)).has(layer.digest)).toBe(false);
    expect((await ctrd.ctr(['images', 'ls', '-q'], { namespace: ns })).stdout.trim()).toBe('');
  });

  it('fails clearly when containerd is not there', async () => {
    const tc = new TestContent(tmp.join('nosock'));
    const img = await tc.image({ layers: [[{ type: 'content', path: '/x', content: 'x' }]] });
    await expect(
      loadIntoContainerd(tc.content(img.descriptor), { address: tmp.join('missing.sock'), names: ['x:1'] }),
    ).rejects.toMatchObject({ code: 'IMG_LOAD_CONNECT', message: expect.stringContaining('missing.sock') });
  });
});
