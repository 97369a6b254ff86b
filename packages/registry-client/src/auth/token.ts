import { RegistryError } from '../errors.js';
import type { SecretScrubber } from '../redact.js';
import { dump, readAll } from '../transport/body.js';
import { statusError } from '../transport/request-errors.js';
import type { HttpResponse, RequestStats, Sender } from '../transport/sender.js';
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

export interface FetchTokenRequest {
  readonly registry: string;
  readonly challenge: Challenge;
  readonly scopes: readonly string[];
  readonly credential: Credential | undefined;
  /** Whether credentials may be sent to this realm (HTTPS, or plain HTTP the user allowed). */
  readonly mayCarryCredentials: (realm: URL) => boolean;
  readonly scrubber: SecretScrubber;
  /** Appended to a 401/403 from the token server (where the credentials came from). */
  readonly authHint?: () => string;
  readonly stats?: RequestStats;
  readonly signal?: AbortSignal;
}

/**
 * The distribution token flow: GET `<realm>?service=..&scope=..&scope=..` (Basic credentials or
 * anonymous), or for an identity token the OAuth2 POST (refresh_token grant) falling back to GET
 * when the server has no OAuth endpoint. Accepts `token` or `access_token`; honours `expires_in`.
 * Credentials go to the realm only when `mayCarryCredentials` allows; else the token is asked for
 * anonymously. `inner` is the unauthenticated sender.
 */
export async function fetchToken(inner: Sender, req: FetchTokenRequest): Promise<BearerToken> {
  const { registry, challenge, scopes, scrubber } = req;
  const realmText = challenge.params.realm;
  let realm: URL;
  try {
    realm = new URL(realmText ?? '');
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    throw new RegistryError(
      'IMG_REGISTRY_INVALID_RESPONSE',
      `${registry}: Bearer challenge without a valid http(s) realm (${JSON.stringify(realmText)})`,
      { registry },
    );
  }
  const credential = req.credential && req.mayCarryCredentials(realm) ? req.credential : undefined;
  const service = challenge.params.service;
  const base = { registry, stats: req.stats, signal: req.signal };
  let res: HttpResponse | undefined;
  if (credential?.kind === 'identityToken') {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: credential.token,
      client_id: CLIENT_ID,
    });
    if (service) form.set('service', service);
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    const post = {
      ...base,
      method: 'POST' as const,
      url: realm,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      what: 'POST token (oauth2)',
      followRedirects: false,
    };
    res = await inner.send(post);
    if (![200, 400, 404, 405].includes(res.status)) throw await statusError(post, res, scrubber);
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
    const get = { ...base, method: 'GET' as const, url, headers, what: 'GET token' };
    res = await inner.send(get);
    if (res.status !== 200) {
      const hint = res.status === 401 || res.status === 403 ? (req.authHint?.() ?? '') : '';
      throw await statusError(get, res, scrubber, hint);
    }
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
  scrubber.add(token);
  const lifetime =
    typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : DEFAULT_TOKEN_LIFETIME_S;
  // Renew a little early so a token does not expire between our check and the registry's.
  const margin = Math.min(10, lifetime / 4);
  return { token, expiresAt: Date.now() + (lifetime - margin) * 1000, scopes };
}
