import { Agent, type Dispatcher, interceptors } from 'undici';
import type { RetryOptions } from './retry.js';
import { retryInterceptor } from './retry-interceptor.js';
import type { ResolvedTimeouts } from './timeouts.js';

export interface DispatchersConfig {
  readonly connections: number;
  readonly retry: Required<RetryOptions>;
  readonly timeouts: ResolvedTimeouts;
  /** A caller's dispatcher (proxies, custom TLS): our interceptors are composed onto it. */
  readonly dispatcher?: Dispatcher;
}

/** Redirects followed per request at most (GET and HEAD only, unless a request asks otherwise). */
export const MAX_REDIRECTS = 10;

/**
 * The HTTP layer below auth: keep-alive undici Agents (one for API calls, one for blob downloads, so
 * a blob streamed from a registry into an upload to the same registry cannot starve), each composed
 * with our retry interceptor and, outermost, undici's redirect interceptor (which drops
 * Authorization and cookies when a redirect leaves the origin). Every redirect hop is retried on its own.
 */
export class Dispatchers {
  readonly api: Dispatcher;
  readonly blobs: Dispatcher;
  /** Origins that answered at least once (a refused connection there is retried: a restart). */
  readonly answered = new Set<string>();
  readonly #owned: Agent[] = [];

  constructor(config: DispatchersConfig) {
    const layers = [
      retryInterceptor({ policy: config.retry, answered: this.answered }),
      interceptors.redirect({ maxRedirections: 0 }),
    ];
    if (config.dispatcher) {
      this.api = config.dispatcher.compose(layers);
      this.blobs = this.api;
      return;
    }
    const make = () => {
      const agent = new Agent({
        connections: config.connections,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        connect: { timeout: config.timeouts.connectTimeoutMs },
        headersTimeout: config.timeouts.idleTimeoutMs,
        bodyTimeout: config.timeouts.idleTimeoutMs,
      });
      this.#owned.push(agent);
      return agent.compose(layers);
    };
    this.api = make();
    this.blobs = make();
  }

  /** True when requests go through our own Agents (HTTP/1.1 clients), not a caller's dispatcher. */
  get owned(): boolean {
    return this.#owned.length > 0;
  }

  async close(): Promise<void> {
    await Promise.all(this.#owned.map((a) => a.close()));
  }
}
