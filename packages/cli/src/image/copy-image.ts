import { type Digest, walkDocuments } from '@img/oci-spec';
import { type PushSummary, parseReference, type Reference } from '@img/registry-client';
import type { Io } from '../io.js';
import { createPushReporter } from '../util/push-progress.js';
import { pushedReferences } from '../util/ref-outputs.js';
import { createRegistryClient, type RegistryFlags } from '../util/registry.js';
import { type CopiedReferrer, copyReferrers } from './copy-referrers.js';
import type { OpenedInput } from './open-input.js';

export interface CopyFlags extends RegistryFlags {
  tag?: string[];
  /** false with --no-referrers. */
  referrers?: boolean;
}

export interface CopyResult {
  readonly source: string;
  readonly digest: Digest;
  /** `REGISTRY/REPO:TAG@DIGEST` per tag, or `REGISTRY/REPO@DIGEST`. */
  readonly references: readonly string[];
  readonly referrers: readonly CopiedReferrer[];
  readonly summary: PushSummary;
}

/** The destination: DST as given, else with the source's tag (a registry source), else by digest. */
export function destinationOf(dst: string, source: OpenedInput): Reference {
  const ref = parseReference(dst, { defaultTag: false });
  if (ref.tag !== undefined || ref.digest !== undefined) return ref;
  const tag = source.reference?.tag;
  return tag ? { ...ref, tag } : ref;
}

function addSummary(into: PushSummary, more: PushSummary): void {
  for (const k of Object.keys(into) as (keyof PushSummary)[]) into[k] += more[k];
}

/**
 * Copy an image or index to a registry: blobs the destination has are skipped, blobs in another
 * repository of the same registry mounted, the rest streamed from the source (never stored); then,
 * from a registry source, the referrers of every manifest copied (unless `referrers` is false).
 */
export async function copyImage(
  source: OpenedInput,
  dst: string,
  flags: CopyFlags,
  io: Io,
): Promise<CopyResult> {
  const target = destinationOf(dst, source);
  const reporter = await createPushReporter(io);
  const client = createRegistryClient(flags);
  try {
    const pushed = await client.pushImage(target, source.graph, {
      ...(flags.tag?.length ? { tags: flags.tag } : {}),
      onProgress: (e) => reporter.onProgress(e),
    });
    const summary = { ...pushed.summary };
    let referrers: CopiedReferrer[] = [];
    if (source.reference && flags.referrers !== false) {
      const from = { registry: source.reference.registry, repository: source.reference.repository };
      const subjects = walkDocuments(source.graph).map((d) => d.descriptor.digest);
      referrers = await copyReferrers(client, from, target, subjects, {
        onPushed: (s) => addSummary(summary, s),
      });
    }
    reporter.stop();
    const digest = pushed.descriptor.digest;
    const references = pushedReferences(pushed);
    return { source: source.name, digest, references, referrers, summary };
  } finally {
    reporter.stop();
    await client.close();
  }
}
