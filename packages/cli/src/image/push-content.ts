import type { ImageGraph } from '@img/oci-spec';
import type { Io } from '../io.js';
import { humanRate, humanSize } from '../util/human.js';
import { createPushReporter } from '../util/push-progress.js';
import { pushedReferences, type RefOutputFlags, writeRefOutputs } from '../util/ref-outputs.js';
import { createRegistryClient, type RegistryFlags } from '../util/registry.js';

export interface PushFlags extends RegistryFlags, RefOutputFlags {
  tag?: string[];
  json?: boolean;
}

/**
 * Push an image graph to `ref`; prints `REF@sha256:...` per pushed reference (the JSON result:
 * digest, references and the push summary), writes --image-refs / --digest-file.
 */
export async function pushContent(graph: ImageGraph, ref: string, flags: PushFlags, io: Io) {
  const reporter = await createPushReporter(io);
  const client = createRegistryClient(flags);
  try {
    const result = await client.pushImage(ref, graph, {
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
    await client.close();
  }
}
