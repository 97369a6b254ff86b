import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  DEFAULT_RETRY,
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
} from './retry.js';

describe('retry policy', () => {
  it('retries 408, 429 and 5xx but not 501, 505 or 4xx', () => {
    expect([408, 429, 500, 502, 503, 504, 522].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 409, 416, 501, 505].some(isRetryableStatus)).toBe(false);
  });

  it('recognises connection failures through cause chains', () => {
    expect(isRetryableNetworkError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(
      isRetryableNetworkError(
        new Error('wrapped', { cause: Object.assign(new Error('y'), { code: 'UND_ERR_SOCKET' }) }),
      ),
    ).toBe(true);
    expect(isRetryableNetworkError(Object.assign(new Error('aborted'), { name: 'AbortError' }))).toBe(false);
    expect(isRetryableNetworkError(new Error('bad digest'))).toBe(false);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('backs off exponentially with jitter, capped, and waits at least Retry-After (capped too)', () => {
    const o = { ...DEFAULT_RETRY, minDelayMs: 100, maxDelayMs: 1000, factor: 2, maxRetryAfterMs: 5000 };
    for (let i = 0; i < 50; i++) {
      const d0 = backoffDelay(0, o);
      expect(d0).toBeGreaterThanOrEqual(50);
      expect(d0).toBeLessThanOrEqual(100);
      const d3 = backoffDelay(3, o);
      expect(d3).toBeGreaterThanOrEqual(400);
      expect(d3).toBeLessThanOrEqual(800);
      expect(backoffDelay(10, o)).toBeLessThanOrEqual(1000);
    }
    expect(backoffDelay(0, o, 3000)).toBe(3000);
    expect(backoffDelay(0, o, 60_000)).toBe(5000);
  });
});
