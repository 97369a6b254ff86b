import { setTimeout as delay } from 'node:timers/promises';

export interface RetryOptions {
  /** Retries after the first attempt. Default 5 (so 6 attempts). 0 disables retries. */
  readonly retries?: number;
  /** Delay before the first retry, in ms; doubled each time (`factor`). Default 500. */
  readonly minDelayMs?: number;
  /** Upper bound of one backoff delay, in ms. Default 20 000. */
  readonly maxDelayMs?: number;
  /** Backoff growth factor. Default 2. */
  readonly factor?: number;
  /**
   * Longest `Retry-After` we wait for, in ms. A server asking for longer is not retried: the error
   * comes at once instead of after minutes of waiting. Default 60 000.
   */
  readonly maxRetryAfterMs?: number;
}

/**
 * Defaults: at most 6 attempts per request (0.5 s doubling to 8 s with jitter in between, about 15 s in
 * all), and at most 5 resumes of one upload or download. ggcr (crane) uses 1 s x3 over 3 steps; we
 * allow more attempts because a 10 GB layer upload resumes rather than restarts.
 */
export const DEFAULT_RETRY: Required<RetryOptions> = {
  retries: 5,
  minDelayMs: 500,
  maxDelayMs: 20_000,
  factor: 2,
  maxRetryAfterMs: 60_000,
};

/** 408, 429 and 5xx (except 501 Not Implemented and 505) are worth repeating; no other 4xx is. */
export function isRetryableStatus(status: number): boolean {
  if (status === 408 || status === 429) return true;
  return status >= 500 && status <= 599 && status !== 501 && status !== 505;
}

/**
 * A connection that broke: worth another try on a new one. Timeouts are not here (a registry that
 * stays silent for the idle timeout is not retried: the error comes after one timeout, not six),
 * nor is a refused connection (see isConnectionRefused).
 */
const RETRYABLE_ERROR_CODES = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** The first string `code` along an error's `cause` chain (stops at an AbortError). */
export function errorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if ((e as { name?: unknown }).name === 'AbortError') return undefined;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True for connections broken mid-way (reset, closed by the other side), looking through `cause` chains. */
export function isRetryableNetworkError(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_ERROR_CODES.has(code)) return true;
    const name = (e as { name?: unknown }).name;
    if (name === 'AbortError') return false;
    if ((e as Error).message === 'other side closed' || (e as Error).message === 'terminated') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Nothing listens at the address. Retried only where the origin answered before (a registry
 * restarting); on first contact it fails at once, naming the address.
 */
export function isConnectionRefused(err: unknown): boolean {
  return errorCode(err) === 'ECONNREFUSED';
}

/** A connect, idle (headers or body) timeout: never retried. */
export function isTimeout(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && TIMEOUT_CODES.has(code);
}

/** Whether a `Retry-After` (ms, if any) is short enough to wait for under `options`. */
export function retryAfterAcceptable(
  retryAfterMs: number | undefined,
  options: Required<RetryOptions>,
): boolean {
  return retryAfterMs === undefined || retryAfterMs <= options.maxRetryAfterMs;
}

/** `Retry-After` in ms (delta-seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Delay before retry number `retry` (0-based): exponential backoff with "equal jitter" (between half
 * and all of the backoff), or the server's Retry-After when it asks for longer.
 */
export function backoffDelay(retry: number, options: Required<RetryOptions>, retryAfterMs?: number): number {
  const backoff = Math.min(options.maxDelayMs, options.minDelayMs * options.factor ** retry);
  const jittered = backoff / 2 + Math.random() * (backoff / 2);
  if (retryAfterMs === undefined) return jittered;
  return Math.max(jittered, Math.min(retryAfterMs, options.maxRetryAfterMs));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : undefined);
}

export function resolveRetry(options: RetryOptions | undefined): Required<RetryOptions> {
  return {
    ...DEFAULT_RETRY,
    ...Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined)),
  };
}
