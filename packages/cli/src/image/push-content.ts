import type { ImageGraph } from '@img/oci-spec';
import { type PushOptions, parseReference } from '@img/registry-client';
import type { Io } from '../io.js';
import { humanRate, humanSize } from '../util/human.js';
import { type LazyFlags, lazyPlacesFromFlags, parseStrategy } from '../util/lazy-flags.js';
import { createPushReporter } from '../util/push-progress.js';
import { pushedReferences, type RefOutputFlags, writeRefOutputs } from '../util/ref-outputs.js';
import { createRegistryClient, type RegistryFlags } from '../util/registry.js';
import { checkLazyBlobs, withLazyBlobs } from './lazy-sources.js';

export interface PushFlags extends RegistryFlags, LazyFlags, RefOutputFlags {
  tag?: string[];
  json?: boolean;
}

/**
 * Push an image graph to `ref`; prints `REF@sha256:...` per pushed reference. With the lazy strategy,
 * layers not at hand come from their places (a local file, the disk cache, the remote cache, their
 * registry), checked before anything is sent. The JSON result: digest, references and the push
 * summary; writes --image-refs / --digest-file.
 */
export async function pushContent(
  graph: ImageGraph,
  ref: string,
  flags: PushFlags,
  io: Io,
  options: Pick<PushOptions, 'skipBlobs'> = {},
) {
  const strategy = parseStrategy(flags.strategy);
  const reporter = await createPushReporter(io);
  const client = createRegistryClient(flags);
  const lazy =
    strategy === 'lazy' ? lazyPlacesFromFlags(flags, (l, d) => client.blobSource(l, d)) : undefined;
  try {
    let image = graph;
    if (lazy) {
      const { registry, repository } = parseReference(ref, { defaultTag: false });
      await checkLazyBlobs(graph, lazy.places, (d) => client.blobExists({ registry, repository }, d));
      image = withLazyBlobs(graph, lazy.places);
    }
    const result = await client.pushImage(ref, image, {
      ...options,
      ...(flags.tag?.length ? { tags: flags.tag } : {}),
      onProgress: (e) => reporter.onProgress(e),
    });
    reporter.stop();
    const digest = result.descriptor.digest;
    const refs = pushedReferences(result);
    await writeRefOutputs(flags, refs, digest);
    io.result?.({ digest, references: refs, ...result.summary });
    for (const r of refs) io.out(r);
    if (!io.quiet && !io.result) {
      const s = result.summary;
      io.err(
        `blobs: ${s.blobsUploaded} uploaded, ${s.blobsSkipped} skipped, ${s.blobsMounted} mounted; ${humanSize(s.bytesUploaded)} sent in ${s.requests} requests (${(s.durationMs / 1000).toFixed(1)} s, ${humanRate(s.bytesUploaded, s.durationMs / 1000)})`,
      );
    }
    return { ...result, references: refs };
  } finally {
    reporter.stop();
    await lazy?.close();
    await client.close();
  }
}
