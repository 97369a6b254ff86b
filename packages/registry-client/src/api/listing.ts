import { RegistryError } from '../errors.js';
import type { RequestContext } from '../pull/manifest.js';
import { readAll } from '../transport/body.js';
import { header, type Transport } from '../transport/transport.js';

/** Names asked for per page (`?n=`): distribution's default maximum. */
export const DEFAULT_PAGE_SIZE = 1000;
/** Tags or repositories listed at most, over all pages. */
export const DEFAULT_MAX_LISTED = 100_000;
/** Bytes of one page read at most. */
const MAX_PAGE_BYTES = 16 * 1024 * 1024;

export interface ListOptions extends RequestContext {
  /** Names per page (`n`). Default DEFAULT_PAGE_SIZE. */
  readonly pageSize?: number;
  /** Stop with an error past this many names. Default DEFAULT_MAX_LISTED. */
  readonly max?: number;
}

/** The `<url>; rel="next"` target of a Link header, resolved against the request, on the same origin. */
export function nextPageUrl(link: string | undefined, current: URL, what: string): URL | undefined {
  if (!link) return undefined;
  const m = /<([^>]*)>\s*;[^,]*rel="?next"?/i.exec(link);
  if (!m) return undefined;
  let next: URL;
  try {
    next = new URL(m[1]!, current);
  } catch (cause) {
    throw new RegistryError('IMG_REGISTRY_INVALID_RESPONSE', `${what}: invalid Link header`, { cause });
  }
  if (next.origin !== current.origin) {
    throw new RegistryError(
      'IMG_REGISTRY_INVALID_RESPONSE',
      `${what}: the next page is on another origin (${next.origin}); refused`,
    );
  }
  return next;
}

interface Page {
  readonly url: URL;
  readonly registry: string;
  readonly repository?: string;
  readonly scopes: readonly string[];
  /** `tags` or `repositories`: the array field of the page's JSON body. */
  readonly field: 'tags' | 'repositories';
  readonly what: string;
}

/**
 * Every name of a paginated list (`/tags/list`, `/_catalog`), following `Link: rel="next"` on the
 * registry's own origin, deduplicated, within `max` names; a page that repeats stops the walk.
 */
export async function listAll(
  transport: Transport,
  page: Page,
  options: ListOptions = {},
): Promise<string[]> {
  const max = options.max ?? DEFAULT_MAX_LISTED;
  const seen = new Set<string>();
  const visited = new Set<string>();
  let url: URL | undefined = new URL(page.url);
  url.searchParams.set('n', String(options.pageSize ?? DEFAULT_PAGE_SIZE));
  while (url && !visited.has(url.href)) {
    visited.add(url.href);
    const res = await transport.send({
      method: 'GET',
      url,
      registry: page.registry,
      ...(page.repository !== undefined ? { repository: page.repository } : {}),
      scopes: page.scopes,
      expect: [200],
      what: page.what,
      ...(options.stats ? { stats: options.stats } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const text = (await readAll(res.body, MAX_PAGE_BYTES, page.what)).toString('utf8');
    let names: unknown;
    try {
      names = (JSON.parse(text) as Record<string, unknown>)?.[page.field];
    } catch (cause) {
      throw new RegistryError('IMG_REGISTRY_INVALID_RESPONSE', `${page.what}: invalid JSON`, { cause });
    }
    if (names === null || names === undefined) names = [];
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
      throw new RegistryError(
        'IMG_REGISTRY_INVALID_RESPONSE',
        `${page.what}: "${page.field}" is not a list of strings`,
      );
    }
    for (const n of names as string[]) seen.add(n);
    if (seen.size > max) {
      throw new RegistryError('IMG_REGISTRY_INVALID_RESPONSE', `${page.what}: more than ${max} names`);
    }
    url = nextPageUrl(header(res, 'link'), res.url, page.what);
  }
  return [...seen];
}
