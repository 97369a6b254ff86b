import { RegistryError } from '../errors.js';
import type { SecretScrubber } from '../redact.js';
import { dump } from '../transport/body.js';
import { type Endpoints, registryScheme } from '../transport/endpoints.js';
import { statusError } from '../transport/request-errors.js';
import { header, type RequestStats, type Sender } from '../transport/sender.js';
import { type Challenge, parseWwwAuthenticate, pickChallenge } from '../transport/www-authenticate.js';
import {
  type Credential,
  type CredentialProvider,
  credentialSecrets,
  type ResolvedCredential,
} from './credentials.js';
import { mergeScopes, scopesCover } from './scopes.js';
import { type BearerToken, fetchToken } from './token.js';

export interface AuthSessionConfig {
  readonly keychain: CredentialProvider;
  readonly scrubber: SecretScrubber;
  readonly insecure: boolean | readonly string[];
}

/**
 * Authentication state of one registry: the challenge learnt from `GET /v2/` (pinged once),
 * the credentials per repository, and bearer tokens cached by scope until they expire. Pings and
 * token requests go through `inner`, the unauthenticated sender.
 */
export class AuthSession {
  readonly registry: string;
  readonly #inner: Sender;
  readonly #endpoints: Endpoints;
  readonly #config: AuthSessionConfig;
  #ping: Promise<void> | undefined;
  #challenge: Challenge | undefined;
  readonly #credentials = new Map<string, Promise<ResolvedCredential | undefined>>();
  readonly #resolved = new Map<string, ResolvedCredential | undefined>();
  readonly #helperFailures = new Map<string, string>();
  #withheld: string | undefined;
  #tokens: BearerToken[] = [];
  readonly #inflight = new Map<string, Promise<BearerToken>>();

  constructor(registry: string, inner: Sender, endpoints: Endpoints, config: AuthSessionConfig) {
    this.registry = registry;
    this.#inner = inner;
    this.#endpoints = endpoints;
    this.#config = config;
  }

  /** The only origin credentials are attached for (the token realm aside, see #mayCarryCredentials). */
  get origin(): string {
    return this.#endpoints.ping().origin;
  }

  /** Authorization headers for a request to this registry needing `scopes`. */
  async headers(
    repository: string | undefined,
    scopes: readonly string[],
    stats: RequestStats | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Record<string, string>> {
    const credential = (await this.#credential(repository))?.credential;
    if (credential?.kind === 'headers') return { ...credential.headers };
    await this.#pingOnce(stats, signal);
    const challenge = this.#challenge;
    if (!challenge) return {};
    if (challenge.scheme === 'basic') {
      return credential?.kind === 'basic' ? { authorization: basicHeader(credential) } : {};
    }
    if (challenge.scheme !== 'bearer') return {};
    if (credential?.kind === 'registryToken') return { authorization: `Bearer ${credential.token}` };
    const token = await this.#token(challenge, scopes, credential, repository, stats, signal);
    return { authorization: `Bearer ${token.token}` };
  }

  /**
   * After a 401: learn the new challenge (it may name a scope we lacked) and return the scopes to
   * retry with, or undefined when retrying cannot help (credentials were already sent and rejected).
   */
  async rechallenge(
    wwwAuthenticate: string | undefined,
    repository: string | undefined,
    scopes: readonly string[],
  ): Promise<string[] | undefined> {
    if (!wwwAuthenticate) return undefined;
    const challenge = pickChallenge(parseWwwAuthenticate(wwwAuthenticate));
    if (!challenge) return undefined;
    const credential = (await this.#credential(repository))?.credential;
    if (challenge.scheme === 'basic') {
      if (credential?.kind !== 'basic' || this.#challenge?.scheme === 'basic') return undefined;
      this.#challenge = challenge;
      return [...scopes];
    }
    if (challenge.scheme !== 'bearer') return undefined;
    if (credential?.kind === 'registryToken' || credential?.kind === 'headers') return undefined;
    this.#challenge = challenge;
    const next = mergeScopes(challenge.params.scope ? [challenge.params.scope] : [], scopes);
    // The token we used was not good enough for these scopes: never hand it out again for them.
    this.#tokens = this.#tokens.filter((t) => !scopesCover(t.scopes, scopes));
    return next;
  }

  /** Text appended to 401/403 errors: where credentials came from, or that there were none. */
  authHint(repository: string | undefined): string {
    if (this.#withheld) return ` (${this.#withheld})`;
    const failure = this.#helperFailures.get(repository ?? '');
    if (failure) return ` (${failure}; continued without credentials)`;
    const resolved = this.#resolved.get(repository ?? '');
    if (resolved) return ` (credentials from ${resolved.origin} were not accepted)`;
    if (this.#resolved.has(repository ?? '')) {
      return ` (no credentials found for ${this.registry}; log in with docker login or podman login)`;
    }
    return '';
  }

  /**
   * Credentials may go to a token realm over HTTPS, or over plain HTTP when this registry is itself
   * reached over plain HTTP (given as insecure, or loopback) and so is the realm's host.
   */
  #mayCarryCredentials(realm: URL): boolean {
    if (realm.protocol === 'https:') return true;
    return (
      realm.protocol === 'http:' &&
      this.origin.startsWith('http:') &&
      registryScheme(realm.host, this.#config.insecure) === 'http'
    );
  }

  #credential(repository: string | undefined): Promise<ResolvedCredential | undefined> {
    const key = repository ?? '';
    let hit = this.#credentials.get(key);
    if (!hit) {
      hit = this.#config.keychain.resolve(this.registry, repository).then(
        (resolved) => {
          if (resolved) this.#config.scrubber.add(...credentialSecrets(resolved.credential));
          this.#resolved.set(key, resolved);
          return resolved;
        },
        (err: unknown) => {
          // A broken helper must not block public images: continue anonymously, explain on 401.
          if (err instanceof RegistryError && err.code === 'IMG_REGISTRY_CREDENTIAL_HELPER') {
            this.#helperFailures.set(key, this.#config.scrubber.scrub(err.message));
            this.#resolved.set(key, undefined);
            return undefined;
          }
          this.#credentials.delete(key);
          throw err;
        },
      );
      this.#credentials.set(key, hit);
    }
    return hit;
  }

  #pingOnce(stats: RequestStats | undefined, signal: AbortSignal | undefined): Promise<void> {
    this.#ping ??= (async () => {
      const req = {
        method: 'GET' as const,
        url: this.#endpoints.ping(),
        registry: this.registry,
        what: 'GET /v2/ (ping)',
        stats,
        signal,
      };
      const res = await this.#inner.send(req);
      if (![200, 401, 403, 404].includes(res.status))
        throw await statusError(req, res, this.#config.scrubber);
      await dump(res.body);
      if (res.status === 401) {
        const www = header(res, 'www-authenticate');
        this.#challenge = www ? pickChallenge(parseWwwAuthenticate(www)) : undefined;
      }
    })().catch((err: unknown) => {
      this.#ping = undefined;
      throw err;
    });
    return this.#ping;
  }

  #token(
    challenge: Challenge,
    scopes: readonly string[],
    credential: Credential | undefined,
    repository: string | undefined,
    stats: RequestStats | undefined,
    signal: AbortSignal | undefined,
  ): Promise<BearerToken> {
    const now = Date.now();
    this.#tokens = this.#tokens.filter((t) => t.expiresAt > now);
    const cached = this.#tokens.find((t) => scopesCover(t.scopes, scopes));
    if (cached) return Promise.resolve(cached);
    const wanted = mergeScopes(scopes);
    const key = wanted.join(' ');
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = fetchToken(this.#inner, {
        registry: this.registry,
        challenge,
        scopes: wanted,
        credential,
        mayCarryCredentials: (realm) => {
          const ok = this.#mayCarryCredentials(realm);
          if (!ok && credential) {
            this.#withheld = `credentials for ${this.registry} were not sent to the plain-HTTP token realm ${realm.origin}; give it as insecure to allow that`;
          }
          return ok;
        },
        scrubber: this.#config.scrubber,
        authHint: () => this.authHint(repository),
        stats,
        signal,
      })
        .then((token) => {
          this.#tokens.push(token);
          return token;
        })
        .finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }
}

function basicHeader(c: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}
