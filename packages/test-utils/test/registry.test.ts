import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ciRequires,
  decodeJwt,
  requireTool,
  run,
  startRegistry,
  type TestRegistry,
  type TinyOciLayout,
  useTempDir,
  writeTinyOciLayout,
} from '../src/index.js';

const needs = ciRequires('docker-registry', 'htpasswd', 'openssl', 'skopeo');
const work = useTempDir('registry-test-');

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

async function skopeo(args: string[], secrets: string[] = []) {
  return run('skopeo', ['--insecure-policy', ...args], { redact: secrets, allowFailure: true });
}

let layout: TinyOciLayout;
beforeAll(async () => {
  if (needs.skip) return;
  layout = await writeTinyOciLayout(work.join('layout'), { tag: 'v1' });
});

describe.skipIf(needs.skip)('startRegistry auth none', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(() => registry?.stop());

  it('serves /v2/ on 127.0.0.1 and accepts a skopeo push and pull', async () => {
    expect(registry.url).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await get(`${registry.baseUrl}/v2/`)).status).toBe(200);
    const push = await skopeo([
      'copy',
      '--dest-tls-verify=false',
      layout.reference,
      `docker://${registry.url}/tiny:v1`,
    ]);
    expect(push.code, push.stderr).toBe(0);

    const manifest = await get(`${registry.baseUrl}/v2/tiny/manifests/v1`, {
      accept: 'application/vnd.oci.image.manifest.v1+json',
    });
    expect(manifest.status).toBe(200);
    expect(manifest.headers['docker-content-digest']).toBe(layout.manifest.digest);

    const before = await registry.blobGets(layout.layer.digest);
    const pull = await skopeo([
      'copy',
      '--src-tls-verify=false',
      `docker://${registry.url}/tiny:v1`,
      `oci:${work.join('pulled')}:v1`,
    ]);
    expect(pull.code, pull.stderr).toBe(0);
    const after = await registry.blobGets(layout.layer.digest);
    expect(after.length).toBe(before.length + 1);
    expect(
      (await registry.requests()).some((e) => e.method === 'PUT' && e.path === '/v2/tiny/manifests/v1'),
    ).toBe(true);
  });

  it.skipIf(!requireTool('crane'))('works with crane from <repo>/.tools/bin', async () => {
    const { stdout } = await run('crane', ['digest', '--insecure', `${registry.url}/tiny:v1`]);
    expect(stdout.trim()).toBe(layout.manifest.digest);
  });

  it('has delete enabled', async () => {
    const res = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${registry.baseUrl}/v2/tiny/manifests/${layout.manifest.digest}`,
        { method: 'DELETE' },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(res).toBe(202);
  });
});

describe.skipIf(needs.skip)('startRegistry auth htpasswd', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'htpasswd' });
  });
  afterAll(() => registry?.stop());

  it('demands Basic credentials and accepts the generated user', async () => {
    const anonymous = await get(`${registry.baseUrl}/v2/`);
    expect(anonymous.status).toBe(401);
    expect(String(anonymous.headers['www-authenticate'])).toMatch(/^Basic realm=/);
    const { username, password } = registry.auth;
    expect((await get(`${registry.baseUrl}/v2/`, { authorization: basic(username, password) })).status).toBe(
      200,
    );
    expect((await get(`${registry.baseUrl}/v2/`, { authorization: basic(username, 'wrong') })).status).toBe(
      401,
    );
  });

  it('lets skopeo push with --dest-creds and refuses it without', async () => {
    const dest = `docker://${registry.url}/tiny:v1`;
    const denied = await skopeo(['copy', '--dest-tls-verify=false', layout.reference, dest]);
    expect(denied.code).not.toBe(0);
    const creds = registry.auth.creds;
    const pushed = await skopeo(
      ['copy', '--dest-tls-verify=false', '--dest-creds', creds, layout.reference, dest],
      [registry.auth.password],
    );
    expect(pushed.code, pushed.stderr).toBe(0);
    const inspect = await skopeo(
      ['inspect', '--raw', '--tls-verify=false', '--creds', creds, dest],
      [registry.auth.password],
    );
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout).layers[0].digest).toBe(layout.layer.digest);
  });
});

describe.skipIf(needs.skip)('startRegistry auth token', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({
      auth: 'token',
      users: [
        { username: 'writer', password: 'writer-secret' },
        { username: 'reader', password: 'reader-secret', actions: ['pull'] },
      ],
    });
  });
  afterAll(() => registry?.stop());

  it('answers 401 with a Bearer challenge naming realm, service and scope', async () => {
    const res = await get(`${registry.baseUrl}/v2/tiny/manifests/v1`);
    expect(res.status).toBe(401);
    const challenge = String(res.headers['www-authenticate']);
    expect(challenge).toContain(`Bearer realm="${registry.auth.realm}"`);
    expect(challenge).toContain(`service="${registry.auth.service}"`);
    expect(challenge).toContain('scope="repository:tiny:pull"');
  });

  it('issues JWTs distribution accepts, granting only allowed actions', async () => {
    const url = `${registry.auth.realm}?service=${registry.auth.service}&scope=repository:tiny:pull,push`;
    const reader = await get(url, { authorization: basic('reader', 'reader-secret') });
    expect(reader.status).toBe(200);
    const { header, claims } = decodeJwt(JSON.parse(reader.body).token);
    expect(header.alg).toBe('ES256');
    expect(Array.isArray(header.x5c)).toBe(true);
    expect(claims.iss).toBe(registry.auth.issuer);
    expect(claims.aud).toBe(registry.auth.service);
    expect(claims.access).toEqual([{ type: 'repository', name: 'tiny', actions: ['pull'] }]);
    expect((await get(url, { authorization: basic('reader', 'nope') })).status).toBe(401);

    const token = JSON.parse(reader.body).token as string;
    expect((await get(`${registry.baseUrl}/v2/`, { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await get(`${registry.baseUrl}/v2/`, { authorization: `Bearer ${token}x` })).status).toBe(401);
  });

  it('lets skopeo push through the token flow, and a pull-only user cannot push', async () => {
    const dest = `docker://${registry.url}/tiny:v1`;
    const pushed = await skopeo([
      'copy',
      '--dest-tls-verify=false',
      '--dest-creds',
      'writer:writer-secret',
      layout.reference,
      dest,
    ]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const writerRequest = registry.auth
      .tokenRequests()
      .find((r) => r.username === 'writer' && r.status === 200);
    expect(writerRequest?.granted.some((g) => g.name === 'tiny' && g.actions.includes('push'))).toBe(true);

    const readerPush = await skopeo([
      'copy',
      '--dest-tls-verify=false',
      '--dest-creds',
      'reader:reader-secret',
      layout.reference,
      `docker://${registry.url}/other:v1`,
    ]);
    expect(readerPush.code).not.toBe(0);

    const pulled = await skopeo([
      'copy',
      '--src-tls-verify=false',
      '--src-creds',
      'reader:reader-secret',
      dest,
      `oci:${work.join('token-pulled')}:v1`,
    ]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect((await registry.blobGets(layout.layer.digest)).length).toBe(1);
  });

  it('refuses anonymous pulls unless anonymousPull is set', async () => {
    const anonymous = await skopeo([
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${registry.url}/tiny:v1`,
    ]);
    expect(anonymous.code).not.toBe(0);
    const open = await startRegistry({ auth: 'token', anonymousPull: true });
    try {
      const token = await get(
        `${open.auth.realm}?service=${open.auth.service}&scope=repository:tiny:pull,push`,
      );
      expect(decodeJwt(JSON.parse(token.body).token).claims.access).toEqual([
        { type: 'repository', name: 'tiny', actions: ['pull'] },
      ]);
    } finally {
      await open.stop();
    }
  });

  it('stop() kills the registry and removes its directory', async () => {
    const extra = await startRegistry({ auth: 'token' });
    const { existsSync } = await import('node:fs');
    expect(existsSync(extra.dir)).toBe(true);
    await extra.stop();
    expect(existsSync(extra.dir)).toBe(false);
    expect(
      await get(`${extra.baseUrl}/v2/`).then(
        () => 'up',
        () => 'down',
      ),
    ).toBe('down');
    expect(
      await get(`${extra.auth.realm}`).then(
        () => 'up',
        () => 'down',
      ),
    ).toBe('down');
  });
});
