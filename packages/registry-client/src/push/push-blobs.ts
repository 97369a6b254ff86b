import type { BlobSource } from '@img/oci-spec';
import { pullScope, pushScope } from '../auth/scopes.js';
import { mapLimit } from '../limit.js';
import { sameRegistry } from '../reference.js';
import type { RequestStats, Transport } from '../transport/transport.js';
import { emptySummary, type PushSummary, progressEmitter } from './progress.js';
import { type BlobPushContext, type PushBlob, pushBlob } from './push-blob.js';
import type { PushConfig, PushOptions } from './push-image.js';

/**
 * Push blobs without a manifest (push at build time): each is HEADed and skipped when present,
 * mounted from a same-registry source, or uploaded. Resolves to what was done.
 */
export async function pushBlobs(
  transport: Transport,
  config: PushConfig,
  target: BlobSource,
  blobs: readonly PushBlob[],
  options: Pick<PushOptions, 'onProgress' | 'signal'> = {},
): Promise<PushSummary> {
  const started = Date.now();
  const summary = emptySummary();
  const stats: RequestStats = { requests: 0, retries: 0 };
  const mountSources = blobs
    .flatMap((b) => b.sources ?? [])
    .filter((s) => sameRegistry(s.registry, target.registry) && s.repository !== target.repository)
    .map((s) => pullScope(s.repository));
  const scopes = [pushScope(target.repository), ...new Set(mountSources)];
  const ctx: BlobPushContext = {
    transport,
    target,
    scopes,
    stats,
    signal: options.signal,
    mode: config.uploadMode,
    chunkSize: config.chunkSize,
    verifyUploads: config.verifyUploads,
    emit: progressEmitter(options.onProgress),
    refusedMountSources: new Set(),
    onBytesSent: (n) => {
      summary.bytesUploaded += n;
    },
  };
  const outcomes = await mapLimit(blobs, config.jobs, (blob) => pushBlob(ctx, blob));
  for (const o of outcomes) {
    if (o === 'uploaded') summary.blobsUploaded++;
    else if (o === 'mounted') summary.blobsMounted++;
    else summary.blobsSkipped++;
  }
  summary.requests = stats.requests;
  summary.retries = stats.retries;
  summary.durationMs = Date.now() - started;
  return summary;
}
