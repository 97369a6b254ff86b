import { randomBytes } from 'node:crypto';
import { MediaType, sha256Digest } from '@img/oci-spec';
import {
  ciRequires,
  type HostileRegistry,
  makeTlsCertificate,
  startHostileRegistry,
  type TlsCertificate,
} from '@img/test-utils';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/index.js';
import { graphOf } from '../helpers/client.js';
import { buildImage, randomLayer } from '../helpers/images.js';

// Where credentials may travel: only to the registry's own origin, and to its token realm over HTTPS.
// A real registry cannot be told to name a plain-HTTP realm on another host or to hand out an upload
// Location elsewhere: the hostile registry does, and logs what each server received.
const needs = ciRequires('openssl');
const USER = 'alice';
const PASSWORD = 'hostile-test-password';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
// Not a loopback name, so the client speaks HTTPS to it (Linux routes all of 127/8 to lo).
const TLS_HOST = '127.0.0.2';

function basicCredentials() {
  return {
    resolve: async () => ({
      credential: { kind: 'basic' as const, username: USER, password: PASSWORD },
      origin: 'test',
    }),
  };
}

describe.skipIf(needs.skip)('credentials never leave their origin', () => {
  let tls: TlsCertificate;
  let agent: Agent;
  const servers: HostileRegistry[] = [];
  const start = async (...args: Parameters<typeof startHostileRegistry>) => {
    const s = await startHostileRegistry(...args);
    servers.push(s);
    return s;
  };
  beforeAll(async () => {
    tls = await makeTlsCertificate(TLS_HOST);
    agent = new Agent({ connect: { ca: tls.cert } });
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  afterAll(async () => {
    await agent?.close();
  });

  function seed(registry: HostileRegistry): { digest: string; bytes: Buffer } {
    const image = buildImage([randomLayer(2000)]);
    for (const blob of [image.config, ...image.layers]) registry.store.putBlob(Buffer.from(blob.bytes));
    const bytes = Buffer.from(image.manifest.bytes);
    return { digest: registry.store.putManifest('app', 'v1', MediaType.OciManifest, bytes), bytes };
  }

  it('does not send Basic credentials of an HTTPS registry to a plain-HTTP realm on another host', async () => {
    const realm = await start();
    const registry = await start({
      host: TLS_HOST,
      tls,
      auth: { scheme: 'bearer', username: USER, password: PASSWORD, realm: `${realm.origin}/token` },
    });
    const { digest } = seed(registry);
    const client = new RegistryClient({ dispatcher: agent, credentialProvider: basicCredentials() });
    try {
      // The realm grants anonymous tokens here, so the pull still works, without the password.
      const doc = await client.fetchManifest(`${registry.host}/app:v1`);
      expect(doc.descriptor.digest).toBe(digest);
    } finally {
      await client.close();
    }
    expect(realm.requests.map((r) => r.path)).toEqual(['/token']);
    expect(realm.requests[0]!.headers.authorization).toBeUndefined();
    const manifestGet = registry.requests.find(
      (r) => r.path.includes('/manifests/') && r.headers.authorization,
    );
    expect(manifestGet?.headers.authorization).toMatch(/^Bearer hostile-token-/);
    expect(JSON.stringify(registry.requests.map((r) => r.headers))).not.toContain(BASIC);
  }, 15_000);

  it('sends them to an HTTPS realm on another host (the Docker Hub arrangement)', async () => {
    const realm = await start({ host: TLS_HOST, tls });
    const registry = await start({
      host: TLS_HOST,
      tls,
      auth: { scheme: 'bearer', username: USER, password: PASSWORD, realm: `${realm.origin}/token` },
    });
    seed(registry);
    const client = new RegistryClient({ dispatcher: agent, credentialProvider: basicCredentials() });
    try {
      await client.fetchManifest(`${registry.host}/app:v1`);
    } finally {
      await client.close();
    }
    expect(realm.requests.map((r) => [r.path, r.headers.authorization])).toEqual([['/token', BASIC]]);
  }, 15_000);

  it('says in a 401 that the credentials were held back from the plain-HTTP realm', async () => {
    const realm = await start();
    const registry = await start({
      host: TLS_HOST,
      tls,
      auth: { scheme: 'bearer', username: USER, password: PASSWORD, realm: `${realm.origin}/token` },
    });
    // This registry rejects every token: the pull ends in a 401 that explains why.
    registry.setFaults((req) =>
      req.path.includes('/manifests/') ? { kind: 'status', status: 401 } : undefined,
    );
    const client = new RegistryClient({ dispatcher: agent, credentialProvider: basicCredentials() });
    try {
      const err = await client.fetchManifest(`${registry.host}/app:v1`).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'IMG_REGISTRY_UNAUTHORIZED' });
      expect((err as Error).message).toContain(`not sent to the plain-HTTP token realm ${realm.origin}`);
    } finally {
      await client.close();
    }
  }, 15_000);

  it('follows an upload Location and a blob redirect to another origin without Authorization', async () => {
    const offsite = await start();
    const registry = await start({
      auth: { scheme: 'basic', username: USER, password: PASSWORD },
      uploadLocation: (repo, id) => `${offsite.origin}/v2/${repo}/blobs/uploads/${id}`,
    });
    const blob = randomBytes(30_000);
    const descriptor = { mediaType: MediaType.OciLayerGzip, digest: sha256Digest(blob), size: blob.length };
    offsite.store.putBlob(blob);
    registry.setFaults((req) =>
      req.method === 'GET' && req.path.endsWith(descriptor.digest)
        ? { kind: 'redirect', location: `${offsite.origin}${req.path}` }
        : undefined,
    );
    const client = new RegistryClient({ credentialProvider: basicCredentials() });
    try {
      const body = await client.fetchBlob({ registry: registry.host, repository: 'app' }, descriptor);
      expect(Buffer.concat(await body.toArray()).equals(blob)).toBe(true);
      await client.pushImage(`${registry.host}/app:v2`, graphOf(buildImage([randomLayer(3000)]).input));
    } finally {
      await client.close();
    }
    const toRegistry = registry.requests.filter((r) => r.path !== '/v2/');
    expect(toRegistry.length).toBeGreaterThan(0);
    expect(toRegistry.every((r) => r.headers.authorization === BASIC)).toBe(true);
    const methods = new Set(offsite.requests.map((r) => r.method));
    expect(methods).toEqual(new Set(['GET', 'PATCH', 'PUT']));
    expect(offsite.requests.filter((r) => r.headers.authorization !== undefined)).toEqual([]);
  }, 15_000);
});
