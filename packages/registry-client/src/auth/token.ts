import { RegistryError } from '../errors.js';
import { dump, readAll } from '../transport/body.js';
import type { RequestStats, Transport } from '../transport/transport.js';
import type { Challenge } from '../transport/www-authenticate.js';
import type { Credential } from './credentials.js';

export interface BearerToken {
  readonly token: string;
  /** ms since the epoch after which we ask for a new one. */
  readonly expiresAt: number;
  readonly scopes: readonly string[];
}

/** Token lifetime when the server does not say (distribution's token spec default). */
export const DEFAULT_TOKEN_LIFETIME_S = 60;
const CLIENT_ID = 'img';

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/**
 * The distribution token flow: GET `<realm>?service=..&scope=..&scope=..` (Basic credentials or
 * anonymous), or for an identity token the OAuth2 POST (refresh_token grant) falling back to GET
 * when the server has no OAuth endpoint. Accepts `token` or `access_token`; honours `expires_in`.
 */
export async function fetchToken(
  transport: Transport,
  registry: string,
  challenge: Challenge,
  scopes: readonly string[],
  credential: Credential | undefined,
  stats: RequestStats | undefined,
  signal: AbortSignal | undefined,
): Promise<BearerToken> {
  const realmText = challenge.params.realm;
  let realm: URL;
  try {
    realm = new URL(realmText ?? '');
  } catch {
    throw new RegistryError(
      'IMG_REGISTRY_INVALID_RESPONSE',
      `${registry}: Bearer challenge without a valid realm (${JSON.stringify(realmText)})`,
      { registry },
    );
  }
  const service = challenge.params.service;
  const base = { registry, scopes: [], stats, signal, auth: false as const };
  let res: Awaited<ReturnType<Transport['send']>> | undefined;
  if (credential?.kind === 'identityToken') {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: credential.token,
      client_id: CLIENT_ID,
    });
    if (service) form.set('service', service);
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    res = await transport.send({
      ...base,
      method: 'POST',
      url: realm,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      expect: [200, 400, 404, 405],
      what: 'POST token (oauth2)',
      followRedirects: false,
    });
    if (res.status !== 200) {
      await dump(res.body);
      res = undefined;
    }
  }
  if (!res) {
    const url = new URL(realm);
    if (service) url.searchParams.append('service', service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = {};
    if (credential?.kind === 'basic') headers.authorization = basic(credential.username, credential.password);
    if (credential?.kind === 'identityToken') headers.authorization = basic('<token>', credential.token);
    res = await transport.send({ ...base, method: 'GET', url, headers, expect: [200], what: 'GET token' });
  }
  const body = await readAll(res.body, 1024 * 1024, `token from ${realm.origin}`);
  let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    doc = JSON.parse(body.toString('utf8')) as typeof doc;
  } catch {
    throw new RegistryError(
      'IMG_REGISTRY_TOKEN_ERROR',
      `${registry}: token server ${realm.origin} sent invalid JSON`,
      {
        registry,
      },
    );
  }
  const token =
    typeof doc.token === 'string' && doc.token !== ''
      ? doc.token
      : typeof doc.access_token === 'string'
        ? doc.access_token
        : '';
  if (token === '') {
    throw new RegistryError(
      'IMG_REGISTRY_TOKEN_ERROR',
      `${registry}: token server ${realm.origin} sent no token`,
      {
        registry,
      },
    );
  }
  transport.config.scrubber.add(token);
  const lifetime =
    typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : DEFAULT_TOKEN_LIFETIME_S;
  // Renew a little early so a token does not expire between our check and the registry's.
  const margin = Math.min(10, lifetime / 4);
  return { token, expiresAt: Date.now() + (lifetime - margin) * 1000, scopes };
}
