import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
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
import { gzipExampleSpec, img, imgOk } from '../helpers.js';

// `img deploy REQUEST.json` as `bazel run` of image_push / image_load runs it: relative paths below
// $RUNFILES_DIR, tag_file read at deploy time, per-blob sources for blobs the layout lacks, a real
// registry and a real containerd.
const registryTools = ciRequires('docker-registry', 'crane');
const containerdTools = ciRequires('containerd', 'ctr', { root: true });
const tmp = useTempDir('img-cli-deploy-');

/** Run `fn` with these environment variables set (and restored after). */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** A runfiles tree holding the example image's layout at ws/image_layout; returns the runfiles dir. */
async function runfilesWithLayout(name: string): Promise<string> {
  const runfiles = tmp.join(name);
  await mkdir(join(runfiles, 'ws'), { recursive: true });
  await imgOk('build', await gzipExampleSpec(tmp.path), '-o', `oci:${join(runfiles, 'ws/image_layout')}`);
  return runfiles;
}

async function writeRequest(runfiles: string, request: Record<string, unknown>): Promise<string> {
  const path = join(runfiles, 'ws', `${request.target}_request.json`.replace(/[/:]/g, '_'));
  await writeFile(path, JSON.stringify({ version: 1, layout: 'ws/image_layout', ...request }));
  return path;
}

describe.skipIf(registryTools.skip)('img deploy: push requests against a real registry', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'none' });
    process.env.IMG_CACHE_DIR = tmp.join('cache');
  });
  afterAll(() => registry?.stop());

  it('pushes the layout with the tags and those of tag_file, paths below $RUNFILES_DIR', async () => {
    const runfiles = await runfilesWithLayout('push');
    await writeFile(join(runfiles, 'ws/tags.txt'), '# computed\nfrom-file\n');
    const request = await writeRequest(runfiles, {
      command: 'push',
      target: '//:push',
      registry: registry.url,
      repository: 'deploy/app',
      tags: ['v1'],
      tag_file: 'ws/tags.txt',
      strategy: 'eager',
    });
    const r = await withEnv({ RUNFILES_DIR: runfiles }, () => imgOk('deploy', request, '--json'));
    const summary = JSON.parse(r.stdout);
    expect(summary.references).toHaveLength(2);
    const tags = (await run('crane', ['ls', '--insecure', `${registry.url}/deploy/app`])).stdout;
    expect(tags.trim().split('\n').sort()).toEqual(['from-file', 'v1']);
    const v = await run('crane', ['validate', '--insecure', '--remote', `${registry.url}/deploy/app:v1`]);
    expect(v.stdout + v.stderr).toMatch(/PASS/);
  });

  it('reads a blob the layout lacks from its per-blob file source, and fails naming it without one', async () => {
    const runfiles = await runfilesWithLayout('blobs');
    const layout = join(runfiles, 'ws/image_layout');
    const info = JSON.parse((await imgOk('inspect', `oci:${layout}`, '--json')).stdout);
    const layer: string = info.images[0].layers[0].digest;
    const blobFile = join(layout, 'blobs/sha256', layer.slice(7));
    await cp(blobFile, join(runfiles, 'ws/layer.blob'));
    await rm(blobFile);
    const target = { command: 'push', registry: registry.url, repository: 'deploy/blobs', tags: ['v1'] };
    const without = await writeRequest(runfiles, { ...target, target: '//:without' });
    const failed = await withEnv({ RUNFILES_DIR: runfiles }, () => img('deploy', without, '--no-blob-cache'));
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(layer);
    const withSource = await writeRequest(runfiles, {
      ...target,
      target: '//:with',
      blobs: { [layer]: [{ file: 'ws/layer.blob' }] },
    });
    await withEnv({ RUNFILES_DIR: runfiles }, () => imgOk('deploy', withSource, '--no-blob-cache'));
    const v = await run('crane', ['validate', '--insecure', '--remote', `${registry.url}/deploy/blobs:v1`]);
    expect(v.stdout + v.stderr).toMatch(/PASS/);
  });
});

describe.skipIf(containerdTools.skip)('img deploy: load requests into a real containerd', () => {
  let ctrd: TestContainerd;
  beforeAll(async () => {
    ctrd = await startContainerd();
  });
  afterAll(() => ctrd?.stop());

  it("loads with every name, the socket and namespace from ctr's variables", async () => {
    const runfiles = await runfilesWithLayout('load');
    const ns = ctrd.newNamespace('deploy');
    const request = await writeRequest(runfiles, {
      command: 'load',
      target: '//:load',
      daemon: 'containerd',
      tags: ['deploy/app:dev', 'deploy/app:latest'],
    });
    const r = await withEnv(
      { RUNFILES_DIR: runfiles, CONTAINERD_ADDRESS: ctrd.address, CONTAINERD_NAMESPACE: ns },
      () => imgOk('deploy', request),
    );
    expect(r.stdout).toMatch(/^loaded docker\.io\/deploy\/app:dev, docker\.io\/deploy\/app:latest \(sha256:/);
    const ls = await ctrd.ctr(['images', 'ls', '-q'], { namespace: ns });
    expect(ls.stdout.trim().split('\n').sort()).toEqual([
      'docker.io/deploy/app:dev',
      'docker.io/deploy/app:latest',
    ]);
  });
});
