import type { Digest } from '@img/oci-spec';
import { RegistryError } from '../errors.js';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function hostOf(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(0, registry.indexOf(']') + 1);
  const colon = registry.indexOf(':');
  return colon >= 0 ? registry.slice(0, colon) : registry;
}

/**
 * Plain HTTP for loopback registries (localhost, 127.0.0.1, [::1], any port) and for those named in
 * `insecure` (host or host:port, or `true` for every registry); HTTPS otherwise.
 */
export function registryScheme(registry: string, insecure: boolean | readonly string[]): 'http' | 'https' {
  if (insecure === true) return 'http';
  if (LOOPBACK_HOSTS.has(hostOf(registry).toLowerCase())) return 'http';
  if (Array.isArray(insecure)) {
    const lower = registry.toLowerCase();
    if (insecure.some((r) => r.toLowerCase() === lower || r.toLowerCase() === hostOf(lower))) return 'http';
  }
  return 'https';
}

/** Builds the /v2/ URLs of one registry. */
export class Endpoints {
  readonly base: string;

  constructor(registry: string, insecure: boolean | readonly string[]) {
    this.base = `${registryScheme(registry, insecure)}://${registry}`;
  }

  ping(): URL {
    return new URL(`${this.base}/v2/`);
  }

  manifest(repository: string, reference: string): URL {
    return new URL(`${this.base}/v2/${repository}/manifests/${encodeURIComponent(reference)}`);
  }

  blob(repository: string, digest: Digest): URL {
    return new URL(`${this.base}/v2/${repository}/blobs/${digest}`);
  }

  uploads(repository: string, mount?: { digest: Digest; from: string }): URL {
    const url = new URL(`${this.base}/v2/${repository}/blobs/uploads/`);
    if (mount) {
      url.searchParams.set('mount', mount.digest);
      url.searchParams.set('from', mount.from);
    }
    return url;
  }

  tags(repository: string): URL {
    return new URL(`${this.base}/v2/${repository}/tags/list`);
  }
}

/**
 * Resolve a `Location` header against the URL of the request that returned it; an absolute
 * Location is used as is, a relative one keeps its own query (`_state=...`).
 */
export function resolveLocation(location: string | undefined, requestUrl: URL, what: string): URL {
  if (location === undefined || location.trim() === '') {
    throw new RegistryError('IMG_REGISTRY_INVALID_RESPONSE', `${what}: the registry sent no Location header`);
  }
  try {
    return new URL(location.trim(), requestUrl);
  } catch (cause) {
    throw new RegistryError('IMG_REGISTRY_INVALID_RESPONSE', `${what}: invalid Location header`, { cause });
  }
}

/** A copy of `url` with `key=value` appended to its query (existing parameters are kept). */
export function withQuery(url: URL, key: string, value: string): URL {
  // Appended textually: re-serialising through URLSearchParams could re-encode opaque values.
  const out = new URL(url);
  const pair = `${encodeURIComponent(key)}=${encodeURIComponent(value)}`;
  out.search = out.search.length > 1 ? `${out.search}&${pair}` : `?${pair}`;
  return out;
}
