import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ciRequires,
  run,
  startContainerd,
  startRegistry,
  type TestContainerd,
  type TestRegistry,
  useTempDir,
} from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bazel, img, outputFiles, outputRoot, RULES_DIR, skipWithoutBazel, testModule } from './bazel.js';
import { busyboxSpec } from './busybox.js';

// pull -> image_manifest over the pulled (shallow) base -> image_push to a real registry and
// image_load into a real containerd, all with real Bazel in the chroot (which shares /tmp and the
// network with this process, so the registry and the containerd socket are reachable from it).
const skipBazel = skipWithoutBazel();
const needs = ciRequires('docker-registry', 'crane', 'containerd', 'ctr', 'runc', 'busybox', { root: true });
const skip = skipBazel || needs.skip;
const tmp = useTempDir('bazel-deploy-');
const ROOT = outputRoot('deploy');

const BUILD = (registry: string, secured: string) => `
load("@img_rules//img:image.bzl", "image_manifest")
load("@img_rules//img:layer.bzl", "image_layer")
load("@img_rules//img:load.bzl", "image_load")
load("@img_rules//img:multi_deploy.bzl", "multi_deploy")
load("@img_rules//img:push.bzl", "image_push")
load("@bazel_skylib//rules:common_settings.bzl", "string_flag")

string_flag(
    name = "environment",
    build_setting_default = "dev",
)

image_layer(
    name = "msg",
    srcs = {"/etc/msg": "msg.txt"},
    compress = "gzip",
)

image_manifest(
    name = "image",
    base = "@base",
    layers = [":msg"],
    cmd = ["/bin/sh", "-c", "echo from-bazel-$(cat /etc/msg)-$BASE"],
)

image_push(
    name = "push",
    image = ":image",
    registry = "${registry}",
    repository = "e2e/app",
    tag = "v1",
    tag_list = ["latest"],
)

image_push(
    name = "push_stamped",
    image = ":image",
    registry = "${registry}",
    repository = "e2e/app",
    tag = "build-{{.BUILD_EMBED_LABEL}}",
)

# A registry with htpasswd auth: credentials come from the credential_helper setting.
image_push(
    name = "push_secured",
    image = ":image",
    registry = "${secured}",
    repository = "e2e/secured",
    tag = "v1",
)

# rules_img's templating: {{.KEY}} from a build setting, combined with a stamp variable.
image_push(
    name = "push_settings",
    image = ":image",
    registry = "${registry}",
    repository = "e2e/{{.environment}}",
    tag_list = ["{{.environment}}-latest", "{{ .environment }}-{{.BUILD_EMBED_LABEL}}"],
    build_settings = {"environment": ":environment"},
)

genrule(
    name = "tags",
    outs = ["tags.txt"],
    cmd = "printf '# computed tags\\nfrom-file-1\\n\\nfrom-file-2\\n' > $@",
)

image_push(
    name = "push_tag_file",
    image = ":image",
    registry = "${registry}",
    repository = "e2e/tagfile",
    tag_file = ":tags",
    strategy = "eager",
)

genrule(
    name = "bad_tags",
    outs = ["bad_tags.txt"],
    cmd = "printf 'ok\\nnot a tag\\n' > $@",
)

image_push(
    name = "push_bad_tag_file",
    image = ":image",
    registry = "${registry}",
    repository = "e2e/tagfile",
    tag_file = ":bad_tags",
)

image_load(
    name = "load_bes",
    image = ":image",
    daemon = "containerd",
    tag = "imgtest/bazel:bes",
    strategy = "bes",
    tags = ["manual"],
)

image_load(
    name = "load",
    image = ":image",
    daemon = "containerd",
    tag = "imgtest/bazel:dev",
)

image_push(
    name = "push_multi",
    image = ":image",
    registry = "${registry}",
    repository = "e2e/multi",
    tag = "v2",
)

image_load(
    name = "load_multi",
    image = ":image",
    daemon = "containerd",
    tag = "imgtest/bazel:multi",
)

multi_deploy(
    name = "deploy",
    operations = [":push_multi", ":load_multi"],
)
`;

describe.skipIf(skip)(
  'pull, image_push, image_load, multi_deploy (Bzlmod, real registry and containerd)',
  () => {
    let registry: TestRegistry;
    let mirror: TestRegistry;
    let secured: TestRegistry;
    let ctrd: TestContainerd;
    let ws: string;
    let indexDigest: string;
    let securedDigest: string;
    const opts = () => ({ root: ROOT, cwd: ws });

    beforeAll(async () => {
      registry = await startRegistry({ auth: 'none' });
      // A mirror that lacks the image: pull tries it first, then falls back to the registry.
      mirror = await startRegistry({ auth: 'none' });
      secured = await startRegistry({ auth: 'htpasswd' });
      ctrd = await startContainerd();
      // A two-platform base index in the registry: amd64 and arm64 images, joined by crane.
      const refs: string[] = [];
      for (const [platform, tag] of [
        ['linux/amd64', 'amd64'],
        ['linux/arm64/v8', 'arm64'],
      ] as const) {
        const out = await img([
          'push',
          await busyboxSpec(tmp.path, platform),
          `${registry.url}/e2e/base:${tag}`,
        ]);
        expect(out.code, out.stderr).toBe(0);
        refs.push(`${registry.url}/e2e/base:${tag}`);
      }
      await run('crane', [
        'index',
        'append',
        '--insecure',
        ...refs.flatMap((r) => ['-m', r]),
        '-t',
        `${registry.url}/e2e/base:index`,
      ]);
      indexDigest = (
        await run('crane', ['digest', '--insecure', `${registry.url}/e2e/base:index`])
      ).stdout.trim();
      expect(indexDigest).toMatch(/^sha256:[0-9a-f]{64}$/);

      ws = tmp.join('ws');
      await mkdir(join(ws, 'tools'), { recursive: true });
      // A Bazel-protocol credential helper answering only for the secured registry.
      const basic = Buffer.from(secured.auth.creds).toString('base64');
      await writeFile(
        join(ws, 'tools', 'helper.sh'),
        `#!/bin/sh\nread -r request\ncase "$request" in\n  *${secured.url}*) echo '{"headers":{"Authorization":["Basic ${basic}"]}}' ;;\n  *) echo '{}' ;;\nesac\n`,
        { mode: 0o755 },
      );
      const securedBase = await img([
        'push',
        await busyboxSpec(tmp.path, 'linux/amd64'),
        `${secured.url}/e2e/base:amd64`,
        '--credential-helper',
        join(ws, 'tools', 'helper.sh'),
      ]);
      expect(securedBase.code, securedBase.stderr).toBe(0);
      securedDigest = securedBase.stdout.trim().split('@').at(-1)!;
      await writeFile(
        join(ws, 'MODULE.bazel'),
        testModule('deploy_e2e', [
          {
            name: 'base',
            registry: registry.url,
            registries: [mirror.url],
            repository: 'e2e/base',
            tag: 'index',
            digest: indexDigest,
          },
          {
            name: 'secured_base',
            registry: secured.url,
            repository: 'e2e/base',
            digest: securedDigest,
            credential_helper: 'tools/helper.sh',
          },
        ]),
      );
      await writeFile(join(ws, 'WORKSPACE.bzlmod'), '');
      await writeFile(join(ws, 'msg.txt'), 'hello');
      await writeFile(join(ws, 'BUILD.bazel'), BUILD(registry.url, secured.url));
    });

    afterAll(async () => {
      if (ws) await bazel('shutdown', [], { ...opts(), allowFailure: true });
      await ctrd?.stop();
      await registry?.stop();
      await mirror?.stop();
      await secured?.stop();
    });

    it('pulls the base shallowly: the image builds over it and its layout holds no base layer', async () => {
      const r = await bazel('build', ['--output_groups=+oci_layout', '//:image'], opts());
      expect(r.code, r.stderr).toBe(0);
      const fetched = await bazel('query', ['@base//:all'], opts());
      expect(fetched.stdout).toMatch(/@base\/\/:index/);
      expect(fetched.stdout).toMatch(/@base\/\/:image_1/);
      const [layout] = await outputFiles(['//:image'], ['--output_groups=oci_layout'], opts());
      const manifest = JSON.parse(
        (await run('crane', ['manifest', '--insecure', `${registry.url}/e2e/base:amd64`])).stdout,
      ) as { layers: Array<{ digest: string }> };
      const baseLayer = manifest.layers[0]!.digest;
      const sources = JSON.parse(await readFile(join(layout!, 'img-sources.json'), 'utf8'));
      // The registry that answered comes first; the mirror (asked first, lacking the image) follows.
      expect(sources).toEqual({
        [baseLayer]: [
          { registry: registry.url, repository: 'e2e/base' },
          { registry: mirror.url, repository: 'e2e/base' },
        ],
      });
      expect(await mirror.log()).toMatch(
        /"GET \/v2\/e2e\/base\/manifests\/sha256%3A[0-9a-f]{64} HTTP\/1.1" 404 /,
      );
      expect(existsSync(join(layout!, 'blobs', 'sha256', baseLayer.slice(7)))).toBe(false);
      expect((await img(['validate', '--allow-missing-blobs', `oci:${layout}`])).stdout).toMatch(/^PASS /);
    });

    it('bazel run of image_push pushes a valid image (base layers mounted) with every tag', async () => {
      const r = await bazel('run', ['//:push'], opts());
      expect(r.code, r.stderr).toBe(0);
      for (const tag of ['v1', 'latest']) {
        const v = await run(
          'crane',
          ['validate', '--insecure', '--remote', `${registry.url}/e2e/app:${tag}`],
          {
            allowFailure: true,
          },
        );
        expect(v.code, v.stderr + v.stdout).toBe(0);
        expect(v.stdout).toMatch(/PASS/);
      }
      const config = JSON.parse(
        (await run('crane', ['config', '--insecure', `${registry.url}/e2e/app:v1`])).stdout,
      );
      expect(config.architecture).toBe('amd64');
      expect(config.config.Env).toContain('BASE=busybox');
      const manifest = JSON.parse(
        (await run('crane', ['manifest', '--insecure', `${registry.url}/e2e/app:v1`])).stdout,
      );
      expect(manifest.layers).toHaveLength(2);
      // The base layer came by cross-repository mount, not by upload from the shallow layout.
      const log = await registry.log();
      expect(log).toMatch(/mount=sha256/);
    });

    it('pushes the tags of tag_file (computed by a genrule), refuses a bad one and strategies img_rules lacks (bes loads)', async () => {
      const r = await bazel('run', ['//:push_tag_file'], opts());
      expect(r.code, r.stderr).toBe(0);
      const tags = (await run('crane', ['ls', '--insecure', `${registry.url}/e2e/tagfile`])).stdout.split(
        '\n',
      );
      expect(tags.filter(Boolean).sort()).toEqual(['from-file-1', 'from-file-2']);
      const bad = await bazel('run', ['//:push_bad_tag_file'], { ...opts(), allowFailure: true });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/tag_file .*bad_tags\.txt:2: "not a tag" is not a valid tag/);
      const bes = await bazel('build', ['//:load_bes'], { ...opts(), allowFailure: true });
      expect(bes.code).not.toBe(0);
      expect(bes.stderr).toMatch(/strategy: "bes" is not supported by img_rules; use "eager" or "lazy"/);
    });

    it('bazel run of image_load loads into containerd, streaming the base layer from the registry', async () => {
      const ns = ctrd.newNamespace('bazel');
      const r = await bazel('run', ['//:load', '--', '--address', ctrd.address, '--namespace', ns], opts());
      expect(r.code, r.stderr).toBe(0);
      const ls = await ctrd.ctr(['images', 'ls', '-q'], { namespace: ns });
      expect(ls.stdout).toContain('docker.io/imgtest/bazel:dev');
      const out = await ctrd.ctr(['run', '--rm', 'docker.io/imgtest/bazel:dev', `bazel-${Date.now()}`], {
        namespace: ns,
      });
      expect(out.stdout.trim()).toBe('from-bazel-hello-busybox');
    });

    it('builds the tarball output group of image_load: a docker-save tar with the base layer fetched', async () => {
      const built = await bazel('build', ['--output_groups=tarball', '//:load'], opts());
      expect(built.code, built.stderr).toBe(0);
      const [tar] = await outputFiles(['//:load'], ['--output_groups=tarball'], opts());
      expect(tar).toMatch(/load\.tar$/);
      const v = await run('crane', ['validate', '--tarball', tar!], { allowFailure: true });
      expect(v.code, v.stderr + v.stdout).toBe(0);
      const manifest = JSON.parse((await run('tar', ['-xOf', tar!, 'manifest.json'])).stdout);
      expect(manifest[0].RepoTags).toEqual(['imgtest/bazel:dev']);
      expect(manifest[0].Layers).toHaveLength(2); // the pulled base's layer and ours
    });

    it('stamps {{.KEY}} tags from the workspace status with --stamp, and refuses templates without it', async () => {
      const r = await bazel('run', ['--stamp', '--embed_label=e2e42', '//:push_stamped'], opts());
      expect(r.code, r.stderr).toBe(0);
      const tags = (await run('crane', ['ls', '--insecure', `${registry.url}/e2e/app`])).stdout.split('\n');
      expect(tags).toContain('build-e2e42');
      const unstamped = await bazel('run', ['//:push_stamped'], { ...opts(), allowFailure: true });
      expect(unstamped.code).not.toBe(0);
      expect(unstamped.stderr).toMatch(
        /tags "build-\{\{\.BUILD_EMBED_LABEL\}\}" is a template but stamping is off/,
      );
    });

    it('expands build_settings in repository and tags, with or without stamp variables', async () => {
      const r = await bazel(
        'run',
        ['--stamp', '--embed_label=e7', '//:push_settings', '--//:environment=prod'],
        opts(),
      );
      expect(r.code, r.stderr).toBe(0);
      const tags = (await run('crane', ['ls', '--insecure', `${registry.url}/e2e/prod`])).stdout
        .trim()
        .split('\n');
      expect(tags.sort()).toEqual(['prod-e7', 'prod-latest']);
      // The default value, and still a clear error for the stamp variable without --stamp.
      const unstamped = await bazel('run', ['//:push_settings'], { ...opts(), allowFailure: true });
      expect(unstamped.stderr).toMatch(
        /tags "\{\{ \.environment \}\}-\{\{\.BUILD_EMBED_LABEL\}\}" is a template but stamping is off/,
      );
    });

    it('authenticates pull and push through the credential helper (attribute and setting)', async () => {
      const pulled = await bazel('build', ['@secured_base//:image'], opts());
      expect(pulled.code, pulled.stderr).toBe(0);
      const denied = await bazel('run', ['//:push_secured'], { ...opts(), allowFailure: true });
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toMatch(/401|unauthori[sz]ed/i);
      const r = await bazel(
        'run',
        ['//:push_secured', '--@img_rules//img/settings:credential_helper=tools/helper.sh'],
        opts(),
      );
      expect(r.code, r.stderr).toBe(0);
      expect(await secured.log()).toMatch(/"PUT \/v2\/e2e\/secured\/manifests\/v1 HTTP\/1.1" 201 /);
    });

    it('multi_deploy runs a push and a load as one command', async () => {
      const ns = ctrd.newNamespace('multi');
      const r = await bazel('run', ['//:deploy'], {
        ...opts(),
        env: { IMG_BAZEL_ENV: `CONTAINERD_ADDRESS=${ctrd.address} CONTAINERD_NAMESPACE=${ns}` },
      });
      expect(r.code, r.stderr).toBe(0);
      const v = await run('crane', ['validate', '--insecure', '--remote', `${registry.url}/e2e/multi:v2`], {
        allowFailure: true,
      });
      expect(v.code, v.stderr + v.stdout).toBe(0);
      const ls = await ctrd.ctr(['images', 'ls', '-q'], { namespace: ns });
      expect(ls.stdout).toContain('docker.io/imgtest/bazel:multi');
      // Arguments after -- reach each operation's img command (here one img refuses, so the run stops).
      const bad = await bazel('run', ['//:deploy', '--', '--no-such-flag'], {
        ...opts(),
        allowFailure: true,
      });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain("unknown option '--no-such-flag'");
      expect(bad.stderr).toMatch(/\/\/:push_multi.*img push failed/);
    });
  },
);

describe.skipIf(skip)('pull in WORKSPACE mode', () => {
  let registry: TestRegistry;
  let ws: string;
  const opts = () => ({ root: outputRoot('deploy-workspace'), cwd: ws, mode: 'workspace' as const });

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'none' });
    const out = await img(['push', await busyboxSpec(tmp.path, 'linux/amd64'), `${registry.url}/ws/base:v1`]);
    expect(out.code, out.stderr).toBe(0);
    const digest = (await run('crane', ['digest', '--insecure', `${registry.url}/ws/base:v1`])).stdout.trim();
    ws = tmp.join('ws-workspace');
    await mkdir(ws);
    await writeFile(
      join(ws, 'WORKSPACE.bazel'),
      `workspace(name = "pull_ws")

local_repository(
    name = "img_rules",
    path = "${RULES_DIR}",
)

load("@img_rules//img:repositories.bzl", "img_register_toolchains")

img_register_toolchains()

load("@img_rules//img:pull.bzl", "pull")

pull(
    name = "base",
    registry = "${registry.url}",
    repository = "ws/base",
    digest = "${digest}",
)

pull(
    name = "unpinned",
    registry = "${registry.url}",
    repository = "ws/base",
    tag = "v1",
)
`,
    );
    await writeFile(join(ws, 'msg.txt'), 'hello');
    await writeFile(
      join(ws, 'BUILD.bazel'),
      `load("@img_rules//img:image.bzl", "image_manifest")
load("@img_rules//img:layer.bzl", "image_layer")

image_layer(
    name = "msg",
    srcs = {"/etc/msg": "msg.txt"},
)

image_manifest(
    name = "image",
    base = "@base",
    layers = [":msg"],
)

image_manifest(
    name = "unpinned_image",
    base = "@unpinned",
)
`,
    );
  });

  afterAll(async () => {
    if (ws) await bazel('shutdown', [], { ...opts(), allowFailure: true });
    await registry?.stop();
  });

  it('builds an image over a single-platform base pulled by digest', async () => {
    const r = await bazel('build', ['//:image'], opts());
    expect(r.code, r.stderr).toBe(0);
    const [manifestFile] = await outputFiles(['//:image'], [], opts());
    const manifest = JSON.parse(await readFile(manifestFile!, 'utf8')) as { layers: unknown[] };
    expect(manifest.layers).toHaveLength(2);
  });

  it('fails a pull without digest, naming the attribute', async () => {
    const r = await bazel('build', ['//:unpinned_image'], { ...opts(), allowFailure: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/pull\(name = "unpinned"\): digest is required/);
  });
});
