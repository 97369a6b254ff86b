import {
  asIndex,
  type BlobLocation,
  canonicalJsonBytes,
  type Descriptor,
  type Digest,
  digestAlgorithm,
  digestHex,
  MediaType,
  parseDigest,
  parseJson,
  sha256Digest,
} from '@img/oci-spec';
import { pullScope, pushScope } from '../auth/scopes.js';
import { RegistryError } from '../errors.js';
import { fetchManifest, type RawDocument, type RequestContext } from '../pull/manifest.js';
import { putManifest } from '../push/push-manifest.js';
import { dump, readAll } from '../transport/body.js';
import { header, type Transport } from '../transport/transport.js';
import { nextPageUrl } from './listing.js';

/** Referrers of one subject listed at most (API pages and the fallback tag together). */
export const MAX_REFERRERS = 10_000;

/** How a registry told us about referrers: its referrers API, or the fallback tag (`sha256-<hex>`). */
export type ReferrersSource = 'api' | 'tag';

export interface ReferrersList {
  readonly descriptors: readonly Descriptor[];
  readonly via: ReferrersSource;
}

/** The referrers tag schema's tag for a subject: `<algorithm>-<hex>`, at most 128 characters. */
export function referrersTag(subject: Digest): string {
  const d = parseDigest(subject, 'referrers subject');
  return `${digestAlgorithm(d)}-${digestHex(d)}`.slice(0, 128);
}

/** The descriptor a referrers list holds for a manifest (artifactType, annotations). */
export function referrerDescriptor(doc: RawDocument): Descriptor {
  const m = parseJson(doc.bytes, doc.descriptor.digest) as {
    artifactType?: string;
    config?: { mediaType?: string };
    annotations?: Record<string, string>;
  };
  const artifactType = m.artifactType ?? m.config?.mediaType;
  return {
    mediaType: doc.descriptor.mediaType,
    digest: doc.descriptor.digest,
    size: doc.descriptor.size,
    ...(artifactType ? { artifactType } : {}),
    ...(m.annotations ? { annotations: m.annotations } : {}),
  };
}

function referrersUrl(transport: Transport, at: BlobLocation, subject: Digest): URL {
  parseDigest(subject, `${at.registry}/${at.repository}: referrers subject`);
  return new URL(`${transport.endpoints(at.registry).base}/v2/${at.repository}/referrers/${subject}`);
}

/** The referrers API's list, or undefined when the registry has no such API (404 and the like). */
async function referrersFromApi(
  transport: Transport,
  at: BlobLocation,
  subject: Digest,
  maxBytes: number,
  ctx: RequestContext,
): Promise<Descriptor[] | undefined> {
  const what = `GET referrers ${at.registry}/${at.repository}@${subject}`;
  const out: Descriptor[] = [];
  const visited = new Set<string>();
  let url: URL | undefined = referrersUrl(transport, at, subject);
  while (url && !visited.has(url.href)) {
    visited.add(url.href);
    const res = await transport.send({
      method: 'GET',
      url,
      registry: at.registry,
      repository: at.repository,
      scopes: [pullScope(at.repository)],
      headers: { accept: MediaType.OciIndex },
      expect: [200, 400, 404, 405],
      what: 'GET referrers',
      ...ctx,
    });
    const type = header(res, 'content-type')?.split(';')[0]?.trim();
    if (res.status !== 200 || (out.length === 0 && type !== MediaType.OciIndex)) {
      await dump(res.body);
      return undefined;
    }
    const index = asIndex(parseJson(await readAll(res.body, maxBytes, what), what), what);
    out.push(...index.manifests);
    if (out.length > MAX_REFERRERS)
      throw new RegistryError(
        'IMG_REGISTRY_INVALID_RESPONSE',
        `${what}: more than ${MAX_REFERRERS} referrers`,
      );
    url = nextPageUrl(header(res, 'link'), res.url, what);
  }
  return out;
}

/** The fallback tag's index, or undefined when the tag does not exist. */
async function referrersTagIndex(
  transport: Transport,
  at: BlobLocation,
  subject: Digest,
  maxBytes: number,
  ctx: RequestContext,
): Promise<Descriptor[] | undefined> {
  const ref = { registry: at.registry, repository: at.repository, tag: referrersTag(subject) };
  try {
    const doc = await fetchManifest(transport, ref, maxBytes, ctx);
    const where = `${at.registry}/${at.repository}:${ref.tag}`;
    return [...asIndex(parseJson(doc.bytes, where), where).manifests];
  } catch (err) {
    if (err instanceof RegistryError && err.code === 'IMG_REGISTRY_NOT_FOUND') return undefined;
    throw err;
  }
}

/**
 * The manifests whose `subject` is `subject` in a repository: from the referrers API, or, where the
 * registry has none, from the referrers tag schema's index (`sha256-<hex>`), as the spec says.
 */
export async function listReferrers(
  transport: Transport,
  at: BlobLocation,
  subject: Digest,
  maxBytes: number,
  ctx: RequestContext = {},
): Promise<ReferrersList> {
  const api = await referrersFromApi(transport, at, subject, maxBytes, ctx);
  if (api) return { descriptors: api, via: 'api' };
  return { descriptors: (await referrersTagIndex(transport, at, subject, maxBytes, ctx)) ?? [], via: 'tag' };
}

/**
 * Record a pushed referrer in the subject's fallback tag index (for a registry without the referrers
 * API): the index under `sha256-<hex>` gains the referrer's descriptor unless it already lists it.
 * Returns true when the index was written.
 */
export async function addToReferrersTag(
  transport: Transport,
  at: BlobLocation,
  subject: Digest,
  referrer: Descriptor,
  maxBytes: number,
  ctx: RequestContext = {},
): Promise<boolean> {
  const repo = { registry: at.registry, repository: at.repository };
  const current = (await referrersTagIndex(transport, repo, subject, maxBytes, ctx)) ?? [];
  if (current.some((d) => d.digest === referrer.digest)) return false;
  const index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [...current, referrer] };
  const bytes = canonicalJsonBytes(index, 'index');
  const doc: RawDocument = {
    descriptor: { mediaType: MediaType.OciIndex, digest: sha256Digest(bytes), size: bytes.length },
    bytes,
  };
  await putManifest(transport, repo, doc, referrersTag(subject), {
    ...ctx,
    scopes: [pushScope(repo.repository)],
  });
  return true;
}
