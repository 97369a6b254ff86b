import type { Readable } from 'node:stream';
import { type BlobSource, type Descriptor, isDistributable } from '@img/oci-spec';
import { RegistryError } from '../errors.js';
import type { UploadMode } from '../options.js';
import { blobExists, openBlob } from '../pull/blob.js';
import { sameRegistry } from '../reference.js';
import { dump } from '../transport/body.js';
import { resolveLocation } from '../transport/endpoints.js';
import { header, type RequestStats, type Transport } from '../transport/transport.js';
import type { BlobOutcome, PushProgressEvent } from './progress.js';
import { type BlobOpener, type UploadContext, uploadBlob } from './upload.js';

/**
 * A blob to push: its descriptor plus where the bytes can come from. `open()` returns a fresh stream of
 * the whole blob on every call (it is called again to resume); `sources` are registries/repositories
 * that hold it (a pulled base layer): mounted when on the destination registry, else streamed from there.
 */
export interface PushBlob {
  readonly descriptor: Descriptor;
  open?(): Promise<Readable>;
  readonly sources?: readonly BlobSource[];
}

export interface BlobPushContext {
  readonly transport: Transport;
  readonly target: BlobSource;
  readonly scopes: readonly string[];
  readonly stats: RequestStats;
  readonly signal?: AbortSignal;
  readonly mode: UploadMode;
  readonly chunkSize: number;
  /** Hash `open()` streams on the client too (the registry always checks on commit). */
  readonly verifyUploads: boolean;
  readonly emit: (e: PushProgressEvent) => void;
  readonly onBytesSent: (n: number) => void;
  /** Source repositories a mount was refused from (401/403) in this push: not asked again. */
  readonly refusedMountSources: Set<string>;
}

/** Same-registry sources first: they can be mounted, and are the nearest to stream from. */
function orderedSources(blob: PushBlob, target: BlobSource): BlobSource[] {
  const all = blob.sources ?? [];
  return [
    ...all.filter((s) => sameRegistry(s.registry, target.registry)),
    ...all.filter((s) => !sameRegistry(s.registry, target.registry)),
  ];
}

function openerFor(ctx: BlobPushContext, blob: PushBlob): BlobOpener {
  if (blob.open) return { open: () => blob.open!(), verify: ctx.verifyUploads };
  const sources = orderedSources(blob, ctx.target);
  if (sources.length === 0) {
    throw new RegistryError(
      'IMG_REGISTRY_BLOB_UNAVAILABLE',
      `blob ${blob.descriptor.digest} is not on ${ctx.target.registry}/${ctx.target.repository} and has neither open() nor sources`,
      { registry: ctx.target.registry, repository: ctx.target.repository },
    );
  }
  return {
    verify: false, // openBlob verifies what it reads from the network
    async open() {
      let last: unknown;
      for (const source of sources) {
        try {
          return await openBlob(ctx.transport, source, blob.descriptor, {
            stats: ctx.stats,
            signal: ctx.signal,
          });
        } catch (err) {
          last = err;
        }
      }
      throw last;
    },
  };
}

/** POST ?mount=&from=: 'mounted' on 201, the upload session on 202, undefined on anything else. */
async function tryMount(
  ctx: BlobPushContext,
  blob: PushBlob,
  from: BlobSource,
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
export async function pushBlob(ctx: BlobPushContext, blob: PushBlob): Promise<BlobOutcome> {
  const { descriptor } = blob;
  const { transport, target } = ctx;
  const done = (state: BlobOutcome, from?: string): BlobOutcome => {
    ctx.emit({
      kind: 'blob',
      digest: descriptor.digest,
      size: descriptor.size,
      state,
      bytes: descriptor.size,
      ...(from && { from }),
    });
    return state;
  };
  if (await blobExists(transport, target, descriptor, ctx.scopes, ctx)) return done('skipped');
  let session: URL | undefined;
  const mountFrom = (blob.sources ?? []).find(
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
  const report = (force = false) => {
    if (force || offset - lastReport >= 1024 * 1024) {
      lastReport = offset;
      ctx.emit({
        kind: 'blob',
        digest: descriptor.digest,
        size: descriptor.size,
        state: 'uploading',
        bytes: offset,
      });
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
