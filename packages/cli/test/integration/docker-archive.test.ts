import { join } from 'node:path';
import { ciRequires, run, useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_DIR, imgOk } from '../helpers.js';

const podman = ciRequires('podman', { root: true });
const tmp = useTempDir('img-cli-docker-archive-');

describe.skipIf(podman.skip)('docker-archive output', () => {
  it('is loaded by podman load with its tag, and the config survives', async () => {
    const archive = join(tmp.path, 'hello.tar');
    const built = await imgOk(
      'build',
      join(EXAMPLE_DIR, 'image-multi.json'),
      '--output',
      `docker-archive:${archive}:localhost/hello:1.0`,
    );
    expect(built.stdout).toMatch(/@sha256:/);
    const store = [
      '--root',
      join(tmp.path, 'root'),
      '--runroot',
      join(tmp.path, 'run'),
      '--storage-driver',
      'vfs',
    ];
    const load = await run('podman', [...store, 'load', '-i', archive]);
    expect(load.stdout + load.stderr).toMatch(/localhost\/hello:1\.0/);
    const inspect = JSON.parse(
      (await run('podman', [...store, 'image', 'inspect', 'localhost/hello:1.0'])).stdout,
    );
    expect(inspect[0].Config.Entrypoint).toEqual(['/app/hello.sh']);
    expect(inspect[0].Architecture).toBe('amd64');
    await run('podman', [...store, 'rmi', '-a', '-f'], { allowFailure: true });
  });
});
