import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';

export interface RetryOptions {
  /** Attempts per call, the first included. Default 6 (Bazel's `--remote_retries=5` plus the first). */
  readonly attempts?: number;
  /** Delay before the first retry, doubled per retry with ±25% jitter. Default 100 ms. */
  readonly initialDelayMs?: number;
  /** Upper bound of a retry delay. Default 5 s. */
  readonly maxDelayMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 6, initialDelayMs: 100, maxDelayMs: 5_000 };

/** The gRPC codes worth another attempt: the server or the network may be fine a moment later. */
const RETRYABLE = new Set<number>([status.UNAVAILABLE, status.RESOURCE_EXHAUSTED, status.DEADLINE_EXCEEDED]);

export function isRetryableCode(code: number | undefined): boolean {
  return code !== undefined && RETRYABLE.has(code);
}

export function grpcCodeOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** Sleep before retry number `retry` (1-based); rejects when `signal` aborts. */
export function backoff(retry: number, options: Required<RetryOptions>, signal?: AbortSignal): Promise<void> {
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** (retry - 1));
  const jittered = base * (0.75 + Math.random() * 0.5);
  return sleep(jittered, undefined, { signal }).catch((err: unknown) => {
    throw signal?.aborted ? signal.reason : err;
  });
}

/**
 * Run `attempt` until it succeeds, fails with a code that is not retryable, or the attempts are used
 * up. `onRetry` sees each error that will be retried.
 */
export async function withRetry<T>(
  attempt: (n: number) => Promise<T>,
  options: Required<RetryOptions>,
  signal?: AbortSignal,
): Promise<T> {
  for (let n = 1; ; n++) {
    signal?.throwIfAborted();
    try {
      return await attempt(n);
    } catch (err) {
      if (signal?.aborted || n >= options.attempts || !isRetryableCode(grpcCodeOf(err))) throw err;
      await backoff(n, options, signal);
    }
  }
}
