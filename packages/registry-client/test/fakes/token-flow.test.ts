import { canonicalJsonBytes, MediaType, sha256Digest } from '@img/oci-spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Credential } from '../../src/index.js';
import { TestClient as RegistryClient } from '../helpers/client.js';
import { type TinyServer, tinyServer } from './servers.js';

// The real token-mode registry (auth.test.ts) never asks for a scope we did not request, and our token
// server has no OAuth refresh-token grant; this tiny registry + token endpoint covers those two paths.
describe('token flow details', () => {
  const manifest = canonicalJsonBytes(
    {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: sha256Digest('{}'), size: 2 },
      layers: [],
    },
    'manifest',
  );
  const tokens = new Map<string, string[]>();
  const tokenRequests: {
    method: string;
    scopes: string[];
    form?: Record<string, string>;
    authorization?: string;
  }[] = [];
  let server: TinyServer;

  beforeAll(async () => {
    server = await tinyServer((req, res, body) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const challenge = (extra = '') => `Bearer realm="${server.origin}/token",service="fake"${extra}`;
      if (url.pathname === '/token') {
        let scopes: string[];
        if (req.method === 'POST') {
          const form = Object.fromEntries(new URLSearchParams(body.toString()));
          scopes = (form.scope ?? '').split(' ').filter(Boolean);
          tokenRequests.push({ method: 'POST', scopes, form });
        } else {
          scopes = url.searchParams.getAll('scope');
          tokenRequests.push({ method: 'GET', scopes, authorization: req.headers.authorization });
        }
        const token = `tok${tokens.size + 1}`;
        tokens.set(token, scopes);
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ access_token: token, expires_in: 300 }));
        return;
      }
      const auth = req.headers.authorization ?? '';
      const granted =
        auth === 'Bearer static-registry-token'
          ? ['repository:app:pull', 'repository:extra:pull']
          : (tokens.get(auth.replace(/^Bearer /, '')) ?? []);
      if (url.pathname === '/v2/') {
        res.writeHead(401, { 'www-authenticate': challenge() }).end();
      } else if (!granted.includes('repository:app:pull')) {
        res.writeHead(401, { 'www-authenticate': challenge(',scope="repository:app:pull"') }).end();
      } else if (!granted.includes('repository:extra:pull')) {
        // This registry also wants pull on another repository, and says so in the challenge.
        res
          .writeHead(401, {
            'www-authenticate': challenge(',scope="repository:extra:pull",error="insufficient_scope"'),
          })
          .end();
      } else {
        res
          .writeHead(200, {
            'content-type': MediaType.OciManifest,
            'docker-content-digest': sha256Digest(manifest),
          })
          .end(manifest);
      }
    });
  });
  afterAll(async () => server?.stop());

  const withCredential = (credential?: Credential) =>
    new RegistryClient({
      credentialProvider: { resolve: async () => (credential ? { credential, origin: 'test' } : undefined) },
    });

  it('re-challenges once with the scope the 401 names, first in the list', async () => {
    tokenRequests.length = 0;
    const client = withCredential({ kind: 'basic', username: 'u', password: 'pw-123456' });
    try {
      const doc = await client.fetchManifest(`${server.host}/app:v1`);
      expect(Buffer.from(doc.bytes).equals(manifest)).toBe(true);
      // Cached: a second fetch needs no new token.
      await client.fetchManifest(`${server.host}/app:v1`);
    } finally {
      await client.close();
    }
    expect(tokenRequests.map((r) => r.scopes)).toEqual([
      ['repository:app:pull'],
      ['repository:extra:pull', 'repository:app:pull'],
    ]);
    expect(tokenRequests[0]!.authorization).toBe(`Basic ${Buffer.from('u:pw-123456').toString('base64')}`);
  });

  it('exchanges an identity token with the OAuth2 refresh_token grant', async () => {
    tokenRequests.length = 0;
    const client = withCredential({ kind: 'identityToken', token: 'refresh-abc' });
    try {
      await client.fetchManifest(`${server.host}/app:v1`);
    } finally {
      await client.close();
    }
    expect(tokenRequests[0]).toMatchObject({
      method: 'POST',
      form: {
        grant_type: 'refresh_token',
        refresh_token: 'refresh-abc',
        service: 'fake',
        scope: 'repository:app:pull',
        client_id: 'img',
      },
    });
    expect(tokenRequests.every((r) => r.method === 'POST')).toBe(true);
  });

  it('sends a config.json registrytoken as the bearer token without asking the token server', async () => {
    tokenRequests.length = 0;
    const client = withCredential({ kind: 'registryToken', token: 'static-registry-token' });
    try {
      await client.fetchManifest(`${server.host}/app:v1`);
    } finally {
      await client.close();
    }
    expect(tokenRequests).toEqual([]);
  });
});
