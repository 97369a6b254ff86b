import { metadataKey, type ResolvedMetadata } from './metadata.js';
import type { PlannedEntry } from './plan.js';

/**
 * What the write pass knows about one group of same-size, same-metadata files. A layer of tens of
 * thousands of files has tens of thousands of candidates, so the write pass drops a group's maps once
 * its last member is written (and creates them only when needed).
 */
export interface DedupGroup {
  /** content sha256 (raw digest as a one-byte string) -> stored name of the first entry written with it. */
  byHash?: Map<string, string>;
  /** host `dev:ino` of files with more than one link -> stored name of the first entry written from it. */
  byInode?: Map<string, string>;
  /** Members not written yet. */
  remaining: number;
}

/**
 * Group regular files that could be duplicates: same size (> 0) and same metadata. Returns entry -> group
 * for members of groups with two or more entries; every other file is unique by size+metadata and is
 * never hashed. Whiteout markers and empty files are never grouped (a hardlink saves nothing there).
 */
export function findDedupCandidates(entries: readonly PlannedEntry[]): Map<PlannedEntry, DedupGroup> {
  // By size first (a number key, no string per file); metadata only splits the few same-size sets.
  const bySize = new Map<number, PlannedEntry | PlannedEntry[]>();
  for (const e of entries) {
    if (e.kind !== 'file' || e.whiteout || e.size === 0) continue;
    const prior = bySize.get(e.size);
    if (prior === undefined) bySize.set(e.size, e);
    else if (Array.isArray(prior)) prior.push(e);
    else bySize.set(e.size, [prior, e]);
  }
  const out = new Map<PlannedEntry, DedupGroup>();
  const keys = new Map<ResolvedMetadata, string>();
  const keyOf = (m: ResolvedMetadata): string => {
    let k = keys.get(m);
    if (k === undefined) {
      k = metadataKey(m);
      keys.set(m, k);
    }
    return k;
  };
  for (const sameSize of bySize.values()) {
    if (!Array.isArray(sameSize)) continue;
    const byMeta = new Map<string, PlannedEntry[]>();
    for (const e of sameSize) {
      const k = keyOf(e.meta);
      const list = byMeta.get(k);
      if (list) list.push(e);
      else byMeta.set(k, [e]);
    }
    for (const list of byMeta.values()) {
      if (list.length < 2) continue;
      const group: DedupGroup = { remaining: list.length };
      for (const e of list) out.set(e, group);
    }
  }
  return out;
}

/** Record that content `key` was first written as `name`. */
export function rememberContent(group: DedupGroup, key: string, name: string): void {
  group.byHash ??= new Map();
  group.byHash.set(key, name);
}

/** Record that host inode `inode` was first written as `name`. */
export function rememberInode(group: DedupGroup, inode: string, name: string): void {
  group.byInode ??= new Map();
  group.byInode.set(inode, name);
}
