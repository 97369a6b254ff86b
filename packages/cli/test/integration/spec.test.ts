import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { imgBin } from '../helpers.js';

const tmp = useTempDir('img-cli-spec-');

/** A spec file in its own directory beside a small app tree (app/, a.txt). */
async function specFile(name: string, spec: unknown): Promise<string> {
  const dir = join(tmp.path, name);
  for (const d of ['app/node_modules/dep', 'app/logs', 'app/bin'])
    await mkdir(join(dir, d), { recursive: true });
  const files: Record<string, string> = {
    'a.txt': 'a',
    'app/index.js': 'index',
    'app/node_modules/dep/index.js': 'dep',
    'app/logs/today.log': 'log',
    'app/debug.log': 'debug',
    'app/keep.log': 'keep',
    'app/bin/run': '#!/bin/sh\n',
  };
  for (const [f, content] of Object.entries(files)) await writeFile(join(dir, f), content);
  await chmod(join(dir, 'app/bin/run'), 0o755);
  const path = join(dir, 'image.json');
  await writeFile(path, typeof spec === 'string' ? spec : JSON.stringify(spec, null, 2));
  return path;
}

/** `img build` fails with exit 1 and exactly one line on stderr, which is returned; no output is left. */
async function buildFails(spec: string): Promise<string> {
  const out = join(tmp.path, 'never');
  const r = await imgBin(['build', spec, '--output', `oci:${out}`]);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr.split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  return r.stderr;
}

async function buildOk(spec: string): Promise<string> {
  const out = join(tmp.path, `out-${Math.random().toString(36).slice(2)}`);
  const r = await imgBin(['build', spec, '--output', `oci:${out}`]);
  expect(r.code, r.stderr).toBe(0);
  return out;
}

interface Inspected {
  images: Array<{ platform: string; config: { config: Record<string, unknown> } }>;
}

async function inspect(layout: string): Promise<Inspected> {
  const r = await imgBin(['inspect', `oci:${layout}`, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** `tar -tv` lines (numeric owners) of a single-layer image's layer. */
async function layerListing(layout: string): Promise<string[]> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  const blob = (d: string) => join(layout, 'blobs', ...d.split(':'));
  const manifest = JSON.parse(await readFile(blob(index.manifests[0].digest), 'utf8'));
  const tar = await run('tar', ['--numeric-owner', '-tvzf', blob(manifest.layers[0].digest)]);
  return tar.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const f = l.split(/\s+/);
      return `${f[0]} ${f[1]} ${f.slice(5).join(' ')}`;
    });
}

const SPEC_PATH = /^img: \S+image\.json: /;

describe('the image spec as a documented format', () => {
  it('accepts "$schema" pointing at the shipped schema', async () => {
    const spec = await specFile('schema-key', {
      $schema: './node_modules/@img/cli/image-spec.schema.json',
      platform: 'linux/amd64',
      layers: [{ files: { '/a': 'a.txt' } }],
    });
    await buildOk(spec);
  });

  it('rejects a numeric mode, naming its key path', async () => {
    const spec = await specFile('numeric-mode', {
      platform: 'linux/amd64',
      layers: [
        { files: { '/a': 'a.txt' } },
        { files: { '/app/run': 'app/bin/run' }, metadata: { '/app/run': { mode: 755 } } },
      ],
    });
    const err = await buildFails(spec);
    expect(err).toMatch(SPEC_PATH);
    expect(err).toContain(
      'layers[1].metadata["/app/run"].mode: must be a string, not the number 755 (e.g. "0755")',
    );
  });

  it('reports a gzip compressionLevel of 15 as one line naming layers[0].compressionLevel', async () => {
    const spec = await specFile('level', {
      platform: 'linux/amd64',
      layers: [{ files: { '/a': 'a.txt' }, compressionLevel: 15 }],
    });
    expect(await buildFails(spec)).toMatch(
      /image\.json: layers\[0\]\.compressionLevel: must be <= 9, got 15 \(gzip levels are 0-9\)$/,
    );
    const zstd = await specFile('level-zstd', {
      platform: 'linux/amd64',
      layers: [{ files: { '/a': 'a.txt' }, compress: 'zstd', compressionLevel: 15 }],
    });
    await buildOk(zstd);
  });

  it('names the spec key path in errors raised later by the layer writer, base and config stages', async () => {
    const cases: Array<[spec: unknown, message: RegExp]> = [
      [
        { platform: 'linux/amd64', layers: [{}, { files: { '/x': 'nope.txt' } }] },
        /image\.json: layers\[1\]\.files\["\/x"\]: cannot read \S+nope\.txt \(ENOENT\)$/,
      ],
      [
        {
          platform: 'linux/amd64',
          layers: [{ directories: { '/srv': { source: 'app', excludes: ['*.log', ''] } } }],
        },
        /image\.json: layers\[0\]\.directories\["\/srv"\]\.excludes\[1\]: must not be empty$/,
      ],
      [
        { platform: 'linux/amd64', layers: [{ opaque: ['/var/../../x'] }] },
        /image\.json: layers\[0\]\.opaque\[0\]\.path: "\/var\/\.\.\/\.\.\/x" escapes the layer root$/,
      ],
      [
        {
          platform: 'linux/amd64',
          layers: [{ files: { '/a': 'a.txt' }, metadata: { '/b': { mode: '0644' } } }],
        },
        /image\.json: layers\[0\]\.metadata\["\/b"\]: no entry of the layer has the path "b"$/,
      ],
      [
        { platform: 'linux/amd64', layers: [{ files: { '/a': 'a.txt' }, directories: { '/a': 'app' } }] },
        /image\.json: layers\[0\]: "a" is written twice .* by files\["\/a"\] and by directories\["\/a"\]$/,
      ],
      [
        {
          layers: [{ files: { '/a': 'a.txt' } }],
          platforms: [
            { platform: 'linux/amd64' },
            { platform: 'linux/arm64', layers: [{ files: { '/b': 'b' } }] },
          ],
        },
        /image\.json: platforms\[1\]\.layers\[0\]\.files\["\/b"\]: cannot read/,
      ],
      [{ platform: 'linux/amd64', base: 'oci:nope' }, /image\.json: base: oci:\S+nope: /],
      [{ platform: 'linux/amd64', configFragment: 'nope.json' }, /image\.json: configFragment: /],
      [
        { platforms: [{ platform: 'linux/amd64' }, { platform: 'linux' }] },
        /image\.json: platforms\[1\]\.platform: invalid platform "linux"/,
      ],
      [
        { platform: 'linux/amd64', config: { healthcheck: { test: 'true', interval: '1m30' } } },
        /image\.json: config\.healthcheck\.interval: "1m30" is not valid \(e\.g\. "30s"\)$/,
      ],
      [
        { platform: 'linux/amd64', config: { healthcheck: { test: ['CMD-SHELL', 'a', 'b'] } } },
        /image\.json: config\.healthcheck\.test: \["CMD-SHELL", command\] takes one command string$/,
      ],
      [
        { platform: 'linux/amd64', layerz: [] },
        /image\.json: layerz: unknown key \(expected one of \$schema, /,
      ],
      [{ layers: [] }, /image\.json: platform: required \(e\.g\. "linux\/amd64"\)$/],
    ];
    for (const [i, [spec, message]] of cases.entries()) {
      const err = await buildFails(await specFile(`stage-${i}`, spec));
      expect(err, JSON.stringify(spec)).toMatch(message);
    }
  });

  it('merges a platform config over the top-level one (env and labels by name, arrays replaced)', async () => {
    const spec = await specFile('merge', {
      layers: [{ files: { '/a': 'a.txt' } }],
      config: {
        entrypoint: ['/app/run'],
        cmd: ['serve'],
        env: { A: '1', B: '2' },
        labels: { team: 'img' },
        exposedPorts: [80],
      },
      annotations: { 'org.example.a': '1' },
      platforms: [
        { platform: 'linux/amd64' },
        {
          platform: 'linux/arm64',
          config: { cmd: ['serve', '--arm'], env: { B: '3' }, labels: { arch: 'arm64' }, exposedPorts: [81] },
        },
      ],
    });
    const info = await inspect(await buildOk(spec));
    const [amd64, arm64] = info.images.map((i) => i.config.config);
    expect(amd64).toMatchObject({ Entrypoint: ['/app/run'], Cmd: ['serve'], Env: ['A=1', 'B=2'] });
    expect(arm64).toEqual({
      Entrypoint: ['/app/run'],
      Cmd: ['serve', '--arm'],
      Env: ['A=1', 'B=3'],
      Labels: { team: 'img', arch: 'arm64' },
      ExposedPorts: { '81/tcp': {} },
    });
  });

  it('leaves out excluded paths and owns a directory tree', async () => {
    const spec = await specFile('excludes', {
      platform: 'linux/amd64',
      layers: [
        {
          directories: {
            '/srv': {
              source: 'app',
              excludes: ['node_modules/', '*.log', '!keep.log'],
              uid: 1000,
              gid: 1001,
              uname: 'app',
            },
          },
          metadata: { '/srv/bin/run': { uid: 0, gid: 0 } },
        },
      ],
    });
    expect(await layerListing(await buildOk(spec))).toEqual([
      'drwxr-xr-x 1000/1001 srv/',
      'drwxr-xr-x 1000/1001 srv/bin/',
      '-rwxr-xr-x 0/0 srv/bin/run',
      '-rw-r--r-- 1000/1001 srv/index.js',
      '-rw-r--r-- 1000/1001 srv/keep.log',
      'drwxr-xr-x 1000/1001 srv/logs/',
    ]);
  });

  it('writes a healthcheck into the config with durations in nanoseconds', async () => {
    const spec = await specFile('healthcheck', {
      platform: 'linux/amd64',
      config: {
        healthcheck: {
          test: 'curl -f http://localhost/ || exit 1',
          interval: '1m30s',
          timeout: '500ms',
          startPeriod: '0',
          startInterval: '1.5s',
          retries: 3,
        },
      },
    });
    const info = await inspect(await buildOk(spec));
    expect(info.images[0]!.config.config.Healthcheck).toEqual({
      Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'],
      Interval: 90_000_000_000,
      Timeout: 500_000_000,
      StartInterval: 1_500_000_000,
      Retries: 3,
    });
  });
});
