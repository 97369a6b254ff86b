import { type BlobLocation, type Descriptor, type Digest, walkDocuments } from '@img/oci-spec';
import {
  type PushSummary,
  type Reference,
  type RegistryClient,
  referrerDescriptor,
} from '@img/registry-client';

/** How deep referrers of referrers are followed (an SBOM's signature's attestation...). */
export const MAX_REFERRER_DEPTH = 4;

/** A referrer copied to the destination. */
export interface CopiedReferrer {
  readonly subject: Digest;
  readonly digest: Digest;
  readonly artifactType?: string;
  /** How the destination lists it: its referrers API, or the fallback tag img wrote. */
  readonly listedVia: 'api' | 'tag';
}

export interface CopyReferrersOptions {
  readonly signal?: AbortSignal;
  /** Each referrer's push summary, to add up. */
  readonly onPushed?: (summary: PushSummary) => void;
}

/**
 * Copy the referrers of every manifest in `subjects` (and theirs, MAX_REFERRER_DEPTH deep) from the
 * source repository to the destination, each once by digest: the referrer's manifest, config and
 * layers (mounted or streamed like any push), then, where the destination has no referrers API, an
 * entry in the subject's fallback tag index (`sha256-<hex>`), as the distribution spec asks of clients.
 */
export async function copyReferrers(
  client: RegistryClient,
  from: BlobLocation,
  to: Reference,
  subjects: readonly Digest[],
  options: CopyReferrersOptions = {},
): Promise<CopiedReferrer[]> {
  const copied: CopiedReferrer[] = [];
  const seen = new Set<string>(subjects);
  let level = [...subjects];
  for (let depth = 0; depth < MAX_REFERRER_DEPTH && level.length > 0; depth++) {
    const next: Digest[] = [];
    for (const subject of level) {
      const { descriptors } = await client.referrers({ ...from, digest: subject }, options);
      for (const d of descriptors) {
        if (seen.has(d.digest)) continue;
        seen.add(d.digest);
        copied.push(await copyOne(client, from, to, subject, d, options));
        next.push(d.digest);
      }
    }
    level = next;
  }
  return copied;
}

async function copyOne(
  client: RegistryClient,
  from: BlobLocation,
  to: Reference,
  subject: Digest,
  referrer: Descriptor,
  options: CopyReferrersOptions,
): Promise<CopiedReferrer> {
  const graph = await client.pullImage({ ...from, digest: referrer.digest }, options);
  // Every blob of the referrer (its config too) can be mounted from, or streamed out of, the source.
  const locations = new Map(graph.locations);
  for (const doc of walkDocuments(graph)) {
    if (doc.kind === 'manifest') locations.set(doc.manifest.config.digest, [from]);
  }
  const pushed = await client.pushImage(
    { registry: to.registry, repository: to.repository, digest: referrer.digest },
    { ...graph, locations },
    options,
  );
  options.onPushed?.(pushed.summary);
  const dest = { registry: to.registry, repository: to.repository };
  const listed = await client.referrers({ ...dest, digest: subject }, options);
  let listedVia: 'api' | 'tag' = listed.via;
  if (listed.via === 'tag' || !listed.descriptors.some((d) => d.digest === referrer.digest)) {
    const doc = { descriptor: graph.resolved, bytes: graph.documents.get(referrer.digest)! };
    await client.addReferrerToTagIndex(dest, subject, referrerDescriptor(doc), options);
    listedVia = 'tag';
  }
  return {
    subject,
    digest: referrer.digest,
    ...(referrer.artifactType ? { artifactType: referrer.artifactType } : {}),
    listedVia,
  };
}
