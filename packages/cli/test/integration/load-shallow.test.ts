import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ciRequires,
  startContainerd,
  startRegistry,
  type TestContainerd,
  type TestRegistry,
  useTempDir,
} from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imgOk } from '../helpers.js';

const needs = ciRequires('containerd', 'ctr', 'runc', 'busybox', 'docker-registry', { root: true });
const tmp = useTempDir('img-cli-load-shallow-');

describe.skipIf(needs.skip)('img load of an image on a shallow-pulled base', () => {
  let ctrd: TestContainerd;
  let registry: TestRegistry;
  beforeAll(async () => {
    [ctrd, registry] = await Promise.all([startContainerd(), startRegistry({ auth: 'none' })]);
  });
  afterAll(async () => {
    await Promise.all([ctrd?.stop(), registry?.stop()]);
  });

  it('streams base layers from the registry only when containerd lacks them, and the image runs', async () => {
    // A busybox base pushed to the registry, then pulled shallow (no layer bytes).
    const baseSpec = join(tmp.path, 'base.json');
    await writeFile(
      baseSpec,
      JSON.stringify({
        platform: 'linux/amd64',
        layers: [
          {
            files: { '/bin/busybox': '/bin/busybox' },
            symlinks: { '/bin/sh': 'busybox', '/bin/cat': 'busybox' },
            metadata: { '/bin/busybox': { mode: '0755' } },
          },
        ],
      }),
    );
    await imgOk('build', baseSpec, '--push', `${registry.url}/base/busybox:1`);
    const baseDir = join(tmp.path, 'base');
    await imgOk('pull', `${registry.url}/base/busybox:1`, '--output', baseDir);

    const app = join(tmp.path, 'app');
    await mkdir(app, { recursive: true });
    await writeFile(join(app, 'msg'), 'shallow-ok\n');
    const spec = join(app, 'image.json');
    const writeSpec = (msg: string) =>
      writeFile(join(app, 'msg'), msg).then(() =>
        writeFile(
          spec,
          JSON.stringify({
            platform: 'linux/amd64',
            base: baseDir,
            layers: [{ files: { '/etc/msg': 'msg' } }],
            config: { cmd: ['/bin/cat', '/etc/msg'] },
          }),
        ),
      );
    await writeSpec('shallow-ok\n');
    const ns = ctrd.newNamespace('shallow');
    const flags = ['--daemon', 'containerd', '--address', ctrd.address, '--namespace', ns, '--tag', 'app:1'];
    const layerGets = async () =>
      (await registry.requests()).filter((r) => r.method === 'GET' && r.path.includes('/blobs/')).length;

    const before = await layerGets();
    const first = await imgOk('load', spec, ...flags);
    expect(first.stdout).toMatch(/0 blobs present, 4 written/);
    expect((await layerGets()) - before).toBe(1); // the busybox layer, streamed from the registry
    const run = await ctrd.ctr(['run', '--rm', 'docker.io/library/app:1', `s1-${ns}`], { namespace: ns });
    expect(run.stdout.trim()).toBe('shallow-ok');

    await writeSpec('changed\n');
    const mid = await layerGets();
    const second = await imgOk('load', spec, ...flags);
    expect(second.stdout).toMatch(/1 blobs present, 3 written/);
    expect(await layerGets()).toBe(mid); // containerd has the base layer: nothing fetched
  });
});
