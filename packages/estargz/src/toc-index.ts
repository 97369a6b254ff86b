import { cleanEntryName, type Toc, type TocEntry, type TocEntryType } from './toc.js';

/** One compressed piece of a regular file. */
export interface EstargzChunk {
  /** Blob offset of the member/frame that holds the chunk. */
  readonly offset: number;
  /** Uncompressed bytes to skip in that member before the chunk starts. */
  readonly innerOffset: number;
  /** Offset of the chunk in the file. */
  readonly chunkOffset: number;
  readonly chunkSize: number;
  readonly chunkDigest?: string;
  /** Blob offset where the next payload member starts (or the TOC): the compressed range to read. */
  readonly compressedEnd: number;
}

/** A TOC entry other than `chunk`, with its name normalised and its chunks collected. */
export interface EstargzEntry {
  /** Relative to the root, no './', '..' or trailing '/'; '' is the root directory. */
  readonly name: string;
  readonly type: Exclude<TocEntryType, 'chunk'>;
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly userName?: string;
  readonly groupName?: string;
  readonly modtime?: string;
  readonly linkName?: string;
  readonly devMajor?: number;
  readonly devMinor?: number;
  /** Extended attributes, decoded. */
  readonly xattrs: Readonly<Record<string, Buffer>>;
  readonly digest?: string;
  /** Regular files with data: the chunks in file order. */
  readonly chunks: readonly EstargzChunk[];
}

interface MutableChunk {
  offset: number;
  innerOffset: number;
  chunkOffset: number;
  chunkSize: number;
  chunkDigest?: string;
  compressedEnd: number;
}

/**
 * Index a TOC as the reference reader does: chunk entries belong to the preceding entry, a missing
 * chunkSize means "to the end of the file", user/group names carry over by id, and the compressed
 * range of a chunk ends where the next member starts (or at `dataEnd`).
 */
export function indexToc(
  toc: Toc,
  dataEnd: number,
): { entries: EstargzEntry[]; byName: Map<string, EstargzEntry> } {
  const starts = [
    ...new Set(toc.entries.filter((e) => isData(e) && (e.innerOffset ?? 0) === 0).map((e) => e.offset ?? 0)),
  ].sort((a, b) => a - b);
  const nextStart = (offset: number): number => {
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo < starts.length ? starts[lo]! : dataEnd;
  };
  const users = new Map<number, string>();
  const groups = new Map<number, string>();
  const entries: EstargzEntry[] = [];
  const byName = new Map<string, EstargzEntry>();
  let last: { entry: EstargzEntry; chunks: MutableChunk[] } | undefined;
  for (const e of toc.entries) {
    if (e.type === 'chunk') {
      if (last === undefined || last.entry.type !== 'reg') continue;
      const chunkOffset = e.chunkOffset ?? 0;
      last.chunks.push(chunkOf(e, chunkOffset, e.chunkSize ?? last.entry.size - chunkOffset, nextStart));
      continue;
    }
    const uid = e.uid ?? 0;
    const gid = e.gid ?? 0;
    if (e.userName !== undefined) users.set(uid, e.userName);
    if (e.groupName !== undefined) groups.set(gid, e.groupName);
    const size = e.type === 'reg' ? (e.size ?? 0) : 0;
    const chunks: MutableChunk[] = [];
    if (e.type === 'reg' && size > 0) chunks.push(chunkOf(e, 0, e.chunkSize ?? size, nextStart));
    const xattrs: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(e.xattrs ?? {})) xattrs[k] = Buffer.from(v, 'base64');
    const userName = e.userName ?? users.get(uid);
    const groupName = e.groupName ?? groups.get(gid);
    const entry: EstargzEntry = {
      name: cleanEntryName(e.name),
      type: e.type,
      size,
      mode: e.mode ?? 0,
      uid,
      gid,
      ...(userName !== undefined ? { userName } : {}),
      ...(groupName !== undefined ? { groupName } : {}),
      ...(e.modtime !== undefined ? { modtime: e.modtime } : {}),
      ...(e.linkName !== undefined ? { linkName: e.linkName } : {}),
      ...(e.devMajor !== undefined ? { devMajor: e.devMajor } : {}),
      ...(e.devMinor !== undefined ? { devMinor: e.devMinor } : {}),
      xattrs,
      ...(e.digest !== undefined ? { digest: e.digest } : {}),
      chunks,
    };
    entries.push(entry);
    byName.set(entry.name, entry);
    last = { entry, chunks };
  }
  return { entries, byName };
}

function isData(e: TocEntry): boolean {
  return (e.type === 'reg' && (e.size ?? 0) > 0) || e.type === 'chunk';
}

function chunkOf(
  e: TocEntry,
  chunkOffset: number,
  chunkSize: number,
  nextStart: (o: number) => number,
): MutableChunk {
  const offset = e.offset ?? 0;
  return {
    offset,
    innerOffset: e.innerOffset ?? 0,
    chunkOffset,
    chunkSize,
    ...(e.chunkDigest !== undefined ? { chunkDigest: e.chunkDigest } : {}),
    compressedEnd: nextStart(offset),
  };
}
