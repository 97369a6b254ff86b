import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ciRequires, run, startRegistry, type TestRegistry, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_DIR, gzipExampleSpec, img, imgOk } from '../helpers.js';

const tools = ciRequires('docker-registry', 'crane', 'skopeo', 'htpasswd', 'openssl');
const tmp = useTempDir('img-cli-registry-');

async function manifestDigest(layout: string): Promise<string> {
  return JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')).manifests[0].digest;
}

describe.skipIf(tools.skip)('img push / pull / build --push against a real registry', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'none' });
    // This file's own blob-location cache (img push remembers where it pushed blobs).
    process.env.IMG_CACHE_DIR = join(tmp.path, 'cache');
  });
  afterAll(() => registry?.stop());

  it('pushes a layout, crane validates it, and a re-push uploads nothing', async () => {
    const layout = join(tmp.path, 'hello');
    // gzip layers: crane 0.20.7's validate cannot decompress zstd (a skopeo-made zstd image fails too).
    await imgOk('build', await gzipExampleSpec(tmp.path), '--output', `oci:${layout}`);
    const ref = `${registry.url}/img/hello:1`;
    const r = await imgOk('push', `oci:${layout}`, ref, '--tag', 'latest', '--json');
    const summary = JSON.parse(r.stdout);
    const digest = await manifestDigest(layout);
    expect(summary.digest).toBe(digest);
    expect(summary.references).toEqual([
      `${registry.url}/img/hello:1@${digest}`,
      `${registry.url}/img/hello:latest@${digest}`,
    ]);
    expect(summary.blobsUploaded).toBe(3); // two layers and the config
    const crane = await run('crane', ['validate', '--insecure', '--remote', ref]);
    expect(crane.stdout + crane.stderr).toMatch(/PASS/);
    // skopeo copies it back byte for byte.
    const back = join(tmp.path, 'back');
    await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${back}:x`]);
    expect(await manifestDigest(back)).toBe(digest);

    const again = JSON.parse((await imgOk('push', `oci:${layout}`, ref, '--json')).stdout);
    expect(again).toMatchObject({ blobsUploaded: 0, blobsSkipped: 3, bytesUploaded: 0 });

    // Into a new repository: the blobs img pushed to img/hello are mounted from there, not uploaded.
    const other = JSON.parse(
      (await imgOk('push', `oci:${layout}`, `${registry.url}/img/other:1`, '--json')).stdout,
    );
    expect(other).toMatchObject({ blobsUploaded: 0, blobsMounted: 3, bytesUploaded: 0 });
    const forgetful = JSON.parse(
      (await imgOk('push', `oci:${layout}`, `${registry.url}/img/third:1`, '--json', '--no-blob-cache'))
        .stdout,
    );
    expect(forgetful).toMatchObject({ blobsUploaded: 3, blobsMounted: 0 });
    const mounted = await run('crane', ['validate', '--insecure', '--remote', `${registry.url}/img/other:1`]);
    expect(mounted.stdout + mounted.stderr).toMatch(/PASS/);
  });

  it('builds on a shallow-pulled base and pushes without downloading or uploading base layers', async () => {
    // A two-platform base in the registry.
    await imgOk('build', join(EXAMPLE_DIR, 'image-multi.json'), '--push', `${registry.url}/base/multi:1`);
    const baseDir = join(tmp.path, 'base');
    const pulled = await imgOk('pull', `${registry.url}/base/multi:1`, '--output', baseDir);
    expect(pulled.stdout).toMatch(new RegExp(`^${registry.url}/base/multi@sha256:`));
    const blobs = await readdir(join(baseDir, 'blobs/sha256'));
    expect(blobs).toHaveLength(1 + 2 + 2); // index, two manifests, two configs; no layers
    await imgOk('validate', baseDir, '--allow-missing-blobs');
    const info = JSON.parse(await readFile(join(baseDir, 'img-base.json'), 'utf8'));
    expect(info).toMatchObject({ registry: registry.url, repository: 'base/multi', tag: '1' });

    const appDir = join(tmp.path, 'app');
    await mkdir(appDir, { recursive: true });
    await writeFile(join(appDir, 'app.txt'), 'app layer\n');
    const spec = join(appDir, 'image.json');
    await writeFile(
      spec,
      JSON.stringify({
        base: baseDir,
        layers: [{ files: { '/srv/app.txt': 'app.txt' } }],
        config: { cmd: ['cat', '/srv/app.txt'] },
        platforms: [{ platform: 'linux/amd64' }, { platform: 'linux/arm64' }],
      }),
    );
    const baseInfo = JSON.parse((await imgOk('inspect', baseDir, '--json')).stdout);
    const baseLayers: string[] = [
      ...new Set<string>(
        baseInfo.images.flatMap((i: { layers: { digest: string }[] }) => i.layers.map((l) => l.digest)),
      ),
    ];
    expect(baseLayers).toHaveLength(1);
    const baseLayerGets = async () =>
      (await Promise.all(baseLayers.map((d) => registry.blobGets(d)))).flat().length;
    const pushed = await imgOk('build', spec, '--push', `${registry.url}/team/app:1`, '--json');
    const summary = JSON.parse(pushed.stdout);
    expect(summary.blobsMounted).toBe(1); // the base's one (shared) layer
    expect(summary.blobsUploaded).toBe(1 + 2); // our layer and two configs
    expect(await baseLayerGets()).toBe(0); // no base layer bytes read from the registry
    const crane = await run('crane', ['validate', '--insecure', '--remote', `${registry.url}/team/app:1`]);
    expect(crane.stdout + crane.stderr).toMatch(/PASS/);

    // The same build into a shallow layout records the base layers' sources; pushing it mounts them.
    const shallow = join(tmp.path, 'app-layout');
    await imgOk('build', spec, '--output', `oci:${shallow}`);
    expect(JSON.parse(await readFile(join(shallow, 'img-sources.json'), 'utf8'))).toEqual({
      [baseLayers[0]!]: [{ registry: registry.url, repository: 'base/multi' }],
    });
    await imgOk('validate', `oci:${shallow}`, '--allow-missing-blobs');
    const getsBefore = await baseLayerGets(); // crane validate above read the layers itself
    const fromLayout = JSON.parse(
      (await imgOk('push', `oci:${shallow}`, `${registry.url}/other/app:1`, '--json')).stdout,
    );
    // The base layer from its source; our layer and the configs from team/app, where img pushed them.
    expect(fromLayout).toMatchObject({ blobsMounted: 4, blobsUploaded: 0 });
    expect(await baseLayerGets()).toBe(getsBefore);

    // A docker archive needs every layer: the base layer is streamed from the registry into it.
    const archive = join(tmp.path, 'app-docker.tar');
    await imgOk('build', spec, '--output', `docker-archive:${archive}:app:1`);
    expect(await baseLayerGets()).toBe(getsBefore + 1);
    const c2 = await run('crane', ['validate', '--tarball', archive]);
    expect(c2.stdout + c2.stderr).toMatch(/PASS/);
  });

  it('pulls one platform, eagerly with layers, into a complete layout', async () => {
    const dir = join(tmp.path, 'arm');
    await imgOk(
      'pull',
      `${registry.url}/base/multi:1`,
      '--output',
      dir,
      '--platform',
      'linux/arm64',
      '--layers',
    );
    const report = await imgOk('validate', `oci:${dir}`);
    expect(report.stdout).toMatch(/1 image\(s\), 1 layer\(s\) checked/);
    const info = JSON.parse((await imgOk('inspect', `oci:${dir}`, '--json')).stdout);
    expect(info.images[0].platform).toBe('linux/arm64/v8');
  });

  it('fails clearly for a missing image and a bad reference, leaving no output', async () => {
    const missing = await img('pull', `${registry.url}/nope/nothing:1`, '--output', join(tmp.path, 'nope'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\/nothing/);
    expect(await readdir(tmp.path)).not.toContain('nope');
    const bad = await img('push', join(tmp.path, 'hello'), 'UPPER/Case::x');
    expect(bad.code).toBe(2); // a bad reference is a usage error
  });
});

describe.skipIf(tools.skip)('registry authentication from the docker config', () => {
  for (const mode of ['htpasswd', 'token'] as const) {
    it(`pushes and pulls with ${mode} auth, never printing the password`, async () => {
      const registry = await startRegistry({ auth: mode });
      const saved = process.env.DOCKER_CONFIG;
      try {
        const configDir = join(tmp.path, `docker-${mode}`);
        await mkdir(configDir, { recursive: true });
        const layout = join(tmp.path, 'hello');
        const ref = `${registry.url}/auth/hello:1`;
        process.env.DOCKER_CONFIG = configDir;
        await writeFile(join(configDir, 'config.json'), JSON.stringify({ auths: {} }));
        const denied = await img('push', `oci:${layout}`, ref);
        expect(denied.code).toBe(1);
        expect(denied.stderr).toMatch(/401|unauthori[sz]ed|UNAUTHORIZED|denied/i);
        const auth = Buffer.from(`${registry.auth.username}:wrong-${registry.auth.password}`).toString(
          'base64',
        );
        await writeFile(
          join(configDir, 'config.json'),
          JSON.stringify({ auths: { [registry.url]: { auth } } }),
        );
        const wrong = await img('push', `oci:${layout}`, ref);
        expect(wrong.code).toBe(1);
        expect(wrong.stderr).not.toContain(registry.auth.password);
        const good = Buffer.from(registry.auth.creds).toString('base64');
        await writeFile(
          join(configDir, 'config.json'),
          JSON.stringify({ auths: { [registry.url]: { auth: good } } }),
        );
        await imgOk('push', `oci:${layout}`, ref);
        await imgOk('pull', ref, '--output', join(tmp.path, `pulled-${mode}`));
        const crane = await run('crane', ['validate', '--insecure', '--remote', ref], {
          env: { ...process.env, DOCKER_CONFIG: configDir },
        });
        expect(crane.stdout + crane.stderr).toMatch(/PASS/);
      } finally {
        if (saved === undefined) delete process.env.DOCKER_CONFIG;
        else process.env.DOCKER_CONFIG = saved;
        await registry.stop();
      }
    });
  }

  it('pushes and pulls with a Bazel-protocol credential helper (--credential-helper, IMG_CREDENTIAL_HELPER)', async () => {
    const registry = await startRegistry({ auth: 'htpasswd' });
    const saved = process.env.DOCKER_CONFIG;
    try {
      const configDir = join(tmp.path, 'docker-empty');
      await mkdir(configDir, { recursive: true });
      await writeFile(join(configDir, 'config.json'), JSON.stringify({ auths: {} }));
      process.env.DOCKER_CONFIG = configDir;
      // The helper answers only for this registry's URI and logs what it was asked.
      const asked = join(tmp.path, 'helper-asked.log');
      const helper = join(tmp.path, 'bazel-helper.sh');
      const basic = Buffer.from(registry.auth.creds).toString('base64');
      await writeFile(
        helper,
        `#!/bin/sh
[ "$1" = get ] || exit 2
read -r request
echo "$request" >> ${asked}
case "$request" in
  *'"https://${registry.url}/'*|*'"http://${registry.url}/'*) echo '{"headers":{"Authorization":["Basic ${basic}"]}}' ;;
  *) echo '{}' ;;
esac
`,
        { mode: 0o755 },
      );
      const layout = join(tmp.path, 'hello');
      const ref = `${registry.url}/helper/hello:1`;
      await imgOk('push', `oci:${layout}`, ref, '--credential-helper', helper);
      expect(await readFile(asked, 'utf8')).toMatch(new RegExp(`"uri":\\s*"https?://${registry.url}/v2/`));
      process.env.IMG_CREDENTIAL_HELPER = helper;
      await imgOk('pull', ref, '--output', join(tmp.path, 'pulled-helper'));
      delete process.env.IMG_CREDENTIAL_HELPER;
      const denied = await img('pull', ref, '--output', join(tmp.path, 'pulled-denied'));
      expect(denied.code).toBe(1);
      expect(denied.stderr).not.toContain(basic);
    } finally {
      delete process.env.IMG_CREDENTIAL_HELPER;
      if (saved === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved;
      await registry.stop();
    }
  });
});
