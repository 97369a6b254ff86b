import { posix } from 'node:path';
import { EstargzError } from './errors.js';

export type TocEntryType = 'dir' | 'reg' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'chunk';

/**
 * One TOC entry, field for field the JSON of stargz-snapshotter's `estargz.TOCEntry`. Absent fields
 * are the zero value (Go writes them with `omitempty`).
 */
export interface TocEntry {
  /** Tar name as stored (directories end in '/'); for `chunk` entries the file's name. */
  name: string;
  type: TocEntryType;
  /** Regular files: the whole file's size. */
  size?: number;
  /** UTC RFC 3339, whole seconds; absent for mtime 0. */
  modtime?: string;
  linkName?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Only when it differs from the last name written for the same uid. */
  userName?: string;
  groupName?: string;
  /** Compressed offset of the member (gzip) or frame (zstd) holding this payload chunk. */
  offset?: number;
  /** Uncompressed offset of the chunk inside that member, when several payloads share one. */
  innerOffset?: number;
  /** containers/storage zstd:chunked: end of the frame(s) holding this payload (chunk or file). */
  endOffset?: number;
  devMajor?: number;
  devMinor?: number;
  /** Extended attributes, values base64 (Go's `[]byte` JSON). */
  xattrs?: Record<string, string>;
  /** sha256 of the whole file (first entry of a regular file). */
  digest?: string;
  chunkOffset?: number;
  /** Length of this chunk; absent on the last chunk and on unchunked files. */
  chunkSize?: number;
  chunkDigest?: string;
}

export interface Toc {
  version: number;
  entries: TocEntry[];
  /** containers/storage zstd:chunked: digest of the compressed tar-split (`tarsplit-digest`). */
  tarSplitDigest?: string;
}

const TYPES = new Set<TocEntryType>(['dir', 'reg', 'symlink', 'hardlink', 'char', 'block', 'fifo', 'chunk']);
const NUMBER_FIELDS = [
  'size',
  'mode',
  'uid',
  'gid',
  'offset',
  'innerOffset',
  'endOffset',
  'devMajor',
  'devMinor',
  'chunkOffset',
  'chunkSize',
] as const;
const STRING_FIELDS = ['modtime', 'linkName', 'userName', 'groupName', 'digest', 'chunkDigest'] as const;
/** JSON field order of Go's TOCEntry struct (its MarshalIndent output follows it). */
const FIELD_ORDER = [
  'name',
  'type',
  'size',
  'modtime',
  'linkName',
  'mode',
  'uid',
  'gid',
  'userName',
  'groupName',
  'offset',
  'innerOffset',
  'endOffset',
  'devMajor',
  'devMinor',
  'xattrs',
  'digest',
  'chunkOffset',
  'chunkSize',
  'chunkDigest',
] as const;

/** A JSON string as Go's encoding/json writes it (HTML-safe: <, >, & and U+2028/9 escaped). */
export function goString(s: string): string {
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The TOC JSON exactly as Go's `json.MarshalIndent(toc, "", "\t")` writes it, so our TOC digest is
 * what the reference writer would compute for the same entries. Zero values are omitted.
 */
export function serializeToc(toc: Toc): Buffer {
  const json = Buffer.allocUnsafe(tocJsonSize(toc));
  writeTocJson(toc, json, 0);
  return json;
}

/** Bytes of serializeToc(toc), counted without building it. */
export function tocJsonSize(toc: Toc): number {
  let size = 0;
  for (const piece of tocJsonPieces(toc)) size += Buffer.byteLength(piece, 'utf8');
  return size;
}

/**
 * Write serializeToc(toc) into `target` at `offset` (which has tocJsonSize(toc) bytes of room) and
 * return where it ends. A TOC of tens of thousands of entries is tens of MiB: written piece by piece,
 * it never exists as a string, an array of strings, or a second copy.
 */
export function writeTocJson(toc: Toc, target: Buffer, offset: number): number {
  let at = offset;
  for (const piece of tocJsonPieces(toc)) at += target.write(piece, at, 'utf8');
  return at;
}

function* tocJsonPieces(toc: Toc): Generator<string> {
  const tarSplit = toc.tarSplitDigest ? `,\n\t"tarsplit-digest": ${goString(toc.tarSplitDigest)}` : '';
  const head = `{\n\t"version": ${toc.version},\n\t"entries": `;
  if (toc.entries.length === 0) {
    yield `${head}null${tarSplit}\n}`;
    return;
  }
  yield `${head}[\n`;
  for (let i = 0; i < toc.entries.length; i++) {
    yield `${i === 0 ? '' : ',\n'}${entryJson(toc.entries[i]!)}`;
  }
  yield `\n\t]${tarSplit}\n}`;
}

function entryJson(entry: TocEntry): string {
  const lines: string[] = [];
  for (const field of FIELD_ORDER) {
    const value = entry[field];
    if (field === 'xattrs') {
      const xattrs = value as Record<string, string> | undefined;
      const keys = xattrs ? Object.keys(xattrs).sort(byteOrder) : [];
      if (keys.length === 0) continue;
      const inner = keys.map((k) => `\t\t\t\t${goString(k)}: ${goString(xattrs![k]!)}`);
      lines.push(`\t\t\t"xattrs": {\n${inner.join(',\n')}\n\t\t\t}`);
      continue;
    }
    if (field !== 'name' && field !== 'type' && (value === undefined || value === 0 || value === ''))
      continue;
    const json = typeof value === 'number' ? String(value) : goString(String(value ?? ''));
    lines.push(`\t\t\t"${field}": ${json}`);
  }
  return `\t\t{\n${lines.join(',\n')}\n\t\t}`;
}

function invalid(where: string, message: string): EstargzError {
  return new EstargzError('IMG_ESTARGZ_INVALID_TOC', `${where}: invalid TOC: ${message}`);
}

/** Parse and check TOC JSON; `where` names the blob in errors. Unknown fields are ignored. */
export function parseToc(json: Buffer, where: string): Toc {
  let doc: unknown;
  try {
    doc = JSON.parse(json.toString('utf8'));
  } catch (err) {
    throw invalid(where, `not JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw invalid(where, 'expected an object');
  const {
    version,
    entries,
    'tarsplit-digest': tarSplitDigest,
  } = doc as {
    version?: unknown;
    entries?: unknown;
    'tarsplit-digest'?: unknown;
  };
  if (tarSplitDigest !== undefined && typeof tarSplitDigest !== 'string')
    throw invalid(where, 'tarsplit-digest: expected a string');
  if (typeof version !== 'number' || !Number.isInteger(version))
    throw invalid(where, 'version: expected an integer');
  if (entries !== null && !Array.isArray(entries)) throw invalid(where, 'entries: expected an array');
  const out: TocEntry[] = [];
  for (const [i, raw] of (entries ?? []).entries()) {
    const field = (name: string) => `entries[${i}].${name}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw invalid(where, `entries[${i}]: expected an object`);
    const r = raw as Record<string, unknown>;
    if (typeof r.name !== 'string') throw invalid(where, `${field('name')}: expected a string`);
    if (typeof r.type !== 'string' || !TYPES.has(r.type as TocEntryType)) {
      throw invalid(where, `${field('type')}: unknown type ${JSON.stringify(r.type)}`);
    }
    const entry: TocEntry = { name: r.name, type: r.type as TocEntryType };
    for (const key of NUMBER_FIELDS) {
      const v = r[key];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
        throw invalid(where, `${field(key)}: expected a non-negative integer, got ${JSON.stringify(v)}`);
      }
      if (v !== 0) entry[key] = v;
    }
    for (const key of STRING_FIELDS) {
      const v = r[key];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string') throw invalid(where, `${field(key)}: expected a string`);
      if (v !== '') entry[key] = v;
    }
    if (r.xattrs !== undefined && r.xattrs !== null) {
      if (typeof r.xattrs !== 'object' || Array.isArray(r.xattrs))
        throw invalid(where, `${field('xattrs')}: expected an object`);
      const xattrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.xattrs as Record<string, unknown>)) {
        if (typeof v !== 'string') throw invalid(where, `${field('xattrs')}.${k}: expected a base64 string`);
        xattrs[k] = v;
      }
      if (Object.keys(xattrs).length > 0) entry.xattrs = xattrs;
    }
    out.push(entry);
  }
  return { version, entries: out, ...(tarSplitDigest ? { tarSplitDigest } : {}) };
}

/** The entry name as the reference reader normalises it: relative to '/', no '.', '..' or trailing '/'. */
export function cleanEntryName(name: string): string {
  return posix.normalize(`/${name}`).replace(/^\/+/, '').replace(/\/+$/, '');
}
