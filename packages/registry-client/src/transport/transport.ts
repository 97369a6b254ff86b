/// <reference path="./undici-modules.d.ts" />
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { ImgError } from '@img/oci-spec';
import type { Dispatcher } from 'undici';
import undiciRequest from 'undici/lib/api/api-request.js';
// undici's Agent and request() alone: the package index also loads fetch, WebSocket, caches and mocks
// (~50 ms of CPU, a fifth of a re-push). undici-modules.test.ts checks they are the exported ones.
import Agent from 'undici/lib/dispatcher/agent.js';
import type { CredentialProvider } from '../auth/credentials.js';
import { AuthSession } from '../auth/session.js';
import { publishRequest, publishRetry } from '../diagnostics.js';
import { codeForStatus, parseErrorBody, RegistryError } from '../errors.js';
import { redactUrl, type SecretScrubber } from '../redact.js';
import { normalizeRegistry } from '../reference.js';
import { dump, readTextPrefix } from './body.js';
import { Endpoints, resolveLocation } from './endpoints.js';
import {
  backoffDelay,
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
  type RetryOptions,
  sleep,
} from './retry.js';

/** Counters of one operation (a push, a pull); shared by all its requests. */
export interface RequestStats {
  requests: number;
  retries: number;
}

export interface TransportConfig {
  readonly insecure: boolean | readonly string[];
  readonly retry: Required<RetryOptions>;
  readonly connections: number;
  readonly userAgent: string;
  readonly dispatcher?: Dispatcher;
  readonly keychain: CredentialProvider;
  readonly scrubber: SecretScrubber;
}

/** Streams and async iterables are sent once: such a request is never retried here. */
export type RequestBody = Uint8Array | string | Readable | AsyncIterable<Uint8Array>;

export interface SendRequest {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: URL;
  readonly registry: string;
  readonly repository?: string;
  /** Token scopes the request needs (ignored when the registry needs no bearer token). */
  readonly scopes: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
  /** A stream or iterable body is sent once: the request is then never retried here (the caller resumes). */
  readonly body?: RequestBody;
  /** Statuses handed back to the caller; any other one becomes a RegistryError. */
  readonly expect: readonly number[];
  /** Names the operation in errors: `GET manifest`, `PATCH blob upload`... */
  readonly what: string;
  readonly stats?: RequestStats;
  readonly signal?: AbortSignal;
  /** Follow 301/302/303/307/308 (GET and HEAD only). Default true for GET/HEAD. */
  readonly followRedirects?: boolean;
  /** Send credentials (only ever to the registry's own origin). Default true. */
  readonly auth?: boolean;
  /** Use the blob-download connection pool (so streaming a blob into an upload cannot starve). */
  readonly blobPool?: boolean;
}

export interface SendResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Readable;
  /** The URL that answered (after redirects). */
  readonly url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/** First value of a response header. */
export function header(res: { headers: IncomingHttpHeaders }, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * HTTP to registries: keep-alive pools (undici Agent, `connections` per origin), credentials attached
 * only for the registry's own origin, redirects followed without Authorization across origins,
 * retries with backoff on 408/429/5xx/connection resets (replayable bodies only), one re-challenge on 401.
 */
export class Transport {
  readonly config: TransportConfig;
  readonly #api: Dispatcher;
  readonly #blobs: Dispatcher;
  readonly #owned: Agent[] = [];
  readonly #sessions = new Map<string, AuthSession>();
  readonly #endpoints = new Map<string, Endpoints>();

  constructor(config: TransportConfig) {
    this.config = config;
    if (config.dispatcher) {
      this.#api = config.dispatcher;
      this.#blobs = config.dispatcher;
    } else {
      const make = () =>
        new Agent({ connections: config.connections, pipelining: 1, keepAliveTimeout: 30_000 });
      this.#api = make();
      this.#blobs = make();
      this.#owned.push(this.#api as Agent, this.#blobs as Agent);
    }
  }

  /**
   * True when requests go through our own undici Agents (HTTP/1.1 clients), not a caller's
   * dispatcher: their body writing is known well enough to hand them recycled buffers.
   */
  get ownsDispatchers(): boolean {
    return this.config.dispatcher === undefined;
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

  session(registry: string): AuthSession {
    const r = normalizeRegistry(registry);
    let s = this.#sessions.get(r);
    if (!s) {
      s = new AuthSession(r, this);
      this.#sessions.set(r, s);
    }
    return s;
  }

  async close(): Promise<void> {
    await Promise.all(this.#owned.map((a) => a.close()));
  }

  /** Send a request through auth, redirects and retries; see SendRequest. */
  async send(req: SendRequest): Promise<SendResponse> {
    const { retry } = this.config;
    const replayable =
      req.body === undefined || typeof req.body === 'string' || req.body instanceof Uint8Array;
    const registryOrigin = new URL(this.endpoints(req.registry).base).origin;
    const session = this.session(req.registry);
    let method: string = req.method;
    let url = req.url;
    let scopes = req.scopes;
    let attempt = 0;
    let redirects = 0;
    let rechallenged = false;
    const follow = req.followRedirects ?? (method === 'GET' || method === 'HEAD');
    for (;;) {
      const withAuth = req.auth !== false && url.origin === registryOrigin;
      const headers: Record<string, string> = { 'user-agent': this.config.userAgent };
      for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
      // Headers the caller set itself (a token request's Basic credentials) stay on the first origin.
      if (url.origin !== req.url.origin) {
        delete headers.authorization;
        delete headers.cookie;
      }
      if (withAuth)
        Object.assign(headers, await session.headers(req.repository, scopes, req.stats, req.signal));
      let res: Dispatcher.ResponseData;
      const started = Date.now();
      try {
        if (req.stats) req.stats.requests++;
        const dispatcher = req.blobPool ? this.#blobs : this.#api;
        const options: Dispatcher.RequestOptions = {
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: method as Dispatcher.HttpMethod,
          headers,
          // undici takes async iterables too (documented; its typings lag behind).
          body: (method === 'GET' || method === 'HEAD'
            ? undefined
            : req.body) as Dispatcher.DispatchOptions['body'],
          signal: req.signal,
        };
        // Ours get Dispatcher#request by hand (only the undici index installs it); a caller's
        // dispatcher, perhaps of another undici version, uses its own.
        res = this.ownsDispatchers
          ? await undiciRequest.call(dispatcher, options)
          : await dispatcher.request(options);
      } catch (err) {
        publishRequest({ method, url: redactUrl(url), durationMs: Date.now() - started, error: String(err) });
        // Our own errors from a request body (a source failing digest verification) pass through.
        if (req.signal?.aborted || err instanceof ImgError) throw err;
        const retryable = isRetryableNetworkError(err);
        if (retryable && replayable && attempt < retry.retries) {
          await this.#backoff(req, method, url, attempt++, `connection error: ${(err as Error).message}`);
          continue;
        }
        throw this.#networkError(req, method, url, err, retryable);
      }
      const status = res.statusCode;
      publishRequest({ method, url: redactUrl(url), status, durationMs: Date.now() - started });
      const response: SendResponse = { status, headers: res.headers, body: res.body, url };
      if (status === 401 && withAuth && !rechallenged && replayable) {
        rechallenged = true;
        const next = await session.rechallenge(header(response, 'www-authenticate'), req.repository, scopes);
        if (next) {
          await dump(res.body);
          scopes = next;
          continue;
        }
      }
      if (REDIRECTS.has(status) && follow && header(response, 'location') !== undefined) {
        await dump(res.body);
        if (++redirects > MAX_REDIRECTS) {
          throw this.#error(req, method, url, 'IMG_REGISTRY_INVALID_RESPONSE', 'too many redirects', {
            status,
          });
        }
        url = resolveLocation(header(response, 'location'), url, req.what);
        if (status === 303) method = 'GET';
        continue;
      }
      if (req.expect.includes(status)) return response;
      if (isRetryableStatus(status) && replayable && attempt < retry.retries) {
        await dump(res.body);
        const after = parseRetryAfter(header(response, 'retry-after'));
        await this.#backoff(req, method, url, attempt++, `HTTP ${status}`, after);
        continue;
      }
      throw await this.statusError(req, response, method);
    }
  }

  async #backoff(
    req: SendRequest,
    method: string,
    url: URL,
    attempt: number,
    reason: string,
    retryAfterMs?: number,
  ): Promise<void> {
    const delayMs = backoffDelay(attempt, this.config.retry, retryAfterMs);
    if (req.stats) req.stats.retries++;
    publishRetry({ method, url: redactUrl(url), attempt: attempt + 1, delayMs: Math.round(delayMs), reason });
    await sleep(delayMs, req.signal);
  }

  #error(
    req: SendRequest,
    method: string,
    url: URL,
    code: ConstructorParameters<typeof RegistryError>[0],
    why: string,
    extra: {
      status?: number;
      retryable?: boolean;
      cause?: unknown;
      diagnostics?: ReturnType<typeof parseErrorBody>;
    },
  ): RegistryError {
    const where = req.repository ? `${req.registry}/${req.repository}` : req.registry;
    const message = this.config.scrubber.scrub(`${req.what} ${where}: ${method} ${redactUrl(url)}: ${why}`);
    return new RegistryError(code, message, {
      registry: req.registry,
      repository: req.repository,
      method,
      url: redactUrl(url),
      ...extra,
    });
  }

  #networkError(
    req: SendRequest,
    method: string,
    url: URL,
    cause: unknown,
    retryable: boolean,
  ): RegistryError {
    const why = (cause as Error)?.message ?? String(cause);
    return this.#error(req, method, url, 'IMG_REGISTRY_NETWORK_ERROR', why, { retryable, cause });
  }

  /** The RegistryError for an unexpected status; reads (a bounded prefix of) the body. */
  async statusError(
    req: SendRequest,
    res: SendResponse,
    method: string = req.method,
  ): Promise<RegistryError> {
    const text = method === 'HEAD' ? '' : await readTextPrefix(res.body);
    if (method === 'HEAD') await dump(res.body);
    const diagnostics = parseErrorBody(text);
    const first = diagnostics[0];
    let why = `HTTP ${res.status}`;
    if (first) why += ` ${first.code}${first.message ? `: ${first.message}` : ''}`;
    else if (text.trim() !== '') why += `: ${text.trim().slice(0, 200)}`;
    if (res.status === 401 || res.status === 403) why += this.session(req.registry).authHint(req.repository);
    return this.#error(req, method, res.url, codeForStatus(res.status), why, {
      status: res.status,
      retryable: isRetryableStatus(res.status),
      diagnostics,
    });
  }
}
