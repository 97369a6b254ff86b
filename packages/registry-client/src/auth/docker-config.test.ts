import { writeFile } from 'node:fs/promises';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import {
  authFilePaths,
  entryCredential,
  helperServerUrl,
  lookupKeys,
  normalizeAuthKey,
  readAuthFile,
} from './docker-config.js';

describe('docker config files', () => {
  const dir = useTempDir('docker-config-');

  it('normalises the key spellings Docker and Podman write', () => {
    expect(normalizeAuthKey('https://index.docker.io/v1/')).toBe('index.docker.io');
    expect(normalizeAuthKey('docker.io')).toBe('index.docker.io');
    expect(normalizeAuthKey('http://127.0.0.1:5000/v2/')).toBe('127.0.0.1:5000');
    expect(normalizeAuthKey('GHCR.io')).toBe('ghcr.io');
    expect(normalizeAuthKey('quay.io/team/app')).toBe('quay.io/team/app');
  });

  it('looks keys up most specific first', () => {
    expect(lookupKeys('quay.io', 'team/sub/app')).toEqual([
      'quay.io/team/sub/app',
      'quay.io/team/sub',
      'quay.io/team',
      'quay.io',
    ]);
    expect(lookupKeys('docker.io', undefined)).toEqual(['index.docker.io']);
    expect(helperServerUrl('index.docker.io')).toBe('https://index.docker.io/v1/');
    expect(helperServerUrl('ghcr.io')).toBe('ghcr.io');
  });

  it('searches DOCKER_CONFIG (else ~/.docker), REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, ~/.config/containers', () => {
    expect(
      authFilePaths(
        { DOCKER_CONFIG: '/dc', REGISTRY_AUTH_FILE: '/raf.json', XDG_RUNTIME_DIR: '/run/u' },
        '/h',
      ),
    ).toEqual([
      '/dc/config.json',
      '/raf.json',
      '/run/u/containers/auth.json',
      '/h/.config/containers/auth.json',
    ]);
    expect(authFilePaths({}, '/h')).toEqual(['/h/.docker/config.json', '/h/.config/containers/auth.json']);
  });

  it('decodes each auths entry form', () => {
    const b = Buffer.from('user:pa:ss').toString('base64');
    expect(entryCredential({ auth: b }, 'x')).toEqual({ kind: 'basic', username: 'user', password: 'pa:ss' });
    expect(entryCredential({ username: 'u', password: 'p' }, 'x')).toEqual({
      kind: 'basic',
      username: 'u',
      password: 'p',
    });
    expect(entryCredential({ identitytoken: 'rt' }, 'x')).toEqual({ kind: 'identityToken', token: 'rt' });
    expect(entryCredential({ registrytoken: 'bt' }, 'x')).toEqual({ kind: 'registryToken', token: 'bt' });
    expect(entryCredential({}, 'x')).toBeUndefined();
    expect(() =>
      entryCredential({ auth: Buffer.from('nocolon').toString('base64') }, 'cfg: auths["r"]'),
    ).toThrow(
      expect.objectContaining({
        code: 'IMG_REGISTRY_AUTH_CONFIG',
        message: expect.stringContaining('cfg: auths["r"]'),
      }),
    );
  });

  it('reads a file, or nothing when absent, and names the file when it is broken', async () => {
    expect(await readAuthFile(dir.join('absent.json'))).toBeUndefined();
    const good = dir.join('good.json');
    await writeFile(
      good,
      JSON.stringify({
        auths: { 'https://index.docker.io/v1/': { auth: 'eDp5' } },
        credHelpers: { 'gcr.io': 'gcloud' },
        credsStore: 'desktop',
      }),
    );
    const file = (await readAuthFile(good))!;
    expect([...file.auths.keys()]).toEqual(['index.docker.io']);
    expect(file.credHelpers.get('gcr.io')).toBe('gcloud');
    expect(file.credsStore).toBe('desktop');
    const bad = dir.join('bad.json');
    await writeFile(bad, '{"auths": ');
    await expect(readAuthFile(bad)).rejects.toMatchObject({
      code: 'IMG_REGISTRY_AUTH_CONFIG',
      message: expect.stringContaining(bad),
    });
    await writeFile(bad, '{"credHelpers": {"x": 1}}');
    await expect(readAuthFile(bad)).rejects.toThrow(/credHelpers\["x"\]/);
  });
});
