import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-file.js';
import { canList } from './blob-store.js';
import type { RegistryContext } from './context.js';
import { type BlobDigest, parseBlobDigest } from './digests.js';
import { loadGraph, reachable } from './graph.js';

export interface GarbageReport {
  /** Manifests removed from repositories (tags never point at them: they were unreachable). */
  readonly manifestsDeleted: number;
  /** Blob links removed from repositories. */
  readonly blobLinksDeleted: number;
  /** Blobs removed from the blob store (only stores that can list what they hold). */
  readonly blobsDeleted: number;
  /** Unreferenced objects still inside their TTL. */
  readonly pending: number;
  readonly durationMs: number;
}

/**
 * Drops manifests, blob links and blobs that no tag reaches (through index children, config and
 * layers, subjects and referrers) and that have been unreferenced for longer than `ttlMs`. When an
 * object was first seen unreferenced is kept in `<storage>/gc-state.json`, so a restart does not reset
 * the clock; a fresh write (a push, a mount) counts as a reference.
 */
export class GarbageCollector {
  private readonly ctx: RegistryContext;
  private readonly ttlMs: number;
  private readonly stateFile: string;

  constructor(ctx: RegistryContext, ttlMs: number, stateFile: string) {
    this.ctx = ctx;
    this.ttlMs = ttlMs;
    this.stateFile = stateFile;
  }

  private async loadState(): Promise<Map<string, number>> {
    const text = await readFile(this.stateFile, 'utf8').catch(() => undefined);
    if (!text) return new Map();
    try {
      const parsed = JSON.parse(text) as { unreferencedSince?: Record<string, number> };
      return new Map(Object.entries(parsed.unreferencedSince ?? {}));
    } catch {
      return new Map();
    }
  }

  async collect(now = Date.now()): Promise<GarbageReport> {
    return this.ctx.lock.withExclusive(() => this.sweep(now));
  }

  private async sweep(now: number): Promise<GarbageReport> {
    const start = Date.now();
    const before = await this.loadState();
    const after = new Map<string, number>();
    /** True when the object has been unreferenced (and unwritten) for longer than the TTL. */
    const expired = (key: string, modifiedMs: number): boolean => {
      const since = Math.max(before.get(key) ?? now, modifiedMs);
      if (now - since > this.ttlMs) return true;
      after.set(key, since);
      return false;
    };
    const liveBlobs = new Set<string>();
    // Blobs whose last reference went in this pass: they follow it now instead of starting a clock.
    const orphaned = new Set<string>();
    let manifestsDeleted = 0;
    let blobLinksDeleted = 0;
    let blobsDeleted = 0;
    const repos = this.ctx.repositories;
    for (const name of await repos.listRepositories()) {
      const graph = await loadGraph(this.ctx, name);
      const tagged = (await repos.listTagTargets(name)).map(([, digest]) => digest);
      const live = reachable(tagged, graph.edges);
      const liveHere = new Set<string>();
      const orphanedHere = new Set<string>();
      for (const [digest, modifiedMs] of graph.modified) {
        const blobs = (graph.blobs.get(digest) ?? []).map((b) => b.digest.value);
        if (live.has(digest) || !expired(`manifest ${name} ${digest}`, modifiedMs)) {
          for (const blob of blobs) liveHere.add(blob);
          continue;
        }
        if (await repos.deleteManifest(name, parseBlobDigest(digest)!)) manifestsDeleted++;
        for (const blob of blobs) orphanedHere.add(blob);
      }
      for await (const { value: digest, modifiedMs } of repos.listBlobLinks(name)) {
        const d = digest.value;
        const keep = liveHere.has(d) || (!orphanedHere.has(d) && !expired(`link ${name} ${d}`, modifiedMs));
        if (keep) {
          liveBlobs.add(d);
          continue;
        }
        if (await repos.unlinkBlob(name, digest)) blobLinksDeleted++;
        orphaned.add(d);
      }
      for (const blob of liveHere) liveBlobs.add(blob);
    }
    if (canList(this.ctx.blobs)) {
      const doomed: BlobDigest[] = [];
      for await (const blob of this.ctx.blobs.list()) {
        const d = blob.digest.value;
        if (liveBlobs.has(d)) continue;
        if (orphaned.has(d) || expired(`blob ${d}`, blob.modifiedMs)) doomed.push(blob.digest);
      }
      for (const digest of doomed) if (await this.ctx.blobs.delete(digest)) blobsDeleted++;
    }
    await writeFileAtomic(this.stateFile, JSON.stringify({ unreferencedSince: Object.fromEntries(after) }));
    return {
      manifestsDeleted,
      blobLinksDeleted,
      blobsDeleted,
      pending: after.size,
      durationMs: Date.now() - start,
    };
  }
}
