import { metadataKey } from './metadata.js';
import type { PlannedEntry } from './plan.js';

/** What the write pass knows about one group of same-size, same-metadata files. */
export interface DedupGroup {
  /** content sha256 (hex) -> stored name of the first entry written with it. */
  readonly byHash: Map<string, string>;
  /** host `dev:ino` -> stored name of the first entry written from that inode. */
  readonly byInode: Map<string, string>;
}

/**
 * Group regular files that could be duplicates: same size (> 0) and same metadata. Returns entry -> group
 * for members of groups with two or more entries; every other file is unique by size+metadata and is
 * never hashed. Whiteout markers and empty files are never grouped (a hardlink saves nothing there).
 */
export function findDedupCandidates(entries: readonly PlannedEntry[]): Map<PlannedEntry, DedupGroup> {
  const bySizeAndMeta = new Map<string, PlannedEntry[]>();
  for (const e of entries) {
    if (e.kind !== 'file' || e.whiteout || e.size === 0) continue;
    const key = `${e.size}\0${metadataKey(e.meta)}`;
    const list = bySizeAndMeta.get(key);
    if (list) list.push(e);
    else bySizeAndMeta.set(key, [e]);
  }
  const out = new Map<PlannedEntry, DedupGroup>();
  for (const list of bySizeAndMeta.values()) {
    if (list.length < 2) continue;
    const group: DedupGroup = { byHash: new Map(), byInode: new Map() };
    for (const e of list) out.set(e, group);
  }
  return out;
}
