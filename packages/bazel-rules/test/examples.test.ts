import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bazel,
  EXAMPLES,
  img,
  outputFiles,
  outputRoot,
  processSummary,
  readText,
  skipWithoutBazel,
} from './bazel.js';

// Real Bazel 7 (Debian sid chroot, offline), Bzlmod: build examples/bazel, validate what it produced,
// check the manifest action never sees a layer blob, and that builds are reproducible.
const skip = skipWithoutBazel();
const ROOT = outputRoot('examples');
const opts = { root: ROOT };

const IMAGES = [
  '//shell_app:image',
  '//multi_layer:image',
  '//rules_img_compat:my_app',
  '//rules_img_compat:app_arm64',
];
const INDEXES = [
  '//multi_platform:index',
  '//rules_img_compat:multiarch_app',
  '//rules_img_compat:explicit_index',
];
const TOP = [...IMAGES, ...INDEXES];

/** digest file of every image and index target -> its content. */
async function digests(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const target of TOP) {
    const [file] = await outputFiles([target], ['--output_groups=digest'], { root });
    out[target] = await readText(file!);
  }
  return out;
}

interface Layout {
  index: { manifests: Array<{ digest: string; platform?: { architecture: string; variant?: string } }> };
  dir: string;
}

async function layoutOf(target: string): Promise<Layout> {
  const [dir] = await outputFiles([target], ['--output_groups=oci_layout'], opts);
  const index = JSON.parse(await readFile(join(dir!, 'index.json'), 'utf8'));
  return { index, dir: dir! };
}

async function blobJson(dir: string, digest: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(dir, 'blobs', 'sha256', digest.slice(7)), 'utf8'));
}

function tarListing(file: string, flags = 'tv'): string[] {
  return execFileSync('tar', [`-${flags}f`, file, '--numeric-owner'], { encoding: 'utf8' })
    .trimEnd()
    .split('\n');
}

describe.skipIf(skip)('examples/bazel with Bzlmod', () => {
  let first: Record<string, string>;
  let buildLog = '';

  beforeAll(async () => {
    const r = await bazel('build', ['--output_groups=+oci_layout,+oci_tarball,+digest', '//...'], opts);
    buildLog = r.stderr;
    first = await digests(ROOT);
  });

  afterAll(async () => {
    await bazel('shutdown', [], { root: ROOT, allowFailure: true });
    await bazel('shutdown', [], { root: outputRoot('examples-2'), allowFailure: true });
  });

  it('runs img actions as persistent workers', () => {
    // After a cold start every img action is a worker spawn; on a warm output base there may be none.
    const summary = processSummary(buildLog);
    expect(
      Object.keys(summary).filter(
        (k) => !['internal', 'worker', 'disk cache hit', 'remote cache hit'].includes(k),
      ),
    ).toEqual([]);
  });

  it('produces OCI layouts that img validate accepts, directory and tarball', async () => {
    for (const target of TOP) {
      for (const group of ['oci_layout', 'oci_tarball']) {
        const [path] = await outputFiles([target], [`--output_groups=${group}`], opts);
        const ref = group === 'oci_layout' ? `oci:${path}` : `oci-archive:${path}`;
        const r = await img(['validate', ref]);
        expect(r.stdout, target).toMatch(new RegExp(`^PASS .*@${first[target]}: `));
      }
    }
  });

  it('builds one manifest for linux/amd64 and linux/arm64/v8 through the split transition', async () => {
    const { index, dir } = await layoutOf('//multi_platform:index');
    const root = await blobJson(dir, index.manifests[0]!.digest);
    const children = root.manifests as Array<{ platform: Record<string, string>; digest: string }>;
    expect(children.map((m) => m.platform)).toEqual([
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux', variant: 'v8' },
    ]);
    expect(children[0]!.digest).toBe(first['//shell_app:image']);
    const armConfig = await blobJson(
      dir,
      ((await blobJson(dir, children[1]!.digest)).config as { digest: string }).digest,
    );
    expect(armConfig.architecture).toBe('arm64');
    expect(armConfig.variant).toBe('v8');
  });

  it('puts an executable with its runfiles tree into the shell app layer', async () => {
    const [blob] = await outputFiles(['//shell_app:app_layer'], [], opts);
    const names = tarListing(blob!, 'tz').map((l) => l.split(/\s+/).pop());
    expect(names).toEqual(
      expect.arrayContaining([
        'app/hello',
        'app/hello.runfiles/_main/shell_app/greeting.txt',
        'app/hello.runfiles/_main/shell_app/hello.sh',
        'app/hello.runfiles/_repo_mapping',
      ]),
    );
  });

  it('applies file_metadata, symlinks and a multi-file key as a directory', async () => {
    const [blob] = await outputFiles(['//multi_layer:site_layer'], [], opts);
    const listing = tarListing(blob!, 'tvz');
    // file_metadata overrides only the fields it sets: mode 0600 here, uid/gid 1000 from default_metadata.
    expect(listing.find((l) => l.endsWith(' etc/app/config.json'))).toMatch(/^-rw------- 1000\/1000 /);
    expect(listing.find((l) => l.endsWith(' srv/site/static/index.html'))).toMatch(/^-rw-r--r-- 1000\/1000 /);
    expect(listing.find((l) => l.includes(' srv/current -> '))).toMatch(/^l.* srv\/current -> \/srv\/site$/);
  });

  it('rewrites a tar with optimize: sorted, mtime 0, names cleared, the duplicate hardlinked', async () => {
    const [blob] = await outputFiles(['//multi_layer:tool_layer'], [], opts);
    expect(tarListing(blob!, 'tvz').map((l) => l.replace(/ +/g, ' '))).toEqual([
      'drwxr-xr-x 1000/50 0 1970-01-01 00:00 opt/',
      'drwxr-xr-x 1000/50 0 1970-01-01 00:00 opt/tool/',
      '-rw-r--r-- 1000/50 8 1970-01-01 00:00 opt/tool/README',
      '-rw-r--r-- 1000/50 4053 1970-01-01 00:00 opt/tool/data-copy.txt',
      'hrw-r--r-- 1000/50 0 1970-01-01 00:00 opt/tool/data.txt link to opt/tool/data-copy.txt',
    ]);
  });

  it('converts a tar to eStargz with layer_from_tar(estargz = "enabled")', async () => {
    const target = '//multi_layer:vendor_lazy_layer';
    const [blob] = await outputFiles([target], [], opts);
    const [metadata] = await outputFiles([target], ['--output_groups=metadata'], opts);
    await img(['estargz', 'verify', blob!, `--metadata=${metadata}`]);
    expect(tarListing(blob!, 'tz')).toEqual([
      '.no.prefetch.landmark',
      'opt/',
      'opt/vendor/',
      'opt/vendor/LICENSE',
      'opt/vendor/README',
      'stargz.index.json',
    ]);
    const meta = JSON.parse(await readText(metadata!));
    expect(meta.annotations['containerd.io/snapshot/stargz/toc.digest']).toMatch(/^sha256:/);
  });

  it('assembles the multi-layer image over its base with the configured config', async () => {
    const { index, dir } = await layoutOf('//multi_layer:image');
    const manifest = await blobJson(dir, index.manifests[0]!.digest);
    const layers = manifest.layers as Array<{ mediaType: string; annotations?: Record<string, string> }>;
    expect(layers.map((l) => l.mediaType.replace('application/vnd.oci.image.layer.v1.', ''))).toEqual([
      'tar+gzip', // base: shell app
      'tar+gzip', // vendor.tar.gz, untouched
      'tar+zstd', // static_layer, compress = "zstd"
      'tar+gzip', // lazy_layer, eStargz
      'tar+gzip',
    ]);
    expect(Object.keys(layers[3]!.annotations ?? {})).toContain('containerd.io/snapshot/stargz/toc.digest');
    expect(layers[4]!.annotations).toEqual({ 'org.example.layer': 'site' });
    expect((manifest.annotations as Record<string, string>)['org.opencontainers.image.base.digest']).toBe(
      first['//shell_app:image'],
    );
    const config = await blobJson(dir, (manifest.config as { digest: string }).digest);
    expect(config.created).toBe('2024-01-01T00:00:00Z');
    expect(config.config).toMatchObject({
      User: '1000:1000',
      WorkingDir: '/srv/site',
      Entrypoint: ['/app/hello'],
      Cmd: ['--serve'],
      ExposedPorts: { '8080/tcp': {} },
      Env: ['GREETING_FILE=/app/hello.runfiles/_main/shell_app/greeting.txt', 'APP_MODE=production'],
    });
    // layer_from_tar without recompression: the layer blob is the source file, byte for byte.
    const vendorDigest = (manifest.layers as Array<{ digest: string }>)[1]!.digest;
    const vendor = await readFile(join(EXAMPLES, 'multi_layer', 'vendor.tar.gz'));
    expect(vendorDigest).toBe(
      `sha256:${(await import('node:crypto')).createHash('sha256').update(vendor).digest('hex')}`,
    );
  });

  it('gives the manifest action layer metadata only, never a layer blob (aquery)', async () => {
    const r = await bazel('aquery', ['mnemonic("ImgManifest", //multi_layer:image)'], opts);
    const inputs = [...r.stdout.matchAll(/^\s*Inputs: \[([^\]]*)\]/gm)].map((m) => m[1]!.split(', '));
    expect(inputs).toHaveLength(1);
    // Besides the toolchain's files (the bundle and the downloaded node):
    const files = inputs[0]!.filter((f) => !f.endsWith('img.cjs') && !f.endsWith('/node/bin/node'));
    expect(files.filter((f) => f.endsWith('_metadata.json'))).toHaveLength(4);
    expect(files.filter((f) => /\.(tgz|tar|tar\.gz|tar\.zst)$/.test(f))).toEqual([]);
    expect(files.every((f) => f.endsWith('.json') || f.endsWith('.params'))).toBe(true);
  });

  it('keeps the rules_img BUILD file identical apart from its load() lines', async () => {
    const original = await readFile(join(EXAMPLES, 'rules_img_compat', 'BUILD.rules_img'), 'utf8');
    const ours = await readFile(join(EXAMPLES, 'rules_img_compat', 'BUILD.bazel'), 'utf8');
    const changed = original
      .split('\n')
      .map((line, i) => [line, ours.split('\n')[i]] as const)
      .filter(([a, b]) => a !== b);
    expect(changed.length).toBeGreaterThan(0);
    for (const [a, b] of changed) {
      expect(a).toMatch(/^load\("@rules_img\/\//);
      expect(b).toBe(a.replace('@rules_img//', '@img_rules//'));
    }
    expect(ours.split('\n')).toHaveLength(original.split('\n').length);
    // The secure layer's per-file metadata (mode, mtime, pax_records) made it into the tar.
    const [blob] = await outputFiles(['//rules_img_compat:secure_layer'], [], opts);
    const listing = tarListing(blob!, 'tvz');
    expect(listing.find((l) => l.endsWith(' etc/app/secret'))).toMatch(
      /^-rw------- 1000\/1000 .* 2024-01-01 00:00 etc\/app\/secret$/,
    );
    const explicit = await layoutOf('//rules_img_compat:explicit_index');
    const children = (await blobJson(explicit.dir, explicit.index.manifests[0]!.digest)).manifests as Array<{
      platform: Record<string, string>;
    }>;
    expect(children.map((m) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
  });

  it('passes compression_jobs to the layer actions; small layers keep their digest', async () => {
    const layerArgs = async (jobs: string) => {
      const flag = `--@img_rules//img/settings:compression_jobs=${jobs}`;
      const r = await bazel(
        'aquery',
        ['--include_param_files', flag, 'mnemonic("ImgLayer", //shell_app:*)'],
        opts,
      );
      return r.stdout;
    };
    expect(await layerArgs('2')).toContain('--compressor-jobs=2');
    expect(await layerArgs('nproc')).toContain('--compressor-jobs=nproc');
    expect(await layerArgs('auto')).not.toContain('--compressor-jobs');
    // Below one 1 MiB block, gzip block mode writes the bytes of the single stream.
    const target = '//shell_app:image';
    const flag = '--@img_rules//img/settings:compression_jobs=2';
    const [file] = await outputFiles([target], ['--output_groups=digest', flag], opts);
    expect(await readText(file!)).toBe(first[target]);
  });

  it('gives the same digests after bazel clean and in a second output base', async () => {
    await bazel('clean', [], opts);
    const r = await bazel('build', ['--output_groups=+digest', '//...'], opts);
    expect(processSummary(r.stderr).worker ?? 0).toBeGreaterThan(10);
    expect(await digests(ROOT)).toEqual(first);

    const second = outputRoot('examples-2');
    await bazel('clean', ['--expunge'], { root: second, allowFailure: true });
    await bazel('build', ['--output_groups=+digest', '//...'], { root: second });
    expect(await digests(second)).toEqual(first);
  });
});
