import { normalizeRegistry } from '../reference.js';
import { dump } from '../transport/body.js';
import type { Endpoints } from '../transport/endpoints.js';
import {
  type HttpRequest,
  type HttpResponse,
  header,
  isReplayable,
  type Sender,
} from '../transport/sender.js';
import { AuthSession, type AuthSessionConfig } from './session.js';

export interface AuthRequest extends HttpRequest {
  /** Token scopes the request needs (ignored when the registry needs no bearer token). */
  readonly scopes: readonly string[];
  /** Send credentials (only ever to the registry's own origin). Default true. */
  readonly auth?: boolean;
}

export interface AuthenticatorConfig extends AuthSessionConfig {
  readonly endpoints: (registry: string) => Endpoints;
}

/**
 * Auth as a layer around an unauthenticated sender (go-containerregistry's bearer transport): it adds
 * the registry's credentials or bearer token to requests for the registry's own origin only (an
 * upload Location or redirect elsewhere gets none), and after a 401 from that origin learns the new
 * challenge and repeats a replayable request once. Pings and token requests go through `inner`.
 */
export class Authenticator {
  readonly #inner: Sender;
  readonly #config: AuthenticatorConfig;
  readonly #sessions = new Map<string, AuthSession>();

  constructor(inner: Sender, config: AuthenticatorConfig) {
    this.#inner = inner;
    this.#config = config;
  }

  session(registry: string): AuthSession {
    const r = normalizeRegistry(registry);
    let s = this.#sessions.get(r);
    if (!s) {
      s = new AuthSession(r, this.#inner, this.#config.endpoints(r), this.#config);
      this.#sessions.set(r, s);
    }
    return s;
  }

  async send(req: AuthRequest): Promise<HttpResponse> {
    const session = this.session(req.registry);
    const withAuth = req.auth !== false && req.url.origin === session.origin;
    let scopes = req.scopes;
    let rechallenged = false;
    for (;;) {
      const headers = { ...req.headers };
      if (withAuth)
        Object.assign(headers, await session.headers(req.repository, scopes, req.stats, req.signal));
      const res = await this.#inner.send({ ...req, headers });
      if (
        res.status === 401 &&
        withAuth &&
        !rechallenged &&
        isReplayable(req.body) &&
        res.url.origin === session.origin
      ) {
        rechallenged = true;
        const next = await session.rechallenge(header(res, 'www-authenticate'), req.repository, scopes);
        if (next) {
          await dump(res.body);
          scopes = next;
          continue;
        }
      }
      return res;
    }
  }
}
