import type { SizedBlob } from './blob-store.js';
import type { RegistryContext } from './context.js';
import { checkPushedManifest } from './manifest-check.js';

/** The manifests of one repository and what each references. */
export interface RepoGraph {
  /** Manifest digest -> the blobs it references (config, distributable layers), with their sizes. */
  readonly blobs: Map<string, SizedBlob[]>;
  /** Manifest digest -> manifests it keeps alive (index children, its subject, its referrers). */
  readonly edges: Map<string, string[]>;
  /** Manifest digest -> last write, ms since the epoch. */
  readonly modified: Map<string, number>;
}

export async function loadGraph(ctx: RegistryContext, name: string): Promise<RepoGraph> {
  const graph: RepoGraph = { blobs: new Map(), edges: new Map(), modified: new Map() };
  const referrersOf = new Map<string, string[]>();
  for await (const { value: digest, modifiedMs } of ctx.repositories.listManifests(name)) {
    graph.modified.set(digest.value, modifiedMs);
    const stored = await ctx.repositories.readManifest(name, digest);
    if (!stored) continue;
    let pushed: ReturnType<typeof checkPushedManifest>;
    try {
      pushed = checkPushedManifest(stored.bytes, stored.mediaType, { schema: false });
    } catch {
      continue; // accepted by an older version with other rules: keep it, reference nothing
    }
    graph.blobs.set(
      digest.value,
      pushed.blobs.map((b) => ({ digest: b.digest, size: b.size })),
    );
    const edges = pushed.children.map((c) => c.digest.value);
    if (pushed.subject) {
      edges.push(pushed.subject.value);
      referrersOf.set(pushed.subject.value, [...(referrersOf.get(pushed.subject.value) ?? []), digest.value]);
    }
    graph.edges.set(digest.value, edges);
  }
  // A referrer (signature, SBOM) lives as long as its subject: add the reverse edges.
  for (const [subject, referrers] of referrersOf) {
    graph.edges.set(subject, [...(graph.edges.get(subject) ?? []), ...referrers]);
  }
  return graph;
}

/** Every node reachable from `roots` (each visited once). */
export function reachable(roots: Iterable<string>, edges: Map<string, string[]>): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const d = stack.pop()!;
    if (seen.has(d)) continue;
    seen.add(d);
    for (const next of edges.get(d) ?? []) if (!seen.has(next)) stack.push(next);
  }
  return seen;
}

/**
 * The blobs some tag reaches (through index children, subjects and referrers, then config and layers),
 * in every repository, keyed by digest, with the sizes the manifests give them.
 */
export async function liveBlobs(ctx: RegistryContext): Promise<Map<string, SizedBlob>> {
  const out = new Map<string, SizedBlob>();
  for (const name of await ctx.repositories.listRepositories()) {
    const graph = await loadGraph(ctx, name);
    const tagged = (await ctx.repositories.listTagTargets(name)).map(([, digest]) => digest);
    for (const manifest of reachable(tagged, graph.edges)) {
      for (const blob of graph.blobs.get(manifest) ?? []) out.set(blob.digest.value, blob);
    }
  }
  return out;
}
