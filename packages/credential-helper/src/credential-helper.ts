import {
  type CredentialHeaders,
  type GetCredentialHeadersOptions,
  getCredentialHeaders,
} from './get-headers.js';

export interface CredentialHelperOptions extends Omit<GetCredentialHeadersOptions, 'signal'> {
  /**
   * How long an answer without `expires` is reused, in ms. Default DEFAULT_CREDENTIAL_CACHE_MS
   * (Bazel's `--credential_helper_cache_duration`).
   */
  readonly cacheDurationMs?: number;
  /** Clock, for tests. Default Date.now. */
  readonly now?: () => number;
}

/** Bazel's default `--credential_helper_cache_duration` (30 minutes). */
export const DEFAULT_CREDENTIAL_CACHE_MS = 30 * 60_000;

export type HeaderMap = Readonly<Record<string, readonly string[]>>;

/** A configured helper: headers for a URI, answered from a cache until they expire. */
export interface CredentialHelper {
  /** The helper executable. */
  readonly helper: string;
  /** Headers for `uri` (lower-case names); `{}` when the helper has none. */
  headersFor(uri: string, options?: { signal?: AbortSignal }): Promise<HeaderMap>;
  /** Forgets every cached answer (e.g. after the server rejected the credentials). */
  clear(): void;
}

interface Entry {
  readonly answer: Promise<CredentialHeaders>;
  readonly fetchedAt: number;
  value?: CredentialHeaders;
}

/**
 * Wraps a Bazel-protocol credential helper: one run per URI until the answer expires (at `expires`, or
 * after cacheDurationMs when the helper gives none); concurrent requests for one URI share one run, and
 * a caller's signal stops only that caller's wait.
 */
export function createCredentialHelper(
  helper: string,
  options: CredentialHelperOptions = {},
): CredentialHelper {
  const { now = Date.now, cacheDurationMs = DEFAULT_CREDENTIAL_CACHE_MS, ...runOptions } = options;
  const cache = new Map<string, Entry>();
  const isFresh = (entry: Entry) =>
    entry.value === undefined || now() < (entry.value.expiresAt ?? entry.fetchedAt + cacheDurationMs);

  const start = (uri: string): Entry => {
    const entry: Entry = { answer: getCredentialHeaders(helper, uri, runOptions), fetchedAt: now() };
    entry.answer.then(
      (value) => {
        entry.value = value;
      },
      () => {
        if (cache.get(uri) === entry) cache.delete(uri);
      },
    );
    cache.set(uri, entry);
    return entry;
  };

  return {
    helper,
    async headersFor(uri, callOptions = {}) {
      let entry = cache.get(uri);
      if (entry === undefined || !isFresh(entry)) entry = start(uri);
      return (await abortable(entry.answer, callOptions.signal)).headers;
    },
    clear() {
      cache.clear();
    },
  };
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
