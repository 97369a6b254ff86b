import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTempDir } from '@img/test-utils';
import { describe, expect, it } from 'vitest';
import { writeBazelHelper, writeDockerHelper } from '../../test/helpers/credential-helpers.js';
import { DockerKeychain } from './keychain.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('DockerKeychain', () => {
  const dir = useTempDir('keychain-');
  let n = 0;
  const home = async (config?: object) => {
    const h = dir.join(`home${n++}`);
    await mkdir(join(h, '.docker'), { recursive: true });
    if (config) await writeFile(join(h, '.docker', 'config.json'), JSON.stringify(config));
    return h;
  };
  const env = (h: string, extra: NodeJS.ProcessEnv = {}) => ({
    HOME: h,
    PATH: `${h}:${process.env.PATH}`,
    ...extra,
  });

  it('finds Docker Hub credentials under https://index.docker.io/v1/', async () => {
    const h = await home({ auths: { 'https://index.docker.io/v1/': { auth: b64('hubuser:hubpass') } } });
    const k = new DockerKeychain({ env: env(h) });
    expect(await k.resolve('docker.io', 'library/ubuntu')).toEqual({
      credential: { kind: 'basic', username: 'hubuser', password: 'hubpass' },
      origin: `auths in ${join(h, '.docker', 'config.json')}`,
    });
    expect(await k.resolve('ghcr.io', 'x/y')).toBeUndefined();
  });

  it('prefers credHelpers, then credsStore, then auths', async () => {
    const h = await home({
      credHelpers: { 'a.io': 'ha' },
      credsStore: 'store',
      auths: {
        'a.io': { auth: b64('file:a') },
        'b.io': { auth: b64('file:b') },
        'c.io': { auth: b64('file:c') },
      },
    });
    const ha = await writeDockerHelper(h, 'ha', { 'a.io': { username: 'helper', secret: 'ha-secret' } });
    const store = await writeDockerHelper(h, 'store', {
      'b.io': { username: '<token>', secret: 'identity' },
      'https://index.docker.io/v1/': { username: 'hub', secret: 'h' },
    });
    const k = new DockerKeychain({ env: env(h) });
    expect((await k.resolve('a.io', 'r'))?.credential).toEqual({
      kind: 'basic',
      username: 'helper',
      password: 'ha-secret',
    });
    expect((await k.resolve('b.io', 'r'))?.credential).toEqual({ kind: 'identityToken', token: 'identity' });
    // The store has nothing for c.io: the auths entry is used.
    expect((await k.resolve('c.io', 'r'))?.credential).toEqual({
      kind: 'basic',
      username: 'file',
      password: 'c',
    });
    expect((await k.resolve('index.docker.io', 'library/x'))?.origin).toContain('credsStore "store"');
    expect(await ha.calls()).toEqual(['get a.io']);
    expect(await store.calls()).toEqual(['get b.io', 'get c.io', 'get https://index.docker.io/v1/']);
    // Cached: asking again runs no helper.
    await k.resolve('a.io', 'r');
    expect(await ha.calls()).toHaveLength(1);
  });

  it('fails with IMG_REGISTRY_CREDENTIAL_HELPER when a helper is broken or missing', async () => {
    const h = await home({ credHelpers: { 'x.io': 'broken', 'y.io': 'missing' } });
    await writeDockerHelper(
      h,
      'broken',
      {},
      { fail: 'error getting credentials - err: exit status 1, out: `locked`' },
    );
    const k = new DockerKeychain({ env: env(h) });
    await expect(k.resolve('x.io', 'r')).rejects.toMatchObject({
      code: 'IMG_REGISTRY_CREDENTIAL_HELPER',
      message: expect.stringContaining('locked'),
    });
    await expect(k.resolve('y.io', 'r')).rejects.toMatchObject({
      message: expect.stringContaining('docker-credential-missing: not found'),
    });
  });

  it('reads podman auth files after the docker config, with host/namespace keys', async () => {
    const h = await home({ auths: { 'other.io': { auth: b64('d:d') } } });
    const runtime = join(h, 'run');
    await mkdir(join(runtime, 'containers'), { recursive: true });
    await writeFile(
      join(runtime, 'containers', 'auth.json'),
      JSON.stringify({ auths: { 'q.io/team': { auth: b64('team:t') }, 'q.io': { auth: b64('all:a') } } }),
    );
    const k = new DockerKeychain({ env: env(h, { XDG_RUNTIME_DIR: runtime }) });
    expect((await k.resolve('q.io', 'team/app'))?.credential).toMatchObject({ username: 'team' });
    expect((await k.resolve('q.io', 'other/app'))?.credential).toMatchObject({ username: 'all' });
  });

  it('honours DOCKER_CONFIG and REGISTRY_AUTH_FILE', async () => {
    const h = await home();
    const dc = join(h, 'dc');
    await mkdir(dc);
    await writeFile(join(dc, 'config.json'), JSON.stringify({ auths: { 'a.io': { auth: b64('dc:1') } } }));
    const raf = join(h, 'raf.json');
    await writeFile(raf, JSON.stringify({ auths: { 'b.io': { auth: b64('raf:2') } } }));
    const k = new DockerKeychain({ env: env(h, { DOCKER_CONFIG: dc, REGISTRY_AUTH_FILE: raf }) });
    expect((await k.resolve('a.io', 'r'))?.credential).toMatchObject({ username: 'dc' });
    expect((await k.resolve('b.io', 'r'))?.credential).toMatchObject({ username: 'raf' });
  });

  it('asks a Bazel credential helper first, and explicit credentials win over everything', async () => {
    const h = await home({ auths: { 'a.io': { auth: b64('file:a') } } });
    const bazel = await writeBazelHelper(h, { Authorization: ['Bearer access-token'] });
    const k = new DockerKeychain({
      env: env(h),
      bazelCredentialHelper: bazel.path,
      credentials: { 'z.io': { kind: 'basic', username: 'fixed', password: 'p' } },
    });
    expect((await k.resolve('a.io', 'team/app'))?.credential).toMatchObject({
      kind: 'headers',
      headers: { authorization: 'Bearer access-token' },
    });
    expect(await bazel.uris()).toEqual(['https://a.io/v2/team/app/']);
    expect((await k.resolve('z.io', 'x'))?.credential).toMatchObject({ username: 'fixed' });
  });

  it('joins the values of a Bazel helper header, and falls back when it has no headers', async () => {
    const h = await home({ auths: { 'a.io': { auth: b64('file:a') } } });
    const multi = await writeBazelHelper(h, { 'X-Token': ['one', 'two'] });
    const k = new DockerKeychain({ env: env(h), bazelCredentialHelper: multi.path });
    expect((await k.resolve('a.io', 'r'))?.credential).toMatchObject({
      kind: 'headers',
      headers: { 'x-token': 'one, two' },
    });
    const none = await writeBazelHelper(await home(), {});
    const fallback = new DockerKeychain({ env: env(h), bazelCredentialHelper: none.path });
    expect((await fallback.resolve('a.io', 'r'))?.credential).toMatchObject({ username: 'file' });
  });

  it('fails with IMG_REGISTRY_CREDENTIAL_HELPER naming a missing Bazel helper', async () => {
    const h = await home();
    const k = new DockerKeychain({ env: env(h), bazelCredentialHelper: join(h, 'no-such-helper') });
    await expect(k.resolve('a.io', 'r')).rejects.toMatchObject({
      code: 'IMG_REGISTRY_CREDENTIAL_HELPER',
      message: `credential helper ${join(h, 'no-such-helper')} for https://a.io/v2/r/: not found`,
    });
  });
});
