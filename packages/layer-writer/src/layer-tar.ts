import { createHash, type Hash } from 'node:crypto';
import { type DedupGroup, findDedupCandidates, rememberContent, rememberInode } from './dedup.js';
import { hashSource, type PlannedEntry } from './plan.js';
import { readSmallFile, SMALL_FILE_SIZE } from './source-io.js';
import type { TarHeader } from './tar-header.js';
import type { TarWriter } from './tar-writer.js';

export interface WriteEntriesOptions {
  /** Write later copies of identical files as hardlinks. Default DEFAULT_DEDUPLICATE. */
  readonly deduplicate?: boolean;
  /**
   * Empty each slot of `entries` once its entry is written (the caller gives the array up), so that the
   * plan of a large tree is freed as the layer is written, not after it. Default false.
   */
  readonly releaseWritten?: boolean;
}

export const DEFAULT_DEDUPLICATE = true;

/** Stored tar name of a planned entry: directories end in '/'. */
export function storedName(entry: PlannedEntry): string {
  return entry.kind === 'directory' ? `${entry.path}/` : entry.path;
}

function headerFor(entry: PlannedEntry): TarHeader {
  const m = entry.meta;
  const base = {
    name: storedName(entry),
    mode: m.mode,
    uid: m.uid,
    gid: m.gid,
    uname: m.uname,
    gname: m.gname,
    mtime: m.mtime,
    paxRecords: m.paxRecords,
  };
  if (entry.kind === 'directory') return { ...base, type: 'directory' };
  if (entry.kind === 'symlink') return { ...base, type: 'symlink', linkname: entry.target! };
  return { ...base, type: 'file', size: entry.size };
}

/**
 * Write planned entries in order. With dedup, a regular file whose content and metadata equal an
 * earlier entry's becomes a hardlink to it. Only files sharing size+metadata with another file are
 * hashed: the first of a group is hashed while it is copied; later ones are hashed before writing
 * (and read a second time only when their content turns out to be new). Same host inode = same
 * content, no hashing.
 */
export async function writePlannedEntries(
  writer: TarWriter,
  entries: readonly PlannedEntry[],
  options: WriteEntriesOptions = {},
): Promise<void> {
  const candidates = (options.deduplicate ?? true) ? findDedupCandidates(entries) : new Map();
  const slots = entries as (PlannedEntry | undefined)[];
  for (let i = 0; i < slots.length; i++) {
    const entry = slots[i]!;
    if (options.releaseWritten) slots[i] = undefined;
    const header = headerFor(entry);
    const group = candidates.get(entry);
    if (entry.kind !== 'file' || group === undefined) {
      await writeData(writer, entry, header);
      continue;
    }
    candidates.delete(entry);
    await writeCandidate(writer, entry, header, group);
    if (--group.remaining === 0) {
      group.byHash = undefined;
      group.byInode = undefined;
    }
  }
}

/** The raw sha256 digest as a one-byte string: half the memory of hex as a map key. */
function hashKey(hash: Hash): string {
  return hash.digest('binary');
}

async function writeCandidate(
  writer: TarWriter,
  entry: PlannedEntry,
  header: TarHeader,
  group: DedupGroup,
): Promise<void> {
  const source = entry.source!;
  // Only a file with several links can share its inode with another path of the layer (or the same
  // path named twice, which hashing below also catches).
  const inode = source.kind === 'host' && source.file.linked ? source.file.inode : undefined;
  const sameInode = inode === undefined ? undefined : group.byInode?.get(inode);
  if (sameInode !== undefined) {
    await writer.writeEntry({ ...header, type: 'hardlink', size: 0, linkname: sameInode });
    return;
  }
  let key: string;
  if (group.byHash === undefined) {
    const h = createHash('sha256');
    await writeData(writer, entry, header, (b) => h.update(b));
    key = hashKey(h);
  } else {
    // Small files are read once into memory: hashed, then written from there if they are new.
    const bytes =
      source.kind === 'bytes'
        ? source.data
        : source.file.size <= SMALL_FILE_SIZE
          ? readSmallFile(source.file.path, source.file.size)
          : undefined;
    key = bytes
      ? hashKey(createHash('sha256').update(bytes))
      : Buffer.from(await hashSource(source), 'hex').toString('latin1');
    const earlier = group.byHash.get(key);
    if (earlier !== undefined) {
      if (inode !== undefined) rememberInode(group, inode, earlier);
      await writer.writeEntry({ ...header, type: 'hardlink', size: 0, linkname: earlier });
      return;
    }
    if (bytes) await writer.writeEntry(header, bytes);
    else await writeData(writer, entry, header);
  }
  rememberContent(group, key, header.name);
  if (inode !== undefined) rememberInode(group, inode, header.name);
}

async function writeData(
  writer: TarWriter,
  entry: PlannedEntry,
  header: TarHeader,
  observe?: (b: Buffer) => void,
): Promise<void> {
  const source = entry.source;
  if (source?.kind === 'host') {
    await writer.writeFileEntry(header, source.file.path, observe ? { observe } : {});
    return;
  }
  if (source?.kind === 'bytes') observe?.(source.data);
  await writer.writeEntry(header, source?.kind === 'bytes' ? source.data : undefined);
}
