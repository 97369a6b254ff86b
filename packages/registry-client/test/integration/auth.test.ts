import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ciRequires, run, startRegistry, type TempDir, type TestRegistry, tempDir } from '@img/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USER_AGENT } from '../../src/index.js';
import { TestClient as RegistryClient } from '../helpers/client.js';
import { writeBazelHelper, writeDockerHelper } from '../helpers/credential-helpers.js';
import { deriveImage } from '../helpers/derive.js';
import { buildImage, randomLayer } from '../helpers/images.js';

const needs = ciRequires('docker-registry', 'htpasswd', 'crane', 'skopeo');
const fast = { minDelayMs: 5, maxDelayMs: 50 };
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A client whose environment sees only `dir` (config.json there, helpers on PATH there). */
function clientWithConfig(dir: string): RegistryClient {
  const env = { HOME: dir, DOCKER_CONFIG: dir, PATH: `${dir}:${process.env.PATH}` };
  return new RegistryClient({ retry: fast, auth: { env } });
}

async function writeConfig(dir: string, config: object): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
}

/** Everything an error exposes, for checking that no secret leaks. */
function exposed(err: unknown): string {
  const e = err as Record<string, unknown>;
  return [String(err), JSON.stringify(e), String((e?.cause as Error | undefined)?.message ?? '')].join('\n');
}

describe.skipIf(needs.skip)('htpasswd registry (Basic)', () => {
  let registry: TestRegistry;
  let dir: TempDir;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'htpasswd' });
    dir = await tempDir('auth-basic-');
  });
  afterAll(async () => {
    await registry?.stop();
    await dir?.remove();
  });

  const pushAndPull = async (client: RegistryClient, repo: string) => {
    const image = buildImage([randomLayer(20_000)]);
    try {
      const ref = `${registry.url}/${repo}:v1`;
      await client.pushImage(ref, image.input);
      const pulled = await client.pullImage(ref);
      expect(pulled.root.descriptor.digest).toBe(image.input.root.descriptor.digest);
    } finally {
      await client.close();
    }
  };

  it('uses auths with a base64 "auth" entry, and skopeo agrees on the result', async () => {
    const home = dir.join('auth-b64');
    await writeConfig(home, { auths: { [registry.url]: { auth: b64(registry.auth.creds) } } });
    await pushAndPull(clientWithConfig(home), 'basic/b64');
    await run(
      'skopeo',
      [
        'inspect',
        '--tls-verify=false',
        '--creds',
        registry.auth.creds,
        `docker://${registry.url}/basic/b64:v1`,
      ],
      {
        redact: [registry.auth.password],
      },
    );
  });

  it('uses auths with username/password and an http:// key', async () => {
    const home = dir.join('auth-userpass');
    await writeConfig(home, {
      auths: {
        [`http://${registry.url}/v2/`]: {
          username: registry.auth.username,
          password: registry.auth.password,
        },
      },
    });
    await pushAndPull(clientWithConfig(home), 'basic/userpass');
  });

  it('asks the credHelpers helper for this registry (Docker protocol) with the host as server URL', async () => {
    const home = dir.join('auth-credhelpers');
    await writeConfig(home, { credHelpers: { [registry.url]: 'imgtest' }, auths: { [registry.url]: {} } });
    const helper = await writeDockerHelper(home, 'imgtest', {
      [registry.url]: { username: registry.auth.username, secret: registry.auth.password },
    });
    await pushAndPull(clientWithConfig(home), 'basic/credhelpers');
    expect(await helper.calls()).toEqual([`get ${registry.url}`]);
  });

  it('asks the credsStore helper, and falls back to anonymous when it has no entry', async () => {
    const home = dir.join('auth-credsstore');
    await writeConfig(home, { credsStore: 'store' });
    const helper = await writeDockerHelper(home, 'store', {
      [registry.url]: { username: registry.auth.username, secret: registry.auth.password },
    });
    await pushAndPull(clientWithConfig(home), 'basic/credsstore');
    expect(await helper.calls()).toEqual([`get ${registry.url}`]);

    const empty = dir.join('auth-credsstore-empty');
    await writeConfig(empty, { credsStore: 'store' });
    await writeDockerHelper(empty, 'store', {});
    const client = clientWithConfig(empty);
    const err = await client.pullImage(`${registry.url}/basic/credsstore:v1`).catch((e: unknown) => e);
    await client.close();
    expect(err).toMatchObject({ code: 'IMG_REGISTRY_UNAUTHORIZED', status: 401 });
    expect((err as Error).message).toContain('no credentials found');
  });

  it('continues anonymously when a helper fails, and says so', async () => {
    const home = dir.join('auth-helper-fails');
    await writeConfig(home, { credsStore: 'broken' });
    await writeDockerHelper(home, 'broken', {}, { fail: 'keychain is locked' });
    const client = clientWithConfig(home);
    const err = await client.pullImage(`${registry.url}/basic/credsstore:v1`).catch((e: unknown) => e);
    await client.close();
    expect(err).toMatchObject({ code: 'IMG_REGISTRY_UNAUTHORIZED' });
    expect((err as Error).message).toContain('keychain is locked');
  });

  it('uses a podman auth.json from REGISTRY_AUTH_FILE with a host/namespace key', async () => {
    const home = dir.join('auth-podman');
    await mkdir(home, { recursive: true });
    const authFile = join(home, 'auth.json');
    await writeFile(
      authFile,
      JSON.stringify({ auths: { [`${registry.url}/basic`]: { auth: b64(registry.auth.creds) } } }),
    );
    const client = new RegistryClient({
      retry: fast,
      auth: { env: { HOME: home, REGISTRY_AUTH_FILE: authFile } },
    });
    await pushAndPull(client, 'basic/podman');
  });

  it('uses headers from a Bazel credential helper', async () => {
    const home = dir.join('auth-bazel');
    await mkdir(home, { recursive: true });
    const helper = await writeBazelHelper(home, { Authorization: [`Basic ${b64(registry.auth.creds)}`] });
    const client = new RegistryClient({
      retry: fast,
      auth: { env: { HOME: home }, bazelCredentialHelper: helper.path },
    });
    await pushAndPull(client, 'basic/bazel');
    expect(await helper.uris()).toEqual([`https://${registry.url}/v2/basic/bazel/`]);
  });

  it('reports rejected credentials without ever showing them', async () => {
    const home = dir.join('auth-wrong');
    const wrong = 'Sup3r-Secret-Passw0rd';
    await writeConfig(home, {
      auths: { [registry.url]: { auth: b64(`${registry.auth.username}:${wrong}`) } },
    });
    const client = clientWithConfig(home);
    const err = await client
      .pushImage(`${registry.url}/basic/wrong:v1`, buildImage([randomLayer(100)]).input)
      .catch((e: unknown) => e);
    await client.close();
    expect(err).toMatchObject({
      name: 'RegistryError',
      code: 'IMG_REGISTRY_UNAUTHORIZED',
      status: 401,
      registry: registry.url,
    });
    expect((err as Error).message).toContain(`auths in ${join(home, 'config.json')}`);
    const text = exposed(err);
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(b64(`${registry.auth.username}:${wrong}`));
  });
});

describe.skipIf(needs.skip)('token registry (Bearer)', () => {
  let registry: TestRegistry;
  let dir: TempDir;
  let home: string;
  beforeAll(async () => {
    registry = await startRegistry({
      auth: 'token',
      anonymousPull: true,
      tokenTtlSeconds: 2,
      users: [
        { username: 'admin', password: 'admin-pw-1234' },
        { username: 'teamb', password: 'teamb-pw-1234', repositoryPrefix: 'team-b/' },
      ],
    });
    dir = await tempDir('auth-token-');
    home = dir.join('home');
    await writeConfig(home, { auths: { [registry.url]: { auth: b64(registry.auth.creds) } } });
  });
  afterAll(async () => {
    await registry?.stop();
    await dir?.remove();
  });

  it('pushes with a push+pull token, mounts with a pull scope on the source, and caches tokens', async () => {
    const client = clientWithConfig(home);
    try {
      const base = buildImage([randomLayer(50_000), randomLayer(30_000)]);
      await client.pushImage(`${registry.url}/tok/base:1`, base.input);
      const first = registry.auth.tokenRequests();
      expect(first[0]).toMatchObject({
        status: 200,
        username: registry.auth.username,
        scopes: ['repository:tok/base:pull,push'],
      });

      const pulled = await client.pullImage(`${registry.url}/tok/base:1`);
      const derived = deriveImage(pulled, pulled.images[0]!, randomLayer(5000));
      const before = registry.auth.tokenRequests().length;
      const logBefore = (await registry.requests()).length;
      const result = await client.pushImage(`${registry.url}/tok/app:1`, derived);
      expect(result.summary).toMatchObject({ blobsMounted: 2, blobsUploaded: 2 });
      const pushTokens = registry.auth.tokenRequests().slice(before);
      // One token for the whole push: push scope first, then pull on the mount source.
      expect(pushTokens).toHaveLength(1);
      expect(pushTokens[0]!.scopes).toEqual(['repository:tok/app:pull,push', 'repository:tok/base:pull']);
      expect(pushTokens[0]!.granted).toEqual([
        { type: 'repository', name: 'tok/app', actions: ['pull', 'push'] },
        { type: 'repository', name: 'tok/base', actions: ['pull'] },
      ]);
      const log = (await registry.requests())
        .slice(logBefore)
        .filter((r) => r.userAgent === DEFAULT_USER_AGENT);
      expect(log.filter((r) => r.uri.includes('mount=')).map((r) => r.status)).toEqual([201, 201]);
      expect(log.filter((r) => r.status === 401)).toEqual([]);
      await run('crane', ['validate', '--insecure', '--remote', `${registry.url}/tok/app:1`], {
        env: { ...process.env, DOCKER_CONFIG: home },
      });

      // Tokens live 2 s here: after that a new one is fetched up front (no 401 round trip).
      await new Promise((r) => setTimeout(r, 2100));
      const logAfter = (await registry.requests()).length;
      const tokensAfter = registry.auth.tokenRequests().length;
      const again = await client.pushImage(`${registry.url}/tok/app:1`, derived);
      expect(again.summary).toMatchObject({ blobsUploaded: 0, blobsSkipped: 4 });
      const renewed = registry.auth.tokenRequests().slice(tokensAfter);
      expect(renewed.map((r) => r.scopes)).toEqual([
        ['repository:tok/app:pull,push', 'repository:tok/base:pull'],
      ]);
      expect((await registry.requests()).slice(logAfter).filter((r) => r.status === 401)).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('pulls anonymously with an anonymous token, and refuses an anonymous push clearly', async () => {
    const empty = dir.join('empty');
    await writeConfig(empty, {});
    const client = clientWithConfig(empty);
    try {
      const image = buildImage([randomLayer(1000)]);
      const seed = clientWithConfig(home);
      await seed.pushImage(`${registry.url}/tok/public:1`, image.input);
      await seed.close();
      const pulled = await client.pullImage(`${registry.url}/tok/public:1`);
      expect(pulled.root.descriptor.digest).toBe(image.input.root.descriptor.digest);
      expect(registry.auth.tokenRequests().at(-1)).toMatchObject({ username: undefined, status: 200 });
      const err = await client
        .pushImage(`${registry.url}/tok/public:2`, image.input)
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'IMG_REGISTRY_UNAUTHORIZED', distributionCode: 'UNAUTHORIZED' });
      expect((err as Error).message).toContain('no credentials found');
    } finally {
      await client.close();
    }
  });

  it('reports a password the token server rejects without showing it', async () => {
    const bad = dir.join('bad');
    const wrong = 'An0ther-Secret-Value';
    await writeConfig(bad, {
      auths: { [registry.url]: { username: registry.auth.username, password: wrong } },
    });
    const client = clientWithConfig(bad);
    const err = await client.pullImage(`${registry.url}/tok/public:1`).catch((e: unknown) => e);
    await client.close();
    expect(err).toMatchObject({ code: 'IMG_REGISTRY_UNAUTHORIZED', status: 401 });
    expect((err as Error).message).toMatch(/GET token/);
    expect(exposed(err)).not.toContain(wrong);
  });

  it('uploads instead when the mount source is not readable, asking only once', async () => {
    const admin = clientWithConfig(home);
    const base = buildImage([randomLayer(20_000), randomLayer(20_000), randomLayer(20_000)]);
    await admin.pushImage(`${registry.url}/team-a/base:1`, base.input);
    await admin.close();

    const teamb = dir.join('teamb');
    await writeConfig(teamb, { auths: { [registry.url]: { auth: b64('teamb:teamb-pw-1234') } } });
    const client = new RegistryClient({
      jobs: 1,
      retry: fast,
      auth: { env: { HOME: teamb, DOCKER_CONFIG: teamb } },
    });
    try {
      // Layers known locally (open) and also in team-a/base, which teamb may not read.
      const blobs = base.input.blobs.map((b) => ({
        ...b,
        sources: [{ registry: registry.url, repository: 'team-a/base' }],
      }));
      const before = (await registry.requests()).length;
      const result = await client.pushImage(`${registry.url}/team-b/app:1`, { ...base.input, blobs });
      expect(result.summary).toMatchObject({ blobsUploaded: 4, blobsMounted: 0 });
      const mounts = (await registry.requests()).slice(before).filter((r) => r.uri.includes('mount='));
      expect(mounts.length).toBeGreaterThan(0);
      expect(mounts.every((r) => r.status === 401)).toBe(true);
      // One blob found the source refused (the first try and the re-challenge); the others did not ask.
      expect(mounts.length).toBe(2);
    } finally {
      await client.close();
    }
  });
});
