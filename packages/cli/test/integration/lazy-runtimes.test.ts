import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readLayout } from '@img/oci-layout';
import { type Descriptor, digestHex, reachableDescriptors } from '@img/oci-spec';
import { connectRemoteCache, type RemoteCache } from '@img/remote-cache';
import { ciRequires, run, startBuildGrid, type TestBuildGrid, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// dockerd launcher of containerd-loader's tests (not yet in @img/test-utils)
import { startDockerd, type TestDockerd } from '../../../containerd-loader/test/dockerd.js';
import { img, imgOk } from '../helpers.js';

// Lazy load into Docker (classic store: a docker-save tar streamed to /images/load) and Podman
// (`podman load` fed the same stream): layers only in BuildGrid, the image a layout of its documents
// alone, as a --remote_download_minimal build leaves it. (containerd: lazy.test.ts.)
const needsDocker = ciRequires('bgd', 'dockerd', 'docker', 'containerd', 'runc', 'busybox', { root: true });
const needsPodman = ciRequires('bgd', 'podman', 'runc', 'busybox', { root: true });
const tmp = useTempDir('img-cli-lazy-runtimes-');

/** A BuildGrid, and images of busybox and a message layer whose layers are in it only. */
function remoteCacheImages() {
  const state: { grid?: TestBuildGrid; cache?: RemoteCache } = {};
  beforeAll(async () => {
    state.grid = await startBuildGrid();
    state.cache = connectRemoteCache(state.grid.endpoint);
  }, 120_000);
  afterAll(async () => {
    state.cache?.close();
    await state.grid?.stop();
  }, 60_000);

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
      await state.cache!.writeBlob(layer, await readFile(file));
      await rm(join(layout, 'blobs', 'sha256', digestHex(layer.digest)));
    }
    return { layout, layers };
  }
  const evict = (layer: Descriptor) => rm(state.grid!.blobPath(digestHex(layer.digest)));
  const lazyArgs = () => ['--strategy', 'lazy', '--remote-cache', state.grid!.endpoint];
  return { cachedImage, evict, lazyArgs };
}

// podman's default rlimits exceed what this (container) host grants.
const ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'];
const EVICTED = /remote cache grpc:\/\/127\.0\.0\.1:\d+: not found \(evicted\?\)/;

describe.skipIf(needsDocker.skip)('img load --daemon docker --strategy lazy (BuildGrid, dockerd)', () => {
  const { cachedImage, evict, lazyArgs } = remoteCacheImages();
  let dockerd: TestDockerd;
  beforeAll(async () => {
    dockerd = await startDockerd();
  }, 120_000);
  afterAll(() => dockerd?.stop(), 60_000);

  const loadArgs = (layout: string) => [
    'load',
    `oci:${layout}`,
    '--daemon',
    'docker',
    '--address',
    `unix://${dockerd.socket}`,
    '--tag',
    'lazy/docker:dev',
    ...lazyArgs(),
  ];
  const runImage = async () =>
    (await dockerd.docker(['run', '--rm', '--network', 'none', 'lazy/docker:dev'])).stdout.trim();

  it('loads layers from the remote cache; the image runs; a layer Docker already has is never read', async () => {
    const first = await cachedImage('docker-1', 'lazy-docker-1');
    await imgOk(...loadArgs(first.layout));
    expect(await runImage()).toBe('lazy-docker-1');

    // The next build of the same tag: same busybox layer, another message. With the busybox layer
    // evicted from the cache the load still works: Docker holds its chain under the tag, so it is
    // never opened; only the new message layer comes from the cache.
    const second = await cachedImage('docker-2', 'lazy-docker-2');
    expect(second.layers[0]!.digest).toBe(first.layers[0]!.digest);
    await evict(second.layers[0]!);
    await imgOk(...loadArgs(second.layout));
    expect(await runImage()).toBe('lazy-docker-2');

    // A layer Docker lacks, evicted, with no other place: the load fails naming it, and the tag
    // keeps the image it had.
    const third = await cachedImage('docker-3', 'lazy-docker-3');
    await evict(third.layers[1]!);
    const failed = await img(...loadArgs(third.layout));
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    expect(failed.stderr).toContain(`blob ${third.layers[1]!.digest}`);
    expect(failed.stderr).toMatch(EVICTED);
    expect(await runImage()).toBe('lazy-docker-2');
  });
});

describe.skipIf(needsPodman.skip)('img load --daemon podman --strategy lazy (BuildGrid, podman)', () => {
  const { cachedImage, evict, lazyArgs } = remoteCacheImages();
  let env: NodeJS.ProcessEnv;
  const saved = process.env.CONTAINERS_STORAGE_CONF;
  beforeAll(async () => {
    // Podman's storage in a temp dir: `img load` (in this process) and the podman runs below use it.
    const conf = tmp.join('storage.conf');
    await writeFile(
      conf,
      `[storage]\ndriver = "vfs"\nrunroot = "${tmp.join('podman-run')}"\ngraphroot = "${tmp.join('podman-root')}"\n`,
    );
    process.env.CONTAINERS_STORAGE_CONF = conf;
    env = { ...process.env };
  });
  afterAll(async () => {
    if (env) await run('podman', ['system', 'reset', '--force'], { env, allowFailure: true });
    if (saved === undefined) delete process.env.CONTAINERS_STORAGE_CONF;
    else process.env.CONTAINERS_STORAGE_CONF = saved;
  }, 60_000);

  const loadArgs = (layout: string) => [
    'load',
    `oci:${layout}`,
    '--daemon',
    'podman',
    '--tag',
    'lazy/podman:dev',
    ...lazyArgs(),
  ];
  const runImage = async () =>
    (
      await run('podman', ['run', '--rm', ...ULIMITS, '--network=none', 'lazy/podman:dev'], { env })
    ).stdout.trim();

  it('loads layers from the remote cache and the image runs; an evicted layer fails the load naming it', async () => {
    const first = await cachedImage('podman-1', 'lazy-podman-1');
    await imgOk(...loadArgs(first.layout));
    expect(await runImage()).toBe('lazy-podman-1');
    // Podman has the image: loading it again reads no layer, so none needs to be in the cache.
    for (const layer of first.layers) await evict(layer);
    await imgOk(...loadArgs(first.layout));

    const second = await cachedImage('podman-2', 'lazy-podman-2');
    await evict(second.layers[1]!);
    const failed = await img(...loadArgs(second.layout));
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`blob ${second.layers[1]!.digest}`);
    expect(failed.stderr).toMatch(EVICTED);
    expect(await runImage()).toBe('lazy-podman-1');
  });
});
