import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
import { bazel, hostPath, img, outputFiles, outputRoot, skipWithoutBazel, testModule } from './bazel.js';
import { busyboxSpec } from './busybox.js';

// Bazel's remote cache as a blob source, end to end: a multi-layer image built with
// --remote_cache (BuildGrid) and --remote_download_minimal, `bazel clean`, then image_push and
// image_load with the lazy strategies: the layers go from BuildGrid straight into Debian's
// docker-registry and containerd, and never land under the output base.
const skipBazel = skipWithoutBazel();
const needs = ciRequires(
  'bgd',
  'docker-registry',
  'crane',
  'skopeo',
  'containerd',
  'ctr',
  'runc',
  'busybox',
  {
    root: true,
  },
);
const skip = skipBazel || needs.skip;
const tmp = useTempDir('bazel-lazy-');
const ROOT = outputRoot('lazy');

const BUILD = (registry: string, other: string) => `
load("@img_rules//img:image.bzl", "image_manifest")
load("@img_rules//img:layer.bzl", "image_layer")
load("@img_rules//img:load.bzl", "image_load")
load("@img_rules//img:push.bzl", "image_push")

[image_layer(
    name = "busybox" + suffix,
    srcs = {"/bin/busybox": "busybox.bin"},
    symlinks = {"/bin/sh": "busybox", "/bin/cat": "busybox"},
    compress = compress,
) for suffix, compress in [("", "gzip"), ("_zstd", "zstd")]]

# 6 MiB of random bytes: more than a REAPI batch, so it streams through ByteStream.
[image_layer(
    name = "noise" + suffix,
    srcs = {"/data/noise": "noise.bin"},
    compress = compress,
) for suffix, compress in [("", "gzip"), ("_zstd", "zstd")]]

[image_layer(
    name = "msg" + suffix,
    srcs = {"/etc/msg": "msg.txt"},
    compress = compress,
) for suffix, compress in [("", "gzip"), ("_zstd", "zstd")]]

image_manifest(
    name = "image",
    layers = [":busybox", ":noise", ":msg"],
    cmd = ["/bin/cat", "/etc/msg"],
)

image_manifest(
    name = "image_zstd",
    layers = [":busybox_zstd", ":noise_zstd", ":msg_zstd"],
    cmd = ["/bin/cat", "/etc/msg"],
)

image_push(
    name = "push",
    image = ":image",
    registry = "${registry}",
    repository = "lazy/app",
    tag = "v1",
)

image_push(
    name = "push_zstd",
    image = ":image_zstd",
    registry = "${registry}",
    repository = "lazy/zstd",
    tag = "v1",
)

image_push(
    name = "push_evicted",
    image = ":image",
    registry = "${registry}",
    repository = "lazy/evicted",
    tag = "v1",
)

image_load(
    name = "load",
    image = ":image",
    daemon = "containerd",
    tag = "lazy/app:dev",
)

# Bases pulled with layer_handling lazy (a build action downloads each layer) and eager (the
# repository rule does).
image_manifest(
    name = "on_lazy_base",
    base = "@base_lazy",
    layers = [":msg"],
)

image_push(
    name = "push_on_lazy_base",
    image = ":on_lazy_base",
    registry = "${other}",
    repository = "lazy/onbase",
    tag = "v1",
)

image_manifest(
    name = "on_eager_base",
    base = "@base_eager",
    layers = [":msg"],
)
`;

/** Every regular file below `dir` whose size and sha256 are one of `blobs` (size first: cheap). */
async function filesHolding(
  dir: string,
  blobs: readonly { digest: string; size: number }[],
): Promise<string[]> {
  const sizes = new Set(blobs.map((b) => b.size));
  const digests = new Set(blobs.map((b) => b.digest));
  const found: string[] = [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    const { size } = await stat(path);
    if (!sizes.has(size)) continue;
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    if (digests.has(`sha256:${hash.digest('hex')}`)) found.push(path);
  }
  return found;
}

interface Manifest {
  layers: Array<{ digest: string; size: number; mediaType: string }>;
}

describe.skipIf(skip)(
  'lazy push and load from a remote cache (BuildGrid, Bazel 7, docker-registry, containerd)',
  () => {
    let grid: TestBuildGrid;
    let registry: TestRegistry;
    let other: TestRegistry;
    let origin: TestRegistry;
    let ctrd: TestContainerd;
    let ws: string;
    const opts = () => ({ root: ROOT, cwd: ws });
    const outputBase = async () => hostPath((await bazel('info', ['output_base'], opts())).stdout.trim());
    const manifest = async (ref: string): Promise<Manifest> =>
      JSON.parse((await run('crane', ['manifest', '--insecure', ref])).stdout);

    beforeAll(async () => {
      [grid, registry, other, origin, ctrd] = await Promise.all([
        startBuildGrid(),
        startRegistry({ auth: 'none' }),
        startRegistry({ auth: 'none' }),
        startRegistry({ auth: 'none' }),
        startContainerd(),
      ]);
      const base = await img([
        'push',
        await busyboxSpec(tmp.path, 'linux/amd64'),
        `${origin.url}/lazy/base:v1`,
      ]);
      expect(base.code, base.stderr).toBe(0);
      const digest = base.stdout.trim().split('@').at(-1)!;
      ws = tmp.join('ws');
      await mkdir(ws);
      await writeFile(
        join(ws, 'MODULE.bazel'),
        testModule('lazy_e2e', [
          {
            name: 'base_lazy',
            registry: origin.url,
            repository: 'lazy/base',
            digest,
            layer_handling: 'lazy',
          },
          {
            name: 'base_eager',
            registry: origin.url,
            repository: 'lazy/base',
            digest,
            layer_handling: 'eager',
          },
        ]),
      );
      await writeFile(join(ws, 'WORKSPACE.bzlmod'), '');
      await writeFile(
        join(ws, '.bazelrc'),
        `build --remote_cache=${grid.endpoint}
build --remote_download_minimal
build --@img_rules//img/settings:push_strategy=lazy
build --@img_rules//img/settings:load_strategy=lazy
build --@img_rules//img/settings:remote_cache=${grid.endpoint}
`,
      );
      await copyFile('/bin/busybox', join(ws, 'busybox.bin'));
      await writeFile(join(ws, 'noise.bin'), randomBytes(6 * 1024 * 1024));
      await writeFile(join(ws, 'msg.txt'), 'from-lazy\n');
      await writeFile(join(ws, 'BUILD.bazel'), BUILD(registry.url, other.url));
    });

    afterAll(async () => {
      if (ws) await bazel('shutdown', [], { ...opts(), allowFailure: true });
      await Promise.all([grid?.stop(), registry?.stop(), other?.stop(), origin?.stop(), ctrd?.stop()]);
    });

    it('pushes after bazel clean with --remote_download_minimal: valid images, no layer under the output base', async () => {
      const built = await bazel('build', ['//:push', '//:push_zstd', '//:load'], opts());
      expect(built.code, built.stderr).toBe(0);
      expect((await bazel('clean', [], opts())).code).toBe(0);
      const r = await bazel('run', ['//:push'], opts());
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/blobs: 4 uploaded, 0 skipped, 0 mounted/);
      const gzip = await run('crane', ['validate', '--insecure', '--remote', `${registry.url}/lazy/app:v1`], {
        allowFailure: true,
      });
      expect(gzip.code, gzip.stdout + gzip.stderr).toBe(0);
      const z = await bazel('run', ['//:push_zstd'], opts());
      expect(z.code, z.stderr).toBe(0);
      const copied = tmp.join('zstd-copy');
      const copy = await run(
        'skopeo',
        ['copy', '--src-tls-verify=false', `docker://${registry.url}/lazy/zstd:v1`, `oci:${copied}:v1`],
        { allowFailure: true },
      );
      expect(copy.code, copy.stderr).toBe(0);
      expect((await img(['validate', `oci:${copied}:v1`])).stdout).toMatch(/^PASS /);
      const layers = [
        ...(await manifest(`${registry.url}/lazy/app:v1`)).layers,
        ...(await manifest(`${registry.url}/lazy/zstd:v1`)).layers,
      ];
      expect(layers).toHaveLength(6);
      expect(await filesHolding(await outputBase(), layers)).toEqual([]);
    });

    it('loads into containerd from the remote cache; the image runs; still no layer under the output base', async () => {
      const ns = ctrd.newNamespace('lazy');
      const r = await bazel('run', ['//:load', '--', '--address', ctrd.address, '--namespace', ns], opts());
      expect(r.code, r.stderr).toBe(0);
      const out = await ctrd.ctr(['run', '--rm', 'docker.io/lazy/app:dev', `lazy-${Date.now()}`], {
        namespace: ns,
      });
      expect(out.stdout.trim()).toBe('from-lazy');
      const { layers } = await manifest(`${registry.url}/lazy/app:v1`);
      expect(await filesHolding(await outputBase(), layers)).toEqual([]);
    });

    it('fails before the manifest when the cache evicted a layer, naming it, its target and the remedies', async () => {
      const { layers } = await manifest(`${registry.url}/lazy/app:v1`);
      const msg = layers[2]!;
      await rm(grid.blobPath(msg.digest.slice(7)));
      const failed = await bazel('run', ['//:push_evicted'], { ...opts(), allowFailure: true });
      expect(failed.code).not.toBe(0);
      expect(failed.stderr).toContain(`blob ${msg.digest} (made by @@//:msg)`);
      expect(failed.stderr).toMatch(/remote cache grpc:\/\/127\.0\.0\.1:\d+: not found \(evicted\?\)/);
      expect(failed.stderr).toContain('rebuild with --remote_download_outputs=toplevel');
      expect(failed.stderr).toContain('push_strategy=eager');
      const requests = await registry.requests();
      expect(requests.filter((q) => q.path.startsWith('/v2/lazy/evicted/') && q.method !== 'HEAD')).toEqual(
        [],
      );
      // The layer rebuilt locally (and kept out of the cache): the push takes Bazel's own file.
      expect((await bazel('clean', [], opts())).code).toBe(0);
      const local = await bazel(
        'build',
        ['//:msg', '--noremote_accept_cached', '--noremote_upload_local_results'],
        opts(),
      );
      expect(local.code, local.stderr).toBe(0);
      const ok = await bazel('run', ['//:push_evicted'], opts());
      expect(ok.code, ok.stderr).toBe(0);
      const v = await run(
        'crane',
        ['validate', '--insecure', '--remote', `${registry.url}/lazy/evicted:v1`],
        {
          allowFailure: true,
        },
      );
      expect(v.code, v.stdout + v.stderr).toBe(0);
    });

    it('pull layer_handling = "lazy": a build action fetches the base layer into the cache, lazy push streams it from there', async () => {
      const [baseLayer] = (await manifest(`${origin.url}/lazy/base:v1`)).layers;
      const originGets = async () =>
        (await origin.requests()).filter(
          (q) => q.method === 'GET' && q.path.endsWith(`/blobs/${baseLayer!.digest}`),
        ).length;
      const fetched = await originGets();
      const built = await bazel('build', ['//:push_on_lazy_base'], opts());
      expect(built.code, built.stderr).toBe(0);
      // Building the push target ran the ImgPullLayer action (a validation of the push target).
      expect(await originGets()).toBe(fetched + 1);
      expect((await bazel('clean', [], opts())).code).toBe(0);
      const before = await originGets();
      // Another registry: nothing to mount from; the base layer comes from the remote cache.
      const r = await bazel('run', ['//:push_on_lazy_base'], opts());
      expect(r.code, r.stderr).toBe(0);
      expect(await originGets()).toBe(before);
      const v = await run('crane', ['validate', '--insecure', '--remote', `${other.url}/lazy/onbase:v1`], {
        allowFailure: true,
      });
      expect(v.code, v.stdout + v.stderr).toBe(0);
    });

    it('pull layer_handling = "eager": the repository rule downloaded the base layer; the layout holds it', async () => {
      const built = await bazel(
        'build',
        ['--output_groups=+oci_layout', '--remote_download_toplevel', '//:on_eager_base'],
        opts(),
      );
      expect(built.code, built.stderr).toBe(0);
      const [layout] = await outputFiles(['//:on_eager_base'], ['--output_groups=oci_layout'], opts());
      expect((await img(['validate', `oci:${layout}`])).stdout).toMatch(/^PASS /);
      const { layers } = await manifest(`${origin.url}/lazy/base:v1`);
      const blob = join(layout!, 'blobs', 'sha256', layers[0]!.digest.slice(7));
      expect((await stat(blob)).size).toBe(layers[0]!.size);
    });
  },
);
