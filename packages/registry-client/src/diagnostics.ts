import diagnosticsChannel from 'node:diagnostics_channel';
import { debuglog } from 'node:util';

/**
 * Observability without logging: subscribe with `diagnostics_channel.subscribe(name, fn)`.
 * Messages never contain credentials (URLs are redacted).
 */
export const CHANNELS = {
  /** One HTTP request finished: `{ method, url, status?, durationMs, error? }`. */
  request: 'img:registry:request',
  /** A request will be repeated: `{ method, url, attempt, delayMs, reason }`. */
  retry: 'img:registry:retry',
  /** Push progress, the same events as `onProgress`. */
  push: 'img:push:blob',
} as const;

const requestChannel = diagnosticsChannel.channel(CHANNELS.request);
const retryChannel = diagnosticsChannel.channel(CHANNELS.retry);
const pushChannel = diagnosticsChannel.channel(CHANNELS.push);

/** `NODE_DEBUG=img` prints a line per request, retry and blob decision. */
export const debug = debuglog('img');

export interface RequestMessage {
  readonly method: string;
  readonly url: string;
  readonly status?: number;
  readonly durationMs: number;
  readonly error?: string;
}

export function publishRequest(message: RequestMessage): void {
  if (requestChannel.hasSubscribers) requestChannel.publish(message);
  debug(
    '%s %s -> %s (%d ms)',
    message.method,
    message.url,
    message.status ?? message.error,
    message.durationMs,
  );
}

export interface RetryMessage {
  readonly method: string;
  readonly url: string;
  readonly attempt: number;
  readonly delayMs: number;
  readonly reason: string;
}

export function publishRetry(message: RetryMessage): void {
  if (retryChannel.hasSubscribers) retryChannel.publish(message);
  debug(
    'retry %d of %s %s in %d ms: %s',
    message.attempt,
    message.method,
    message.url,
    message.delayMs,
    message.reason,
  );
}

export function publishPush(message: object): void {
  if (pushChannel.hasSubscribers) pushChannel.publish(message);
}
