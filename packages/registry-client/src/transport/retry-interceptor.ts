import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { publishRequest, publishRetry } from '../diagnostics.js';
import { redactUrl } from '../redact.js';
import { ProxyController } from './proxy-controller.js';
import {
  backoffDelay,
  isConnectionRefused,
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
  type RetryOptions,
  retryAfterAcceptable,
} from './retry.js';
import { isReplayable } from './sender.js';

/** Per-request hooks, passed in the dispatch options under this key (stripped before the request). */
export const RETRY_HOOKS = 'imgRetry';

export interface RetryHooks {
  /** A GET body cut mid-way is resumed with `Range` (content-addressed blobs only). */
  readonly resumable?: boolean;
  /** Each request sent (first attempt, retries, resumes). */
  readonly onAttempt?: () => void;
  /** A request about to be repeated. */
  readonly onRetry?: (event: { attempt: number; delayMs: number; reason: string }) => void;
  /** The error handed downstream when the request fails for good (not for the caller's own abort). */
  readonly describeError?: (err: Error, bodyBytes: number | undefined) => Error;
}

export interface RetryInterceptorOptions {
  readonly policy: Required<RetryOptions>;
  /** Origins that answered before: a refused connection there is a restart, worth a retry. */
  readonly answered: Set<string>;
}

/** An error response body read past this is not worth draining: the connection is dropped instead. */
const MAX_DISCARDED_BYTES = 64 * 1024;

type DispatchOptions = Dispatcher.DispatchOptions & {
  [RETRY_HOOKS]?: RetryHooks;
  maxRedirections?: number;
};

/**
 * The one retry layer, as an undici interceptor (dispatch => dispatch). A request with a replayable
 * body (none, a string, bytes) is repeated on 408/429/5xx (honouring Retry-After up to
 * `maxRetryAfterMs`; longer is not retried) and on broken connections, `retries` times at most, with
 * jittered exponential backoff; a retryable error response is discarded unread past 64 KiB. A
 * resumable GET whose body breaks is continued with `Range` from the byte it stopped at (a 200 instead
 * of 206 is skipped up to there). Never retried: other 4xx, timeouts, refused connections to an
 * origin that never answered, streamed bodies, aborted requests.
 */
export function retryInterceptor(options: RetryInterceptorOptions): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) =>
    function retrying(opts, handler) {
      const { [RETRY_HOOKS]: hooks, maxRedirections, ...rest } = opts as DispatchOptions;
      return new RetryingRequest(dispatch, rest, handler, options, hooks ?? {}, maxRedirections).start();
    };
}

class RetryingRequest implements Dispatcher.DispatchHandler {
  readonly #dispatch: Dispatcher.Dispatch;
  readonly #opts: Dispatcher.DispatchOptions;
  readonly #handler: Dispatcher.DispatchHandler;
  readonly #options: RetryInterceptorOptions;
  readonly #hooks: RetryHooks;
  readonly #proxy: ProxyController;
  readonly #origin: string;
  readonly #replayable: boolean;
  #attempt = 0;
  #attemptStarted = 0;
  #answeredThisAttempt = false;
  #requestStarted = false;
  /** The downstream handler has the response (headers); later attempts only continue its body. */
  #started = false;
  #delivered = 0;
  #skip = 0;
  /** Set while the current response is swallowed because the request will be repeated. */
  #discarding: { reason: string; retryAfterMs?: number } | undefined;
  #discarded = 0;
  #timer: NodeJS.Timeout | undefined;
  #done = false;

  constructor(
    dispatch: Dispatcher.Dispatch,
    opts: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
    options: RetryInterceptorOptions,
    hooks: RetryHooks,
    maxRedirections: number | undefined,
  ) {
    this.#dispatch = dispatch;
    // A maxRedirections of 0 (redirects off) passes through the redirect interceptor to here.
    this.#opts = maxRedirections ? ({ ...opts, maxRedirections } as Dispatcher.DispatchOptions) : opts;
    this.#handler = handler;
    this.#options = options;
    this.#hooks = hooks;
    this.#origin = String(opts.origin);
    this.#replayable = isReplayable(opts.body);
    this.#proxy = new ProxyController((reason) => this.#abortBetweenAttempts(reason));
  }

  start(): boolean {
    this.#hooks.onAttempt?.();
    this.#attemptStarted = Date.now();
    return this.#dispatch(this.#opts, this);
  }

  get #url(): string {
    return redactUrl(`${this.#origin}${this.#opts.path}`);
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#proxy.attach(controller);
    if (this.#requestStarted) return;
    this.#requestStarted = true;
    this.#handler.onRequestStart?.(this.#proxy, context);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    status: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    if (status < 200) {
      if (!this.#started) this.#handler.onResponseStart?.(this.#proxy, status, headers, statusMessage);
      return;
    }
    this.#answeredThisAttempt = true;
    this.#options.answered.add(this.#origin);
    publishRequest({
      method: this.#opts.method,
      url: this.#url,
      status,
      durationMs: Date.now() - this.#attemptStarted,
    });
    const retryAfterMs = parseRetryAfter(first(headers['retry-after']));
    const canRepeat = this.#replayable || this.#started;
    if (
      isRetryableStatus(status) &&
      canRepeat &&
      this.#attempt < this.#options.policy.retries &&
      retryAfterAcceptable(retryAfterMs, this.#options.policy)
    ) {
      this.#discarding = { reason: `HTTP ${status}`, retryAfterMs };
      this.#discarded = 0;
      return;
    }
    if (!this.#started) {
      this.#started = true;
      this.#handler.onResponseStart?.(this.#proxy, status, headers, statusMessage);
      return;
    }
    // A resumed body: 206 from where we stopped, or 200 from the start (the server ignored Range).
    if (status === 206 && rangeStart(first(headers['content-range'])) === this.#delivered) {
      this.#skip = 0;
    } else if (status === 200) {
      this.#skip = this.#delivered;
    } else {
      controller.abort(new Error(`resuming the body at byte ${this.#delivered}: HTTP ${status}`));
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#discarding) {
      this.#discarded += chunk.length;
      if (this.#discarded > MAX_DISCARDED_BYTES) controller.abort(new Error('error body discarded'));
      return;
    }
    let data = chunk;
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, data.length);
      this.#skip -= n;
      data = data.subarray(n);
      if (data.length === 0) return;
    }
    this.#delivered += data.length;
    this.#handler.onResponseData?.(this.#proxy, data);
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    if (this.#discarding) {
      this.#retry(this.#discarding.reason, this.#discarding.retryAfterMs);
      return;
    }
    if (this.#skip > 0) {
      this.#fail(new Error(`resumed body ended before byte ${this.#delivered}`));
      return;
    }
    this.#done = true;
    this.#handler.onResponseEnd?.(this.#proxy, trailers);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.#done) return;
    if (!this.#answeredThisAttempt) {
      publishRequest({
        method: this.#opts.method,
        url: this.#url,
        durationMs: Date.now() - this.#attemptStarted,
        error: String(err),
      });
    }
    if (this.#proxy.abortedByCaller) {
      this.#fail(err);
      return;
    }
    if (this.#discarding) {
      this.#retry(this.#discarding.reason, this.#discarding.retryAfterMs);
      return;
    }
    const broken =
      isRetryableNetworkError(err) || (isConnectionRefused(err) && this.#options.answered.has(this.#origin));
    const repeatable = this.#started
      ? this.#hooks.resumable === true && this.#opts.method === 'GET'
      : this.#replayable;
    if (broken && repeatable && this.#attempt < this.#options.policy.retries) {
      this.#retry(`${this.#started ? 'body interrupted' : 'connection error'}: ${err.message}`);
      return;
    }
    this.#fail(err);
  }

  #retry(reason: string, retryAfterMs?: number): void {
    const delayMs = backoffDelay(this.#attempt, this.#options.policy, retryAfterMs);
    this.#attempt++;
    this.#discarding = undefined;
    this.#answeredThisAttempt = false;
    this.#hooks.onRetry?.({ attempt: this.#attempt, delayMs, reason });
    publishRetry({
      method: this.#opts.method,
      url: this.#url,
      attempt: this.#attempt,
      delayMs: Math.round(delayMs),
      reason,
    });
    this.#proxy.target = undefined;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const opts = this.#started
        ? { ...this.#opts, headers: withRange(this.#opts.headers, this.#delivered) }
        : this.#opts;
      this.#hooks.onAttempt?.();
      this.#attemptStarted = Date.now();
      try {
        this.#dispatch(opts, this);
      } catch (err) {
        this.#fail(err as Error);
      }
    }, delayMs);
  }

  /** The caller aborted: true when it happened between attempts (the request ends here). */
  #abortBetweenAttempts(reason: Error): boolean {
    if (this.#timer === undefined) return false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#fail(reason);
    return true;
  }

  #fail(err: Error): void {
    if (this.#done) return;
    this.#done = true;
    const { describeError } = this.#hooks;
    const final =
      describeError && !this.#proxy.abortedByCaller
        ? describeError(err, this.#started ? this.#delivered : undefined)
        : err;
    this.#handler.onResponseError?.(this.#proxy, final);
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `bytes 100-199/200` -> 100. */
function rangeStart(value: string | undefined): number | undefined {
  const m = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(value?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}

function withRange(headers: Dispatcher.DispatchOptions['headers'], offset: number): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers && !Array.isArray(headers) && typeof headers === 'object') {
    for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
      if (typeof v === 'string' && k.toLowerCase() !== 'range') out[k] = v;
    }
  }
  if (offset > 0) out.range = `bytes=${offset}-`;
  return out;
}
