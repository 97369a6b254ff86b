import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
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

// test/fixtures/rules_img_twin: a BUILD file written as rules_img's docs show each feature
// (BUILD.rules_img), and the same file with only its load() lines changed (BUILD.img_rules), built
// with real Bazel 7 over a busybox base pulled from a real registry; the results are checked in the
// registry, in containerd and by image_structure_test.
const skipBazel = skipWithoutBazel();
const needs = ciRequires('docker-registry', 'crane', 'containerd', 'ctr', 'runc', 'busybox', { root: true });
const skip = skipBazel || needs.skip;
const tmp = useTempDir('bazel-twin-');
const ROOT = outputRoot('twin');
const FIXTURE = join(RULES_DIR, 'test', 'fixtures', 'rules_img_twin');

/** Requests the registry logged: method and path, in order. */
async function requests(registry: TestRegistry): Promise<string[]> {
  return [...(await registry.log()).matchAll(/"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP/g)].map(
    (m) => `${m[1]} ${m[2]}`,
  );
}

describe.skipIf(skip)('the rules_img feature twin (Bzlmod, real registry and containerd)', () => {
  let registry: TestRegistry;
  let ctrd: TestContainerd;
  let ws: string;
  const opts = () => ({ root: ROOT, cwd: ws });
  const registryFlag = () => `--//:registry=${registry.url}`;

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'none' });
    ctrd = await startContainerd();
    const pushed = await img([
      'push',
      await busyboxSpec(tmp.path, 'linux/amd64', { PATH: '/bin' }),
      `${registry.url}/twin/base:v1`,
    ]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const digest = pushed.stdout.trim().split('@').at(-1)!;
    ws = tmp.join('ws');
    await mkdir(ws);
    await cp(FIXTURE, ws, { recursive: true });
    await cp(join(FIXTURE, 'BUILD.img_rules'), join(ws, 'BUILD.bazel'));
    await writeFile(
      join(ws, 'MODULE.bazel'),
      testModule('twin', [{ name: 'base', registry: registry.url, repository: 'twin/base', digest }]),
    );
    await writeFile(join(ws, 'WORKSPACE.bzlmod'), '');
    await writeFile(
      join(ws, 'status.sh'),
      '#!/bin/sh\necho STABLE_GIT_COMMIT commit-abc123\necho STABLE_RELEASE v2.0\n',
      { mode: 0o755 },
    );
  });

  afterAll(async () => {
    if (ws) await bazel('shutdown', [], { ...opts(), allowFailure: true });
    await ctrd?.stop();
    await registry?.stop();
  });

  it('keeps the BUILD file identical to the rules_img one apart from its load() lines', async () => {
    const original = (await readFile(join(FIXTURE, 'BUILD.rules_img'), 'utf8')).split('\n');
    const ours = (await readFile(join(FIXTURE, 'BUILD.img_rules'), 'utf8')).split('\n');
    expect(ours).toHaveLength(original.length);
    const changed = original.map((line, i) => [line, ours[i]!] as const).filter(([a, b]) => a !== b);
    expect(changed.length).toBe(5);
    for (const [a, b] of changed) {
      expect(a).toMatch(/^load\("@rules_img\/\//);
      expect(b).toBe(a.replace('@rules_img//', '@img_rules//'));
    }
  });

  it('builds the image config from env/label/annotation files and templates; subject and artifactType', async () => {
    const r = await bazel('build', ['--output_groups=+oci_layout', '//...'], opts());
    expect(r.code, r.stderr).toBe(0);
    const [manifestFile, configFile] = await outputFiles(['//:app'], [], opts());
    const manifest = JSON.parse(await readFile(manifestFile!, 'utf8'));
    const config = JSON.parse(await readFile(configFile!, 'utf8'));
    expect(config.config.Env).toEqual([
      'BASE=busybox',
      'PATH=/bin',
      'FROM_FILE=overridden by the attribute',
      'ONLY_IN_FILE=kept',
      'APP_ENV=dev',
      'BASE_COPY=busybox',
    ]);
    // label_files win over labels (the list form: its last value); an unstamped stamp variable is "".
    expect(config.config.Labels).toEqual({
      'org.opencontainers.image.version': '1.0.1',
      'org.opencontainers.image.revision': '',
      'org.opencontainers.image.vendor': 'img',
    });
    expect(config.config.StopSignal).toBe('SIGTERM');
    expect(config.config.WorkingDir).toBe('/etc/app');
    expect(config.created).toBeUndefined(); // created_timestamp is empty without stamping
    // per-layer history: the base's entry, then one per built layer
    expect(config.history.map((h: { created_by: string }) => h.created_by)).toEqual([
      expect.any(String),
      'bazel build //:config_layer',
    ]);
    expect(manifest.annotations).toMatchObject({
      'org.opencontainers.image.description': 'from the file',
      'org.opencontainers.image.source': 'https://example.com/dev',
    });
    const [sbomFile] = await outputFiles(['//:app_sbom'], [], opts());
    const sbom = JSON.parse(await readFile(sbomFile!, 'utf8'));
    const [appDigest] = await outputFiles(['//:app'], ['--output_groups=digest'], opts());
    expect(sbom.artifactType).toBe('application/spdx+json');
    expect(sbom.subject).toEqual({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: (await readFile(appDigest!, 'utf8')).trim(),
      size: (await readFile(manifestFile!)).length,
    });
  });

  it('stamps created, labels and pushed tags from templates with --stamp', async () => {
    const stamp = ['--stamp', '--embed_label=e42', `--workspace_status_command=${join(ws, 'status.sh')}`];
    const r = await bazel('run', [...stamp, registryFlag(), '--//:environment=prod', '//:push'], opts());
    expect(r.code, r.stderr).toBe(0);
    const tags = (await run('crane', ['ls', '--insecure', `${registry.url}/twin/app`])).stdout
      .trim()
      .split('\n');
    expect(tags.sort()).toEqual(['abc123', 'latest', 'prod-e42', 'v2.0']);
    const config = JSON.parse(
      (await run('crane', ['config', '--insecure', `${registry.url}/twin/app:v2.0`])).stdout,
    );
    expect(config.created).toMatch(/^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(config.config.Labels['org.opencontainers.image.revision']).toBe('commit-abc123');
    expect(config.config.Env).toContain('APP_ENV=prod');
    // Without --stamp the stamp variable in a tag stays a template, and bazel run refuses it.
    const unstamped = await bazel('run', [registryFlag(), '//:push'], { ...opts(), allowFailure: true });
    expect(unstamped.code).not.toBe(0);
    expect(unstamped.stderr).toContain(
      'tags "{{.environment}}-{{.BUILD_EMBED_LABEL}}" is a template but stamping is off',
    );
  });

  it('runs an image_from_binary image in containerd: entrypoint, args, env and runfiles', async () => {
    const [, configFile] = await outputFiles(['//:server_image'], [], opts());
    const config = JSON.parse(await readFile(configFile!, 'utf8'));
    expect(config.config).toMatchObject({
      Entrypoint: ['/_main/server'],
      Cmd: ['--greeting', './greeting.txt'],
      WorkingDir: '/_main/server.runfiles/_main',
      Labels: { 'org.opencontainers.image.title': 'server' },
    });
    expect(config.config.Env).toContain('SERVER_MODE=demo');
    const ns = ctrd.newNamespace('twin');
    const r = await bazel(
      'run',
      ['//:load_server', '--', '--address', ctrd.address, '--namespace', ns],
      opts(),
    );
    expect(r.code, r.stderr).toBe(0);
    const out = await ctrd.ctr(['run', '--rm', 'docker.io/twin/server:dev', `twin-${Date.now()}`], {
      namespace: ns,
    });
    expect(out.stdout.trim()).toBe('server: mode=demo args=--greeting hello from the twin');
  });

  it('image_structure_test passes on the image and fails naming the check on each wrong config', async () => {
    const ok = await bazel('test', ['--test_output=errors', '//:app_test'], opts());
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    const cases: Array<[string, RegExp]> = [
      [
        'mode',
        /FAIL .*fileExistenceTests config mode: \/etc\/app\/app\.conf has permissions -rw-r--r--, want -rwxr-xr-x/,
      ],
      ['missing', /FAIL .*fileExistenceTests missing file: \/etc\/app\/missing\.conf does not exist/],
      ['env', /FAIL .*metadataTest env APP_ENV: "dev", want "production"/],
      [
        'content',
        /FAIL .*fileContentTests config port: \/etc\/app\/app\.conf: expected "listen = 9090" not found/,
      ],
      [
        'command',
        /FAIL .*commandTests \(prints the config\): commandTests run the image, and no container runtime is configured for this test/,
      ],
    ];
    for (const [name, message] of cases) {
      const r = await bazel('test', ['--test_output=errors', `//:app_test_${name}`], {
        ...opts(),
        allowFailure: true,
      });
      expect(r.code, name).not.toBe(0);
      expect(r.stdout + r.stderr, name).toMatch(message);
    }
  });

  it('pushes at build time: blobs, then manifest and tag; a second build uploads nothing', async () => {
    const setting = (v: string) => `--@img_rules//img/settings:push_at_build_time=${v}`;
    const content = (v: string) => `--@img_rules//img/settings:push_at_build_time_content=${v}`;
    const before = (await requests(registry)).length;
    const blobs = await bazel(
      'build',
      [registryFlag(), setting('enabled'), content('blobs'), '//:push_at_build'],
      opts(),
    );
    expect(blobs.code, blobs.stderr).toBe(0);
    const afterBlobs = (await requests(registry)).slice(before);
    expect(afterBlobs.filter((r) => r.startsWith('PUT /v2/twin/build/blobs/uploads/')).length).toBe(2); // layer + config
    expect(afterBlobs.some((r) => r.includes('/manifests/'))).toBe(false);
    // the base layer is mounted from the base's repository, not uploaded
    expect(afterBlobs.filter((r) => r.startsWith('POST') && r.includes('mount=')).length).toBe(1);

    const all = await bazel(
      'build',
      [registryFlag(), setting('enabled'), content('blobs_and_manifests'), '//:push_at_build'],
      opts(),
    );
    expect(all.code, all.stderr).toBe(0);
    const v = await run('crane', ['validate', '--insecure', '--remote', `${registry.url}/twin/build:v1`], {
      allowFailure: true,
    });
    expect(v.code, v.stderr + v.stdout).toBe(0);

    // After bazel clean the push actions run again: HEAD requests only, nothing uploaded.
    await bazel('clean', [], opts());
    const mark = (await requests(registry)).length;
    const again = await bazel(
      'build',
      [registryFlag(), setting('enabled'), content('blobs_and_manifests'), '//:push_at_build'],
      opts(),
    );
    expect(again.code, again.stderr).toBe(0);
    const second = (await requests(registry)).slice(mark);
    expect(second.length).toBeGreaterThan(0);
    expect(second.filter((r) => !r.startsWith('HEAD') && r !== 'GET /v2/')).toEqual([]);
  });
});
