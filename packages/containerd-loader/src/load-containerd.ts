import {
  type AbortOptions,
  type BlobLocation,
  type BlobSource,
  type Descriptor,
  type FetchBlob,
  graphBlobSource,
  hostPlatform,
  type ImageGraph,
  type ProgressOptions,
  progressReporter,
  remoteBlobSource,
} from '@img/oci-spec';
import { ContainerdClient } from './containerd/client.js';
import {
  contentInfo,
  DEFAULT_WRITE_CHUNK_BYTES,
  setContentLabels,
  writeBlob,
} from './containerd/content-store.js';
import { upsertImage } from './containerd/images.js';
import {
  createLease,
  DEFAULT_LEASE_EXPIRATION_MS,
  deleteLease,
  deleteStaleLeases,
  leaseContent,
} from './containerd/leases.js';
import { chainIds, DEFAULT_SNAPSHOTTER, deepestSnapshot, gcSnapshotLabel } from './containerd/snapshots.js';
import { LoadError } from './errors.js';
import { normalizeImageName } from './image-name.js';
import { type LoadPlan, type PlannedBlob, type PlatformSelection, planLoad } from './plan.js';
import { type BlobOutcome, doneEvent, type LoadResult, summarize } from './progress.js';
import { mapLimit } from './streams.js';

/** containerd's default socket. */
export const DEFAULT_CONTAINERD_ADDRESS = '/run/containerd/containerd.sock';
/** Docker's containerd image store uses `moby`; Kubernetes nodes `k8s.io`; ctr `default`. */
export const DEFAULT_CONTAINERD_NAMESPACE = 'moby';
/** Layers written at once. */
export const DEFAULT_WRITE_CONCURRENCY = 3;
/** Content.Info calls in flight at once. */
const INFO_CONCURRENCY = 16;

/**
 * Produce the bytes of a blob that is not available locally (a base layer of a shallow pull),
 * e.g. by streaming it from its origin registry. Called only when the runtime lacks the blob.
 * The stream is verified against the descriptor before containerd commits it.
 */
export type FetchMissingBlob = FetchBlob;

export interface ContainerdLoadOptions extends AbortOptions, ProgressOptions {
  /** Image names to create or update (at least one). */
  readonly names: readonly string[];
  /** Socket path. Default DEFAULT_CONTAINERD_ADDRESS. */
  readonly address?: string;
  /** Default DEFAULT_CONTAINERD_NAMESPACE (`moby`). */
  readonly namespace?: string;
  /** For an index: the platform to load (default the host's), or `'all'`. */
  readonly platform?: PlatformSelection;
  /** Qualify names as Docker does (`app:dev` -> `docker.io/library/app:dev`). Default true. */
  readonly normalizeNames?: boolean;
  /** Fetches blobs absent from `graph.blobs` that the runtime lacks too. */
  readonly fetchMissingBlob?: FetchMissingBlob;
  /** Where absent blobs come from when the graph names no location of their own (passed to fetchMissingBlob). */
  readonly locations?: readonly BlobLocation[];
  /** Default DEFAULT_WRITE_CONCURRENCY. */
  readonly concurrency?: number;
  /** Default DEFAULT_WRITE_CHUNK_BYTES. */
  readonly chunkBytes?: number;
  /** Lifetime of the lease a killed load leaves behind. Default DEFAULT_LEASE_EXPIRATION_MS. */
  readonly leaseExpirationMs?: number;
  /** Directory of the vendored protos (default: found next to the module or bundle). */
  readonly protoDir?: string;
  /** Snapshotter whose unpacked layers the new image keeps alive. Default DEFAULT_SNAPSHOTTER. */
  readonly snapshotter?: string;
}

/**
 * Load an image (or the selected platforms of an index) into containerd, writing only the blobs
 * its content store lacks: lease -> Info per blob -> resumable Write of the missing ones -> documents
 * with gc.ref labels -> image Create/Update. Nothing becomes visible as an image until every blob
 * is committed, and the lease keeps partial work from the garbage collector (and lets it resume).
 */
export async function loadIntoContainerd(
  graph: ImageGraph,
  options: ContainerdLoadOptions,
): Promise<LoadResult> {
  if (options.names.length === 0)
    throw new LoadError('IMG_LOAD_INVALID_NAME', 'no image name given (e.g. app:dev)');
  const names =
    options.normalizeNames === false ? [...options.names] : options.names.map((n) => normalizeImageName(n));
  const plan = planLoad(graph, options.platform ?? hostPlatform());
  options.signal?.throwIfAborted();
  const client = new ContainerdClient({
    address: options.address ?? DEFAULT_CONTAINERD_ADDRESS,
    namespace: options.namespace ?? DEFAULT_CONTAINERD_NAMESPACE,
    ...(options.protoDir ? { protoDir: options.protoDir } : {}),
  });
  try {
    await client.version();
    const lease = await createLease(client, options.leaseExpirationMs ?? DEFAULT_LEASE_EXPIRATION_MS);
    try {
      const withSnapshots = await keepUnpackedLayers(client, graph, plan, options.snapshotter);
      const blobs = await loadBlobs(client, lease, graph, withSnapshots, options);
      options.signal?.throwIfAborted();
      for (const name of names) await upsertImage(client, name, plan.root);
      // Best effort: a lease a killed load left behind would otherwise hold its blobs for 24 hours.
      await deleteStaleLeases(client).catch(() => {});
      return summarize('containerd', plan.root, names, blobs);
    } finally {
      // Aborted: the partial ingests this load held are collected now, not at the next collection.
      await deleteLease(client, lease, options.signal?.aborted === true).catch(() => {});
    }
  } finally {
    client.close();
  }
}

/**
 * Label each config with the deepest snapshot of its layer chain that is already unpacked, as
 * containerd's unpacker does. Without it, moving a name off an older image that shares base layers
 * leaves their snapshots unreferenced, and the collector can delete a parent while the next
 * `ctr run` / `nerdctl run` unpacks on top of it ("parent snapshot ... does not exist").
 */
async function keepUnpackedLayers(
  client: ContainerdClient,
  graph: ImageGraph,
  plan: LoadPlan,
  snapshotter = DEFAULT_SNAPSHOTTER,
): Promise<LoadPlan> {
  const documents = await Promise.all(
    plan.documents.map(async (d) => {
      const bytes = d.kind === 'config' ? graph.documents.get(d.descriptor.digest) : undefined;
      if (!bytes) return d;
      const diffIds = diffIdsOf(bytes);
      const deepest =
        diffIds.length > 0 ? await deepestSnapshot(client, snapshotter, chainIds(diffIds)) : undefined;
      return deepest ? { ...d, labels: { ...d.labels, [gcSnapshotLabel(snapshotter)]: deepest } } : d;
    }),
  );
  return { ...plan, documents };
}

function diffIdsOf(config: Uint8Array): string[] {
  try {
    const ids = (JSON.parse(Buffer.from(config).toString('utf8')) as { rootfs?: { diff_ids?: unknown } })
      .rootfs?.diff_ids;
    return Array.isArray(ids) && ids.every((x) => typeof x === 'string') ? ids : [];
  } catch {
    return [];
  }
}

async function loadBlobs(
  client: ContainerdClient,
  lease: string,
  graph: ImageGraph,
  plan: LoadPlan,
  options: ContainerdLoadOptions,
): Promise<BlobOutcome[]> {
  const all = [...plan.layers, ...plan.documents];
  const present = new Set<string>();
  await mapLimit(all, INFO_CONCURRENCY, async (b) => {
    if (await contentInfo(client, b.descriptor.digest)) present.add(b.descriptor.digest);
  });
  const missing = plan.layers.filter((l) => !present.has(l.descriptor.digest));
  const unavailable = missing.filter((l) => !graph.blobs.has(l.descriptor.digest));
  if (unavailable.length > 0 && !options.fetchMissingBlob) {
    throw new LoadError(
      'IMG_LOAD_BLOB_MISSING',
      `${unavailable.length} layer(s) are neither local nor in containerd, and no fetcher is configured: ${unavailable.map((l) => l.descriptor.digest).join(', ')}`,
    );
  }
  const progress = progressReporter(options.onProgress);
  progress({
    type: 'plan',
    operation: 'load',
    blobs: all.length,
    present: present.size,
    bytesToSend: all
      .filter((b) => !present.has(b.descriptor.digest))
      .reduce((n, b) => n + b.descriptor.size, 0),
  });
  // Blobs already present join the lease, so the collector keeps them until the image refers to them.
  await mapLimit([...present], INFO_CONCURRENCY, (digest) => leaseContent(client, lease, digest));

  const outcomes = new Map<string, BlobOutcome>();
  const write = async (b: PlannedBlob): Promise<void> => {
    const { descriptor, kind } = b;
    if (present.has(descriptor.digest)) {
      if (Object.keys(b.labels).length > 0) await setContentLabels(client, descriptor.digest, b.labels);
      const outcome: BlobOutcome = { descriptor, kind, status: 'present', bytesSent: 0 };
      outcomes.set(descriptor.digest, outcome);
      progress(doneEvent(outcome));
      return;
    }
    progress({ type: 'blob', operation: 'load', phase: 'start', kind, descriptor, bytes: 0 });
    const { source, fetched } = blobSourceFor(graph, descriptor, options);
    const { signal } = options;
    const r = await writeBlob(
      client,
      descriptor,
      (offset) => source.open({ offset, ...(signal ? { signal } : {}) }),
      {
        lease,
        ...(signal ? { signal } : {}),
        labels: b.labels,
        chunkBytes: options.chunkBytes ?? DEFAULT_WRITE_CHUNK_BYTES,
        ...(options.onProgress
          ? {
              onBytes: (offset: number) =>
                progress({
                  type: 'blob',
                  operation: 'load',
                  phase: 'progress',
                  kind,
                  descriptor,
                  bytes: offset,
                }),
            }
          : {}),
      },
    );
    if (r.status === 'present' && Object.keys(b.labels).length > 0)
      await setContentLabels(client, descriptor.digest, b.labels);
    const outcome: BlobOutcome = {
      descriptor,
      kind,
      status: r.status,
      bytesSent: r.bytesSent,
      ...(fetched ? { fetched } : {}),
    };
    outcomes.set(descriptor.digest, outcome);
    progress(doneEvent(outcome));
  };
  await mapLimit(plan.layers, options.concurrency ?? DEFAULT_WRITE_CONCURRENCY, write);
  // Documents in order: a manifest's gc labels must only name blobs that are already committed.
  for (const d of plan.documents) await write(d);
  return all.map((b) => outcomes.get(b.descriptor.digest)!);
}

/** Where a blob's bytes come from: the graph (a document, a local blob), else fetchMissingBlob, verified. */
function blobSourceFor(
  graph: ImageGraph,
  descriptor: Descriptor,
  options: ContainerdLoadOptions,
): { source: BlobSource; fetched: boolean } {
  const local = graphBlobSource(graph, descriptor);
  if (local) return { source: local, fetched: false };
  const locations = graph.locations?.get(descriptor.digest) ?? options.locations ?? [];
  return { source: remoteBlobSource(descriptor, locations, options.fetchMissingBlob!), fetched: true };
}
