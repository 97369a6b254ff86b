import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ciRequires, useTempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// dockerd launcher of containerd-loader's tests (not yet in @img/test-utils)
import { startDockerd, type TestDockerd } from '../../../containerd-loader/test/dockerd.js';
import { imgBin } from '../helpers.js';

const needs = ciRequires('dockerd', 'docker', 'containerd', 'runc', { root: true });
const tmp = useTempDir('img-cli-healthcheck-');

describe.skipIf(needs.skip)('a spec healthcheck, read by Docker', () => {
  let dockerd: TestDockerd | undefined;
  beforeAll(async () => {
    dockerd = await startDockerd();
  });
  afterAll(() => dockerd?.stop(), 60_000);

  it('docker load and docker image inspect show it with Docker duration values', async () => {
    const spec = join(tmp.path, 'image.json');
    await writeFile(join(tmp.path, 'a.txt'), 'a');
    await writeFile(
      spec,
      JSON.stringify({
        platform: 'linux/amd64',
        layers: [{ files: { '/a': 'a.txt' } }],
        config: {
          healthcheck: { test: ['CMD', '/a', '--check'], interval: '1m30s', timeout: '5s', retries: 2 },
        },
      }),
    );
    const archive = join(tmp.path, 'hc.tar');
    const built = await imgBin(['build', spec, '--output', `docker-archive:${archive}:img-test/hc:1`]);
    expect(built.code, built.stderr).toBe(0);
    await dockerd!.docker(['load', '-i', archive]);
    const inspect = await dockerd!.docker([
      'image',
      'inspect',
      '--format',
      '{{json .Config.Healthcheck}}',
      'img-test/hc:1',
    ]);
    expect(JSON.parse(inspect.stdout)).toEqual({
      Test: ['CMD', '/a', '--check'],
      Interval: 90_000_000_000,
      Timeout: 5_000_000_000,
      Retries: 2,
    });
    // and as Docker prints durations: the values are Go time.Durations
    const interval = await dockerd!.docker([
      'image',
      'inspect',
      '--format',
      '{{.Config.Healthcheck.Interval}}',
      'img-test/hc:1',
    ]);
    expect(interval.stdout.trim()).toBe('1m30s');
  });
});
