import { createHmac } from 'node:crypto';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readLayout } from '@img/oci-layout';
import { type Descriptor, digestHex, reachableDescriptors } from '@img/oci-spec';
import { connectRemoteCache, type RemoteCache } from '@img/remote-cache';
import {
  ciRequires,
  run,
  startBuildGrid,
  startContainerd,
  startRegistry,
  type TestBuildGrid,
  type TestContainerd,
  type TestRegistry,
  useTempDir,
} from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { img, imgOk } from '../helpers.js';

// Lazy push and load (rules_img's lazy strategies) against real components: the layers live only in
// BuildGrid (a REAPI v2 cache) and the image is a layout of its documents alone, as a
// --remote_download_minimal Bazel build leaves it. Debian's docker-registry and containerd receive it.
const needs = ciRequires('bgd', 'docker-registry', 'skopeo', 'containerd', 'ctr', 'runc', 'busybox', {
  root: true,
});
const tmp = useTempDir('img-cli-lazy-');

describe.skipIf(needs.skip)(
  'img push / load --strategy lazy (BuildGrid, docker-registry, containerd)',
  () => {
    let grid: TestBuildGrid;
    let registry: TestRegistry;
    let ctrd: TestContainerd;
    let cache: RemoteCache;
    let full: string; // the built layout, every blob in it
    let meta: string; // the same image, documents only
    let layers: Descriptor[];

    const blobFile = (d: Descriptor) => join(full, 'blobs', 'sha256', digestHex(d.digest));
    const lazy = () => ['--strategy', 'lazy', '--remote-cache', grid.endpoint];
    const uploads = async () =>
      (await registry.requests()).filter(
        (r) => (r.method === 'PATCH' || r.method === 'PUT') && r.path.includes('/blobs/uploads/'),
      );
    /** skopeo reads every blob of the image (the zstd layer too) and checks each digest while copying it out. */
    const validRemote = async (ref: string) => {
      const out = tmp.join(`copied-${Math.random().toString(36).slice(2)}`);
      const copy = await run(
        'skopeo',
        ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${out}:x`],
        {
          allowFailure: true,
        },
      );
      expect(copy.code, copy.stderr).toBe(0);
      expect((await imgOk('validate', `oci:${out}:x`)).stdout).toMatch(/^PASS /);
    };
    const manifestPuts = async () =>
      (await registry.requests()).filter((r) => r.method === 'PUT' && r.path.includes('/manifests/'));

    beforeAll(async () => {
      [grid, registry, ctrd] = await Promise.all([
        startBuildGrid(),
        startRegistry({ auth: 'none' }),
        startContainerd(),
      ]);
      cache = connectRemoteCache(grid.endpoint);
      const app = tmp.join('app');
      await mkdir(app, { recursive: true });
      await writeFile(join(app, 'msg'), 'lazy-ok\n');
      // 5 MiB of incompressible bytes: larger than BuildGrid's batch limit, so it streams (ByteStream).
      const noise = Buffer.alloc(5 * 1024 * 1024);
      for (let i = 0; i < noise.length; i += 4) noise.writeUInt32LE((i * 2654435761) >>> 0, i);
      await writeFile(join(app, 'noise'), noise);
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
            { compress: 'zstd', files: { '/data/noise': join(app, 'noise') } },
            { compress: 'gzip', files: { '/etc/msg': join(app, 'msg') } },
          ],
          config: { cmd: ['/bin/cat', '/etc/msg'] },
        }),
      );
      full = tmp.join('full');
      await imgOk('build', spec, '--output', `oci:${full}`);
      layers = reachableDescriptors(await readLayout(`oci:${full}`)).layers;
      expect(layers).toHaveLength(3);
      // What a remote-cache build leaves: the layers in the CAS, the documents on the machine.
      for (const layer of layers) await cache.writeBlob(layer, await readFile(blobFile(layer)));
      meta = tmp.join('meta');
      await cp(full, meta, { recursive: true });
      for (const layer of layers) await rm(join(meta, 'blobs', 'sha256', digestHex(layer.digest)));
    });

    afterAll(async () => {
      cache?.close();
      await Promise.all([grid?.stop(), registry?.stop(), ctrd?.stop()]);
    });

    it('pushes an image whose layers are only in the remote cache: valid in the registry (gzip and zstd)', async () => {
      const ref = `${registry.url}/lazy/app:v1`;
      const r = await imgOk('push', `oci:${meta}`, ref, ...lazy(), '--json');
      expect(JSON.parse(r.stdout)).toMatchObject({ blobsUploaded: 4 }); // 3 layers and the config
      await validRemote(ref);
      // Without the lazy strategy the same layout cannot be pushed: its layers are nowhere.
      const eager = await img('push', `oci:${meta}`, `${registry.url}/lazy/eager:v1`);
      expect(eager.code).not.toBe(0);
    });

    it('fails before any upload or manifest when the cache evicted a layer, naming it, its producer and the remedies', async () => {
      const evicted = layers[2]!;
      await rm(grid.blobPath(digestHex(evicted.digest)));
      const [uploadsBefore, putsBefore] = [(await uploads()).length, (await manifestPuts()).length];
      const r = await img(
        'push',
        `oci:${meta}`,
        `${registry.url}/lazy/evicted:v1`,
        ...lazy(),
        '--blob-producer',
        `${evicted.digest}=//app:msg_layer`,
        '--blob-file',
        `${evicted.digest}=${tmp.join('bazel-out', 'msg.tgz')}`,
      );
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`blob ${evicted.digest} (made by //app:msg_layer)`);
      expect(r.stderr).toMatch(/remote cache grpc:\/\/127\.0\.0\.1:\d+: not found \(evicted\?\)/);
      expect(r.stderr).toContain('--remote_download_outputs=toplevel');
      expect(r.stderr).toContain('push_strategy=eager');
      expect(await uploads()).toHaveLength(uploadsBefore);
      expect(await manifestPuts()).toHaveLength(putsBefore);

      // The blob Bazel happens to have on disk (a --blob-file) is used; a stale one of another size is skipped.
      const stale = tmp.join('stale.tgz');
      await writeFile(stale, 'an older build of this layer');
      const bad = await img(
        'push',
        `oci:${meta}`,
        `${registry.url}/lazy/evicted:v1`,
        ...lazy(),
        '--blob-file',
        `${evicted.digest}=${stale}`,
      );
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(
        `local file ${stale}: ${'an older build of this layer'.length} bytes, not ${evicted.size}`,
      );
      await imgOk(
        'push',
        `oci:${meta}`,
        `${registry.url}/lazy/evicted:v1`,
        ...lazy(),
        '--blob-file',
        `${evicted.digest}=${blobFile(evicted)}`,
      );
      await validRemote(`${registry.url}/lazy/evicted:v1`);
    });

    it("takes an evicted layer from Bazel's disk cache, or from the destination that already has it", async () => {
      const evicted = layers[2]!;
      const disk = tmp.join('disk-cache');
      const hex = digestHex(evicted.digest);
      await mkdir(join(disk, 'cas', hex.slice(0, 2)), { recursive: true });
      await cp(blobFile(evicted), join(disk, 'cas', hex.slice(0, 2), hex));
      await imgOk('push', `oci:${meta}`, `${registry.url}/lazy/disk:v1`, ...lazy(), '--disk-cache', disk);
      // The repository pushed above has every blob: the HEAD before the push finds the evicted one there.
      await imgOk('push', `oci:${meta}`, `${registry.url}/lazy/disk:v2`, ...lazy());
    });

    it('runs a lazy deploy request (img deploy): layer files below $IMG_EXECROOT, producers, the remote cache', async () => {
      const evicted = layers[2]!;
      // What the launcher of a lazy image_push hands over: the metadata of each layer, the file Bazel may
      // have left (relative to the execution root), the target that made it.
      const execroot = tmp.join('execroot');
      await mkdir(join(execroot, 'bazel-out'), { recursive: true });
      const entries: { metadata: string; file: string; producer: string }[] = [];
      for (const [i, layer] of layers.entries()) {
        const metadata = tmp.join(`layer-${i}.json`);
        await writeFile(metadata, JSON.stringify({ ...layer, diff_id: layer.digest }));
        entries.push({ metadata, file: `bazel-out/layer-${i}.tgz`, producer: `//app:layer_${i}` });
      }
      const request = tmp.join('push_request.json');
      const write = (repository: string) =>
        writeFile(
          request,
          JSON.stringify({
            version: 1,
            command: 'push',
            target: '//app:push',
            layout: meta,
            strategy: 'lazy',
            registry: registry.url,
            repository,
            tags: ['v1'],
            layers: entries,
            remote_cache: { endpoint: grid.endpoint },
          }),
        );
      await write('lazy/deploy');
      const saved = process.env.IMG_EXECROOT;
      process.env.IMG_EXECROOT = execroot;
      try {
        const failed = await img('deploy', request);
        expect(failed.code).toBe(1);
        expect(failed.stderr).toContain(
          `blob ${evicted.digest} (made by //app:layer_2) [local file ${join(execroot, 'bazel-out/layer-2.tgz')}: absent, remote cache ${grid.endpoint}: not found (evicted?)`,
        );
        await cp(blobFile(evicted), join(execroot, 'bazel-out/layer-2.tgz'));
        await imgOk('deploy', request);
        await validRemote(`${registry.url}/lazy/deploy:v1`);
      } finally {
        if (saved === undefined) delete process.env.IMG_EXECROOT;
        else process.env.IMG_EXECROOT = saved;
      }
    });

    it('authenticates to the remote cache with its own credential helper (rules_img credential_helper_remote_cache)', async () => {
      const secret = 'lazy-test-secret-0123456789abcdef';
      const secured = await startBuildGrid({ instanceNames: [''], jwtSecret: secret });
      try {
        const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
        const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ exp: Math.floor(Date.now() / 1000) + 3600 })}`;
        const token = `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
        const helper = tmp.join('cache-helper.sh');
        await writeFile(helper, `#!/bin/sh\necho '{"headers":{"Authorization":["Bearer ${token}"]}}'\n`, {
          mode: 0o755,
        });
        const ref = `${registry.url}/lazy/authed:v1`;
        const flags = ['--strategy', 'lazy', '--remote-cache', secured.endpoint];
        const denied = await img('push', `oci:${meta}`, ref, ...flags);
        expect(denied.code).toBe(1);
        expect(denied.stderr).toMatch(/UNAUTHENTICATED/);
        expect(denied.stderr).not.toContain(token);
        const writer = connectRemoteCache(secured.endpoint, { credentialHelper: helper });
        try {
          for (const layer of layers) await writer.writeBlob(layer, await readFile(blobFile(layer)));
        } finally {
          writer.close();
        }
        await imgOk('push', `oci:${meta}`, ref, ...flags, '--remote-cache-credential-helper', helper);
        await validRemote(ref);
      } finally {
        await secured.stop();
      }
    });

    it('loads into containerd from the remote cache, never reading what containerd has', async () => {
      const ns = ctrd.newNamespace('lazy');
      const flags = ['--daemon', 'containerd', '--address', ctrd.address, '--namespace', ns];
      const evicted = layers[2]!;
      const withFile = ['--blob-file', `${evicted.digest}=${blobFile(evicted)}`];
      const first = await imgOk('load', `oci:${meta}`, ...flags, '--tag', 'lazy:1', ...lazy(), ...withFile);
      expect(first.stdout).toMatch(/0 blobs present, 5 written/);
      const out = await ctrd.ctr(['run', '--rm', 'docker.io/library/lazy:1', `lazy-${ns}`], {
        namespace: ns,
      });
      expect(out.stdout.trim()).toBe('lazy-ok');
      // Every layer gone from the cache: a second load needs none of them, so it still works.
      for (const layer of layers) await rm(grid.blobPath(digestHex(layer.digest)), { force: true });
      const second = await imgOk('load', `oci:${meta}`, ...flags, '--tag', 'lazy:2', ...lazy());
      expect(second.stdout).toMatch(/ blobs present, 0 written/);
      // An image whose new layer was never cached: the load fails naming it, before the image is made.
      await writeFile(tmp.join('app', 'msg'), 'never cached\n');
      const other = tmp.join('other');
      await imgOk('build', tmp.join('app', 'image.json'), '--output', `oci:${other}`);
      const otherLayers = reachableDescriptors(await readLayout(`oci:${other}`)).layers;
      const uncached = otherLayers[2]!;
      await rm(join(other, 'blobs', 'sha256', digestHex(uncached.digest)));
      const failed = await img('load', `oci:${other}`, ...flags, '--tag', 'lazy:3', ...lazy());
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain(
        `blob ${uncached.digest} [remote cache ${grid.endpoint}: not found (evicted?)`,
      );
      const images = await ctrd.ctr(['images', 'ls', '-q'], { namespace: ns });
      expect(images.stdout).not.toContain('lazy:3');
    });
  },
);
