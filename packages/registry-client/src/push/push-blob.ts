import { type BlobLocation, firstAvailableSource, isDistributable, type ProgressEvent } from '@img/oci-spec';
import { RegistryError } from '../errors.js';
import type { UploadMode } from '../options.js';
import { blobExists, registryBlobSource } from '../pull/blob.js';
import { sameRegistry } from '../reference.js';
import { dump } from '../transport/body.js';
import { resolveLocation } from '../transport/endpoints.js';
import { header, type RequestStats, type Transport } from '../transport/transport.js';
import type { BlobToPush } from './check-image.js';
import { type BlobOutcome, pushDone } from './progress.js';
import { type BlobOpener, type UploadContext, uploadBlob } from './upload.js';

export interface BlobPushContext {
  readonly transport: Transport;
  readonly target: BlobLocation;
  readonly scopes: readonly string[];
  readonly stats: RequestStats;
  readonly signal?: AbortSignal;
  readonly mode: UploadMode;
  readonly chunkSize: number;
  /** Hash `open()` streams on the client too (the registry always checks on commit). */
  readonly verifyUploads: boolean;
  readonly emit: (e: ProgressEvent) => void;
  readonly onBytesSent: (n: number) => void;
  /** Source repositories a mount was refused from (401/403) in this push: not asked again. */
  readonly refusedMountSources: Set<string>;
}

/**
 * Same-registry locations first: they can be mounted, and are the nearest to stream from. The target
 * itself is left out: the blob was just found missing there.
 */
function orderedLocations(blob: BlobToPush, target: BlobLocation): BlobLocation[] {
  const all = blob.locations.filter(
    (s) => !(sameRegistry(s.registry, target.registry) && s.repository === target.repository),
  );
  return [
    ...all.filter((s) => sameRegistry(s.registry, target.registry)),
    ...all.filter((s) => !sameRegistry(s.registry, target.registry)),
  ];
}

function openerFor(ctx: BlobPushContext, blob: BlobToPush): BlobOpener {
  const { source } = blob;
  if (source)
    return { open: () => source.open(ctx.signal ? { signal: ctx.signal } : {}), verify: ctx.verifyUploads };
  const locations = orderedLocations(blob, ctx.target);
  if (locations.length === 0) {
    throw new RegistryError(
      'IMG_REGISTRY_BLOB_UNAVAILABLE',
      `blob ${blob.descriptor.digest} is not on ${ctx.target.registry}/${ctx.target.repository} and is neither at hand nor located anywhere`,
      { registry: ctx.target.registry, repository: ctx.target.repository },
    );
  }
  const remote = firstAvailableSource(
    blob.descriptor,
    locations.map((l) =>
      registryBlobSource(ctx.transport, l, blob.descriptor, { stats: ctx.stats, signal: ctx.signal }),
    ),
  );
  // openBlob verifies what it reads from the network.
  return { verify: false, open: () => remote.open(ctx.signal ? { signal: ctx.signal } : {}) };
}

/** POST ?mount=&from=: 'mounted' on 201, the upload session on 202, undefined on anything else. */
async function tryMount(
  ctx: BlobPushContext,
  blob: BlobToPush,
  from: BlobLocation,
): Promise<'mounted' | URL | undefined> {
  const { transport, target } = ctx;
  try {
    const res = await transport.send({
      method: 'POST',
      url: transport
        .endpoints(target.registry)
        .uploads(target.repository, { digest: blob.descriptor.digest, from: from.repository }),
      registry: target.registry,
      repository: target.repository,
      scopes: ctx.scopes,
      headers: { 'content-length': '0' },
      body: '',
      expect: [201, 202],
      what: 'POST blob mount',
      stats: ctx.stats,
      signal: ctx.signal,
    });
    await dump(res.body);
    if (res.status === 201) return 'mounted';
    if (header(res, 'location') === undefined) return undefined;
    return resolveLocation(header(res, 'location'), res.url, 'POST blob mount');
  } catch (err) {
    // Registries refuse mounts in many ways (401 for an unknown source project, 404...): upload instead.
    if (ctx.signal?.aborted) throw err;
    if (err instanceof RegistryError && (err.status === 401 || err.status === 403)) {
      ctx.refusedMountSources.add(from.repository);
    }
    return undefined;
  }
}

/**
 * Push one blob: HEAD (skip when present), cross-repository mount from a same-registry source,
 * else upload from `open()` or streamed from a source registry, never touching the disk.
 */
export async function pushBlob(ctx: BlobPushContext, blob: BlobToPush): Promise<BlobOutcome> {
  const { descriptor } = blob;
  const { transport, target } = ctx;
  const kind = blob.kind ?? 'layer';
  const done = (outcome: BlobOutcome, from?: string): BlobOutcome => {
    ctx.emit(pushDone(kind, descriptor, outcome, from ? { from } : {}));
    return outcome;
  };
  if (await blobExists(transport, target, descriptor, ctx.scopes, ctx)) return done('skipped');
  let session: URL | undefined;
  const mountFrom = blob.locations.find(
    (s) =>
      sameRegistry(s.registry, target.registry) &&
      s.repository !== target.repository &&
      !ctx.refusedMountSources.has(s.repository),
  );
  if (mountFrom && isDistributable(descriptor.mediaType)) {
    const mounted = await tryMount(ctx, blob, mountFrom);
    if (mounted === 'mounted') return done('mounted', `${mountFrom.registry}/${mountFrom.repository}`);
    session = mounted;
  }
  const opener = openerFor(ctx, blob);
  let offset = 0;
  let lastReport = 0;
  let started = false;
  const report = (force = false) => {
    if (force || offset - lastReport >= 1024 * 1024) {
      lastReport = offset;
      const phase = started ? 'progress' : 'start';
      started = true;
      ctx.emit({ type: 'blob', operation: 'push', phase, kind, descriptor, bytes: offset });
    }
  };
  const upload: UploadContext = {
    transport,
    registry: target.registry,
    repository: target.repository,
    scopes: ctx.scopes,
    stats: ctx.stats,
    signal: ctx.signal,
    chunkSize: ctx.chunkSize,
    onBytes: (n) => {
      offset += n;
      ctx.onBytesSent(n);
      report();
    },
    onOffset: (o) => {
      offset = o;
      lastReport = o;
      report(true);
    },
  };
  report(true);
  await uploadBlob(upload, descriptor, opener, ctx.mode, session);
  return done('uploaded');
}
