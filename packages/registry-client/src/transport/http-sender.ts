import { ImgError } from '@img/oci-spec';
import type { Dispatcher } from 'undici';
import type { SecretScrubber } from '../redact.js';
import type { Dispatchers } from './dispatchers.js';
import { MAX_REDIRECTS } from './dispatchers.js';
import { networkError } from './request-errors.js';
import { isConnectionRefused, isRetryableNetworkError } from './retry.js';
import { RETRY_HOOKS, type RetryHooks } from './retry-interceptor.js';
import type { HttpRequest, HttpResponse, Sender } from './sender.js';
import type { ResolvedTimeouts } from './timeouts.js';

export interface HttpSenderConfig {
  readonly dispatchers: Dispatchers;
  readonly userAgent: string;
  readonly timeouts: ResolvedTimeouts;
  readonly scrubber: SecretScrubber;
}

/**
 * The unauthenticated sender: one request through the composed dispatcher (retries and redirects
 * happen there), the idle timeout set on every request (a caller's dispatcher too), failures below
 * HTTP turned into one-line RegistryErrors that name the address.
 */
export class HttpSender implements Sender {
  readonly #config: HttpSenderConfig;

  constructor(config: HttpSenderConfig) {
    this.#config = config;
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    const { dispatchers, timeouts } = this.#config;
    const follow = req.followRedirects ?? (req.method === 'GET' || req.method === 'HEAD');
    const stats = req.stats;
    const describeError = (err: unknown, bodyBytes?: number): Error => {
      if (err instanceof ImgError) return err;
      const retryable =
        isRetryableNetworkError(err) ||
        (isConnectionRefused(err) && dispatchers.answered.has(req.url.origin));
      const where = bodyBytes === undefined ? undefined : `after ${bodyBytes} bytes of the response body`;
      return networkError(req, err, { ...timeouts, scrubber: this.#config.scrubber, retryable, where });
    };
    const hooks: RetryHooks = {
      resumable: req.resumable === true,
      describeError,
      ...(stats && {
        onAttempt: () => void stats.requests++,
        onRetry: () => void stats.retries++,
      }),
    };
    const options = {
      origin: req.url.origin,
      path: `${req.url.pathname}${req.url.search}`,
      method: req.method,
      headers: { 'user-agent': this.#config.userAgent, ...req.headers },
      // undici takes async iterables too (documented; its typings lag behind).
      body: (req.method === 'GET' || req.method === 'HEAD'
        ? undefined
        : req.body) as Dispatcher.DispatchOptions['body'],
      signal: req.signal,
      headersTimeout: timeouts.idleTimeoutMs,
      bodyTimeout: timeouts.idleTimeoutMs,
      maxRedirections: follow ? MAX_REDIRECTS : 0,
      [RETRY_HOOKS]: hooks,
    } as Dispatcher.RequestOptions;
    let res: Dispatcher.ResponseData;
    try {
      res = await (req.blobPool ? dispatchers.blobs : dispatchers.api).request(options);
    } catch (err) {
      // An abort (the caller's signal, the deadline) and our own errors from a request body pass through.
      if (req.signal?.aborted) throw req.signal.reason ?? err;
      throw describeError(err);
    }
    const history = (res.context as { history?: readonly URL[] } | undefined)?.history;
    const url = history && history.length > 0 ? new URL(String(history[history.length - 1])) : req.url;
    return { status: res.statusCode, headers: res.headers, body: res.body, url };
  }
}
