import type { Dispatcher } from 'undici';
import { Authenticator, type AuthRequest } from '../auth/authenticator.js';
import type { CredentialProvider } from '../auth/credentials.js';
import type { RegistryError } from '../errors.js';
import type { SecretScrubber } from '../redact.js';
import { normalizeRegistry } from '../reference.js';
import { Dispatchers } from './dispatchers.js';
import { Endpoints } from './endpoints.js';
import { HttpSender } from './http-sender.js';
import { statusError } from './request-errors.js';
import type { RetryOptions } from './retry.js';
import type { HttpResponse } from './sender.js';
import type { ResolvedTimeouts } from './timeouts.js';

export type { RequestBody, RequestStats } from './sender.js';
export { header } from './sender.js';

export interface TransportConfig {
  readonly insecure: boolean | readonly string[];
  readonly retry: Required<RetryOptions>;
  readonly timeouts: ResolvedTimeouts;
  readonly connections: number;
  readonly userAgent: string;
  readonly dispatcher?: Dispatcher;
  readonly keychain: CredentialProvider;
  readonly scrubber: SecretScrubber;
}

export interface SendRequest extends AuthRequest {
  /** Statuses handed back to the caller; any other one becomes a RegistryError. */
  readonly expect: readonly number[];
}

export type SendResponse = HttpResponse;

/**
 * What pull and push send requests through, three layers deep: auth (credentials for the registry's
 * own origin, tokens, one re-challenge on 401) around the plain HTTP sender, whose undici
 * dispatcher follows redirects (GET/HEAD) and retries (see retryInterceptor). Statuses outside
 * `expect` become RegistryErrors.
 */
export class Transport {
  readonly config: TransportConfig;
  readonly #dispatchers: Dispatchers;
  readonly #auth: Authenticator;
  readonly #endpoints = new Map<string, Endpoints>();

  constructor(config: TransportConfig) {
    this.config = config;
    this.#dispatchers = new Dispatchers(config);
    const http = new HttpSender({
      dispatchers: this.#dispatchers,
      userAgent: config.userAgent,
      timeouts: config.timeouts,
      scrubber: config.scrubber,
    });
    this.#auth = new Authenticator(http, {
      keychain: config.keychain,
      scrubber: config.scrubber,
      insecure: config.insecure,
      endpoints: (registry) => this.endpoints(registry),
    });
  }

  /**
   * True when requests go through our own undici Agents (HTTP/1.1 clients), not a caller's
   * dispatcher: their body writing is known well enough to hand them recycled buffers.
   */
  get ownsDispatchers(): boolean {
    return this.#dispatchers.owned;
  }

  endpoints(registry: string): Endpoints {
    const r = normalizeRegistry(registry);
    let e = this.#endpoints.get(r);
    if (!e) {
      e = new Endpoints(r, this.config.insecure);
      this.#endpoints.set(r, e);
    }
    return e;
  }

  close(): Promise<void> {
    return this.#dispatchers.close();
  }

  /** Send a request through auth, redirects and retries; see SendRequest. */
  async send(req: SendRequest): Promise<SendResponse> {
    const res = await this.#auth.send(req);
    if (req.expect.includes(res.status)) return res;
    throw await this.statusError(req, res);
  }

  /** The RegistryError for an unexpected status; reads (a bounded prefix of) the body. */
  statusError(req: SendRequest, res: SendResponse, method: string = req.method): Promise<RegistryError> {
    const hint =
      res.status === 401 || res.status === 403
        ? this.#auth.session(req.registry).authHint(req.repository)
        : '';
    return statusError({ ...req, method }, res, this.config.scrubber, hint);
  }
}
