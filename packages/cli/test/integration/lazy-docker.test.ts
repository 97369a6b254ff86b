import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readLayout } from '@img/oci-layout';
import { type Descriptor, digestHex, reachableDescriptors } from '@img/oci-spec';
import { connectRemoteCache, type RemoteCache } from '@img/remote-cache';
import { ciRequires, startBuildGrid, type TestBuildGrid, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// dockerd launcher of containerd-loader's tests (not yet in @img/test-utils)
import { startDockerd, type TestDockerd } from '../../../containerd-loader/test/dockerd.js';
import { img, imgOk } from '../helpers.js';

// Lazy load into Docker (classic store: a docker-save tar streamed to /images/load): layers only in
// BuildGrid, the image a layout of its documents alone, as a --remote_download_minimal build leaves it.
const needs = ciRequires('bgd', 'dockerd', 'docker', 'containerd', 'runc', 'busybox', { root: true });
const tmp = useTempDir('img-cli-lazy-docker-');

describe.skipIf(needs.skip)('img load --daemon docker --strategy lazy (BuildGrid, dockerd)', () => {
  let grid: TestBuildGrid;
  let dockerd: TestDockerd;
  let cache: RemoteCache;

  /** Builds an image of busybox and a message layer; leaves its layers in the cache only. */
  async function cachedImage(
    name: string,
    message: string,
  ): Promise<{ layout: string; layers: Descriptor[] }> {
    const app = tmp.join(name);
    await mkdir(app, { recursive: true });
    await writeFile(join(app, 'msg'), `${message}\n`);
    const spec = join(app, 'image.json');
    await writeFile(
      spec,
      JSON.stringify({
        platform: 'linux/amd64',
        layers: [
          {
            compress: 'gzip',
            files: { '/bin/busybox': '/bin/busybox' },
            symlinks: { '/bin/sh': 'busybox', '/bin/cat': 'busybox' },
            metadata: { '/bin/busybox': { mode: '0755' } },
          },
          { compress: 'gzip', files: { '/etc/msg': join(app, 'msg') } },
        ],
        config: { cmd: ['/bin/cat', '/etc/msg'] },
      }),
    );
    const full = join(app, 'full');
    await imgOk('build', spec, '--output', `oci:${full}`);
    const layers = reachableDescriptors(await readLayout(`oci:${full}`)).layers;
    const layout = join(app, 'meta');
    await cp(full, layout, { recursive: true });
    for (const layer of layers) {
      const file = join(full, 'blobs', 'sha256', digestHex(layer.digest));
      await cache.writeBlob(layer, await readFile(file));
      await rm(join(layout, 'blobs', 'sha256', digestHex(layer.digest)));
    }
    return { layout, layers };
  }

  const loadArgs = (layout: string, tag: string) => [
    'load',
    `oci:${layout}`,
    '--daemon',
    'docker',
    '--address',
    `unix://${dockerd.socket}`,
    '--tag',
    tag,
    '--strategy',
    'lazy',
    '--remote-cache',
    grid.endpoint,
  ];
  const load = (layout: string, tag: string) => imgOk(...loadArgs(layout, tag));

  beforeAll(async () => {
    [grid, dockerd] = await Promise.all([startBuildGrid(), startDockerd()]);
    cache = connectRemoteCache(grid.endpoint);
  }, 120_000);

  afterAll(async () => {
    cache?.close();
    await Promise.all([grid?.stop(), dockerd?.stop()]);
  }, 60_000);

  it('loads layers from the remote cache; the image runs; a layer Docker already has is never read', async () => {
    const first = await cachedImage('first', 'lazy-docker-1');
    await load(first.layout, 'lazy/docker:dev');
    const out = await dockerd.docker(['run', '--rm', '--network', 'none', 'lazy/docker:dev']);
    expect(out.stdout.trim()).toBe('lazy-docker-1');

    // The next build of the same tag: same busybox layer, another message. With the busybox layer
    // evicted from the cache the load still works: Docker holds its chain under the tag, so it is
    // never opened; only the new message layer comes from the cache.
    const second = await cachedImage('second', 'lazy-docker-2');
    expect(second.layers[0]!.digest).toBe(first.layers[0]!.digest);
    await rm(grid.blobPath(digestHex(second.layers[0]!.digest)));
    await load(second.layout, 'lazy/docker:dev');
    const out2 = await dockerd.docker(['run', '--rm', '--network', 'none', 'lazy/docker:dev']);
    expect(out2.stdout.trim()).toBe('lazy-docker-2');

    // A layer Docker lacks, evicted, with no other place: the load fails naming it, and the tag
    // keeps the image it had.
    const third = await cachedImage('third', 'lazy-docker-3');
    const evicted = third.layers[1]!;
    await rm(grid.blobPath(digestHex(evicted.digest)));
    const failed = await img(...loadArgs(third.layout, 'lazy/docker:dev'));
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    expect(failed.stderr).toContain(`blob ${evicted.digest}`);
    expect(failed.stderr).toMatch(/remote cache grpc:\/\/127\.0\.0\.1:\d+: not found \(evicted\?\)/);
    const out3 = await dockerd.docker(['run', '--rm', '--network', 'none', 'lazy/docker:dev']);
    expect(out3.stdout.trim()).toBe('lazy-docker-2');
  });
});
