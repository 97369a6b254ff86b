import type { ServerResponse } from 'node:http';
import { MediaType } from '@img/oci-spec';
import type { RegistryContext } from '../context.js';
import { HttpError, nameUnknown } from '../http/http-error.js';
import { digestParam } from '../http/params.js';
import { sendJson } from '../http/respond.js';

export interface Page {
  readonly items: string[];
  /** The `last` of the next page, when there is one. */
  readonly next?: string;
}

/**
 * One page of a sorted list: the items after `last`, at most `n` of them (capped at `maxPageSize`, the
 * default when `n` is absent); `next` is set when more follow. `n=0` is an empty page without a next.
 */
export function paginate(sorted: readonly string[], query: URLSearchParams, maxPageSize: number): Page {
  const nParam = query.get('n');
  if (nParam !== null && !/^\d+$/.test(nParam)) {
    throw new HttpError(400, 'UNSUPPORTED', `n=${JSON.stringify(nParam)}: expected a non-negative integer`);
  }
  const n = nParam === null ? maxPageSize : Math.min(Number(nParam), maxPageSize);
  if (n === 0) return { items: [] };
  const last = query.get('last');
  const rest = last === null ? sorted : sorted.filter((item) => item > last);
  const items = rest.slice(0, n);
  return rest.length > n ? { items, next: items[items.length - 1]! } : { items };
}

function linkHeader(
  path: string,
  query: URLSearchParams,
  page: Page,
  maxPageSize: number,
): Record<string, string> {
  if (page.next === undefined) return {};
  const next = new URLSearchParams({
    n: String(Math.min(Number(query.get('n') ?? maxPageSize), maxPageSize)),
  });
  next.set('last', page.next);
  return { Link: `<${path}?${next.toString()}>; rel="next"` };
}

/** GET /v2/<name>/tags/list[?n=&last=] */
export async function listTags(
  ctx: RegistryContext,
  res: ServerResponse,
  name: string,
  query: URLSearchParams,
): Promise<void> {
  const tags = await ctx.repositories.listTags(name);
  if (tags === undefined) throw nameUnknown(name);
  const page = paginate(tags, query, ctx.limits.maxPageSize);
  const link = linkHeader(`/v2/${name}/tags/list`, query, page, ctx.limits.maxPageSize);
  sendJson(res, 200, { name, tags: page.items }, link);
}

/** GET /v2/_catalog[?n=&last=] */
export async function listRepositories(
  ctx: RegistryContext,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  const page = paginate(await ctx.repositories.listRepositories(), query, ctx.limits.maxPageSize);
  const link = linkHeader('/v2/_catalog', query, page, ctx.limits.maxPageSize);
  sendJson(res, 200, { repositories: page.items }, link);
}

/**
 * GET /v2/<name>/referrers/<digest>[?artifactType=]: an image index of the manifests whose subject is
 * the digest — empty (never a 404) when there are none or the repository is unknown.
 */
export async function listReferrers(
  ctx: RegistryContext,
  res: ServerResponse,
  name: string,
  reference: string,
  query: URLSearchParams,
): Promise<void> {
  const subject = digestParam(reference);
  const artifactType = query.get('artifactType');
  let manifests = (await ctx.repositories.repositoryExists(name))
    ? await ctx.repositories.listReferrers(name, subject)
    : [];
  if (artifactType !== null) manifests = manifests.filter((d) => d.artifactType === artifactType);
  sendJson(
    res,
    200,
    { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests },
    artifactType !== null ? { 'OCI-Filters-Applied': 'artifactType' } : {},
    MediaType.OciIndex,
  );
}
