import {
  type AbortOptions,
  type BlobLocation,
  type Descriptor,
  type GraphLimits,
  type ImageGraph,
  isIndex,
  type ProgressOptions,
} from '@img/oci-spec';
import { pullScope, pushScope } from '../auth/scopes.js';
import { RegistryError } from '../errors.js';
import { mapLimit } from '../limit.js';
import type { UploadMode } from '../options.js';
import { formatReference, type Reference, sameRegistry, toReference } from '../reference.js';
import type { RequestStats, Transport } from '../transport/transport.js';
import type { BlobLocations } from './blob-locations.js';
import { type BlobToPush, checkPushImage } from './check-image.js';
import { emptySummary, type PushSummary, progressEmitter, pushDone } from './progress.js';
import { type BlobPushContext, pushBlob } from './push-blob.js';
import { manifestDigestAt, putManifest } from './push-manifest.js';

export interface PushOptions extends GraphLimits, AbortOptions, ProgressOptions {
  /** Tags to point at the root besides the target reference's own tag. Default none. */
  readonly tags?: readonly string[];
}

export interface PushResult {
  /** The root's descriptor. */
  readonly descriptor: Descriptor;
  /** `registry/repository@digest` of what was pushed. */
  readonly reference: Reference;
  /** Tags now pointing at it. */
  readonly tags: readonly string[];
  readonly summary: PushSummary;
}

export interface PushConfig {
  readonly jobs: number;
  readonly uploadMode: UploadMode;
  readonly chunkSize: number;
  readonly verifyUploads: boolean;
  readonly blobLocations?: BlobLocations;
}

/**
 * Push an image: nothing but the tags that name something else when a tag already names the root;
 * else blobs first (largest first, `jobs` at a time: HEAD, mount, upload), then child manifests, then
 * the index or manifest root under each tag (or by digest when there is none).
 */
export async function pushImage(
  transport: Transport,
  config: PushConfig,
  target: Reference,
  image: ImageGraph,
  options: PushOptions = {},
): Promise<PushResult> {
  const started = Date.now();
  const plan = checkPushImage(image, options);
  const blobs = await withRememberedLocations(plan.blobs, target, config.blobLocations);
  const root = plan.root;
  if (target.digest && target.digest !== root.descriptor.digest) {
    throw new RegistryError(
      'IMG_REGISTRY_INVALID_IMAGE',
      `push target ${formatReference(target)} names a digest other than the image's ${root.descriptor.digest}`,
    );
  }
  const tags = [...new Set([...(target.tag ? [target.tag] : []), ...(options.tags ?? [])])];
  for (const tag of tags) toReference({ ...target, tag, digest: undefined });

  const summary = emptySummary();
  const stats: RequestStats = { requests: 0, retries: 0 };
  const emit = progressEmitter(options.onProgress);
  const dest: BlobLocation = { registry: target.registry, repository: target.repository };
  // The push scope first (some token servers read only the first), then pull on every mount source.
  const mountSources = blobs
    .flatMap((b) => b.locations)
    .filter((s) => sameRegistry(s.registry, dest.registry) && s.repository !== dest.repository)
    .map((s) => pullScope(s.repository));
  const scopes = [pushScope(dest.repository), ...new Set(mountSources)];
  const ctx = { stats, signal: options.signal, scopes };
  const blobCtx: BlobPushContext = {
    transport,
    target: dest,
    scopes,
    stats,
    signal: options.signal,
    mode: config.uploadMode,
    chunkSize: config.chunkSize,
    verifyUploads: config.verifyUploads,
    emit,
    refusedMountSources: new Set(),
    onBytesSent: (n) => {
      summary.bytesUploaded += n;
    },
  };

  async function finish(): Promise<PushResult> {
    await config.blobLocations
      ?.record(
        dest.registry,
        dest.repository,
        blobs.map((b) => b.descriptor.digest),
      )
      .catch(() => {});
    summary.requests = stats.requests;
    summary.retries = stats.retries;
    summary.durationMs = Date.now() - started;
    return {
      descriptor: root.descriptor,
      reference: { registry: dest.registry, repository: dest.repository, digest: root.descriptor.digest },
      tags,
      summary,
    };
  }

  const put = async (doc: typeof root, reference: string) => {
    await putManifest(transport, dest, doc, reference, ctx);
    summary.manifestsPushed++;
    const { descriptor } = doc;
    const kind = isIndex(descriptor.mediaType) ? 'index' : 'manifest';
    emit(pushDone(kind, descriptor, 'uploaded', { reference }));
  };
  // crane's shortcut: where a tag (or the digest) already names the root, the registry holds the root
  // and so everything it references; only the tags that name something else are put. Otherwise the
  // HEAD costs one round trip before the blobs, as it does for crane.
  const references = tags.length > 0 ? tags : [root.descriptor.digest];
  const current = await mapLimit(references, config.jobs, (r) => manifestDigestAt(transport, dest, r, ctx));
  const stale = references.filter((_, i) => current[i] !== root.descriptor.digest);
  if (stale.length < references.length) {
    for (const { descriptor, kind = 'layer' } of blobs) emit(pushDone(kind, descriptor, 'skipped'));
    summary.blobsSkipped = blobs.length;
    await mapLimit(stale, config.jobs, (tag) => put(root, tag));
    return finish();
  }

  // Largest first: the last blob to start then is a small one, so the uploads end together instead of
  // one big upload running alone at the end (the registry hashes each upload on one core).
  const bySize = [...blobs].sort((a, b) => b.descriptor.size - a.descriptor.size);
  const outcomes = await mapLimit(bySize, config.jobs, (blob) => pushBlob(blobCtx, blob));
  for (const o of outcomes) {
    if (o === 'uploaded') summary.blobsUploaded++;
    else if (o === 'mounted') summary.blobsMounted++;
    else summary.blobsSkipped++;
  }

  const children = plan.manifests;
  // Image manifests are independent of each other; nested indexes follow in the given order.
  await mapLimit(
    children.filter((d) => !isIndex(d.descriptor.mediaType)),
    config.jobs,
    (doc) => put(doc, doc.descriptor.digest),
  );
  for (const doc of children.filter((d) => isIndex(d.descriptor.mediaType)))
    await put(doc, doc.descriptor.digest);
  await put(root, references[0]!);
  await mapLimit(references.slice(1), config.jobs, (tag) => put(root, tag));
  return finish();
}

/**
 * Add, after each blob's own locations, the repositories of the destination registry where it was
 * pushed before (from `locations`): pushBlob mounts from the first same-registry location it may use.
 */
async function withRememberedLocations(
  blobs: readonly BlobToPush[],
  target: Reference,
  locations: BlobLocations | undefined,
): Promise<BlobToPush[]> {
  if (!locations) return [...blobs];
  return Promise.all(
    blobs.map(async (blob) => {
      const repos = await locations.lookup(target.registry, blob.descriptor.digest).catch(() => []);
      const remembered = repos
        .filter((r) => r !== target.repository)
        .map((repository) => ({ registry: target.registry, repository }));
      if (remembered.length === 0) return blob;
      return { ...blob, locations: [...blob.locations, ...remembered] };
    }),
  );
}
