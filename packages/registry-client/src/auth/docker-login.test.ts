import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eraseDockerLogin, storeDockerLogin } from './docker-login.js';
import { DockerKeychain } from './keychain.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'img-docker-login-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('storeDockerLogin / eraseDockerLogin', () => {
  it('writes auths as docker login does, keeps other keys, and the keychain reads it back', async () => {
    const env = { DOCKER_CONFIG: dir, HOME: dir };
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ auths: { 'https://r.example/v1/': { auth: 'eDp5' } }, detachKeys: 'ctrl-x' }),
    );
    const saved = await storeDockerLogin('r.example', 'me', 'pa:ss', { env });
    expect(saved).toMatchObject({ store: 'file', key: 'r.example' });
    const doc = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(doc.detachKeys).toBe('ctrl-x');
    expect(Object.keys(doc.auths)).toEqual(['r.example']); // the old spelling replaced
    expect((await stat(join(dir, 'config.json'))).mode & 0o777).toBe(0o600);
    const found = await new DockerKeychain({ env }).resolve('r.example', 'app');
    expect(found?.credential).toEqual({ kind: 'basic', username: 'me', password: 'pa:ss' });

    await storeDockerLogin('docker.io', 'hub', 'x', { env });
    expect(Object.keys(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')).auths)).toContain(
      'https://index.docker.io/v1/',
    );
    expect((await eraseDockerLogin('r.example', { env })).changed).toBe(true);
    expect((await eraseDockerLogin('r.example', { env })).changed).toBe(false);
    expect(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')).auths).not.toHaveProperty(
      'r.example',
    );
  });

  it('stores into the credential helper config.json names, leaving an empty auths entry', async () => {
    const bin = join(dir, 'bin');
    const { mkdir, chmod } = await import('node:fs/promises');
    await mkdir(bin);
    const log = join(dir, 'helper.log');
    await writeFile(join(bin, 'docker-credential-test'), `#!/bin/sh\necho "$1 $(cat)" >> ${log}\n`);
    await chmod(join(bin, 'docker-credential-test'), 0o755);
    const env = { DOCKER_CONFIG: dir, HOME: dir, PATH: `${bin}:${process.env.PATH}` };
    await writeFile(join(dir, 'config.json'), JSON.stringify({ credsStore: 'test' }));
    const saved = await storeDockerLogin('r.example:5000', 'me', 'secret', { env });
    expect(saved.store).toBe('docker-credential-test');
    expect(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')).auths).toEqual({
      'r.example:5000': {},
    });
    expect(await readFile(log, 'utf8')).toBe(
      'store {"ServerURL":"r.example:5000","Username":"me","Secret":"secret"}\n',
    );
    await eraseDockerLogin('r.example:5000', { env });
    expect((await readFile(log, 'utf8')).split('\n')[1]).toBe('erase r.example:5000');
  });
});
