import type { ImageGraph } from '@img/oci-spec';
import type { Io } from '../io.js';
import { createPushReporter } from '../util/push-progress.js';
import { createRegistryClient, type RegistryFlags } from '../util/registry.js';

export interface PushFlags extends RegistryFlags {
  tag?: string[];
  json?: boolean;
}

/** Push an image graph to `ref`; prints `REF@sha256:...` per pushed reference. */
export async function pushContent(graph: ImageGraph, ref: string, flags: PushFlags, io: Io) {
  const reporter = await createPushReporter(io);
  const client = createRegistryClient(flags);
  try {
    const result = await client.pushImage(ref, graph, {
      ...(flags.tag?.length ? { tags: flags.tag } : {}),
      onProgress: (e) => reporter.onProgress(e),
    });
    reporter.stop();
    const repo = `${result.reference.registry}/${result.reference.repository}`;
    const digest = result.descriptor.digest;
    const refs = result.tags.length
      ? result.tags.map((t) => `${repo}:${t}@${digest}`)
      : [`${repo}@${digest}`];
    if (flags.json) {
      io.out(JSON.stringify({ digest: result.descriptor.digest, references: refs, ...result.summary }));
    } else {
      for (const r of refs) io.out(r);
      if (!io.quiet) {
        const s = result.summary;
        io.err(
          `blobs: ${s.blobsUploaded} uploaded, ${s.blobsSkipped} skipped, ${s.blobsMounted} mounted; ${s.bytesUploaded} bytes sent in ${s.requests} requests (${s.durationMs} ms)`,
        );
      }
    }
    return result;
  } finally {
    reporter.stop();
    await client.close();
  }
}
