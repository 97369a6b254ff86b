import { isUtf8 } from 'node:buffer';
import { LayerError } from './errors.js';
import { limitExceeded, type ResolvedTarLimits } from './limits.js';
import { BLOCK_SIZE, type TarEntryType } from './tar-header.js';
import { parseNumericField, parsePaxTime, parsePaxUnsigned, parseUnsignedField } from './tar-numbers.js';

/** One entry as read from a tar (after applying PAX and GNU long-name extensions). */
export interface TarEntryInfo {
  readonly name: string;
  readonly type: TarEntryType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname: string;
  readonly gname: string;
  /** Unix seconds (fractions from PAX dropped). */
  readonly mtime: number;
  /** The PAX `mtime` record as written (with its fraction), when the entry has one. */
  readonly paxMtime?: string;
  readonly size: number;
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
  /**
   * PAX records other than the ones folded into the fields above (e.g. SCHILY.xattr.*, atime), whose
   * values are valid UTF-8.
   */
  readonly paxRecords: Readonly<Record<string, string>>;
  /** The other PAX records, whose values are not UTF-8 (binary xattrs): their exact bytes. */
  readonly binaryPaxRecords?: Readonly<Record<string, Buffer>>;
  /** Offset of the entry's data in the uncompressed archive. */
  readonly dataOffset: number;
}

/** Type flags of the entries a TarParser reports (PAX and GNU long-name headers are folded in). */
export const TYPES: Readonly<Record<string, TarEntryType>> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  '6': 'fifo',
};
const FOLDED_PAX = new Set(['path', 'linkpath', 'size', 'uid', 'gid', 'uname', 'gname', 'mtime']);

export function cString(b: Buffer, start: number, len: number): Buffer {
  const field = b.subarray(start, start + len);
  const nul = field.indexOf(0);
  return nul < 0 ? field : field.subarray(0, nul);
}

/** Printable form of bytes that are not UTF-8: ASCII kept, every other byte as \xNN. */
function escapeBytes(bytes: Buffer): string {
  let s = '';
  for (const c of bytes)
    s +=
      c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return s;
}

/** What a header block says, together with the extension headers that came before it. */
export interface RawEntry {
  readonly type: TarEntryType;
  /** The header's own size field. */
  readonly headerSize: number;
  /** Global and local PAX records in effect, raw values. */
  readonly pax: ReadonlyMap<string, Buffer>;
  readonly longName: Buffer | undefined;
  readonly longLink: Buffer | undefined;
}

/** Decode a header block at offset `at` into an entry, checking every field against `limits`. */
export function decodeEntry(b: Buffer, at: number, raw: RawEntry, limits: ResolvedTarLimits): TarEntryInfo {
  let type = raw.type;
  const { pax, headerSize } = raw;
  const flag = String.fromCharCode(b[156]!);
  const magic = b.subarray(257, 263).toString('latin1');
  const isUstar = magic === 'ustar\0';
  let nameBytes = cString(b, 0, 100);
  if (isUstar) {
    const prefix = cString(b, 345, 155);
    if (prefix.length > 0) nameBytes = Buffer.concat([prefix, Buffer.from('/'), nameBytes]);
  }
  nameBytes = pax.get('path') ?? raw.longName ?? nameBytes;
  const linkBytes = pax.get('linkpath') ?? raw.longLink ?? cString(b, 157, 100);
  const name = pathText(nameBytes, 'name', at, limits);
  const linkname = pathText(linkBytes, 'link target', at, limits);
  checkDepth(name, at, limits);
  const where = `entry ${JSON.stringify(name)} at offset ${at}`;
  for (const k of pax.keys()) {
    if (k.startsWith('GNU.sparse.'))
      throw new LayerError('IMG_LAYER_INVALID_TAR', `${where}: sparse files are not supported`);
  }
  if (type === 'file' && flag !== '7' && name.endsWith('/')) type = 'directory';
  const text = (key: string) => pax.get(key)?.toString('utf8');
  const paxSize = text('size');
  const entrySize = paxSize === undefined ? headerSize : parsePaxUnsigned(paxSize, 'size', where);
  const paxUid = text('uid');
  const paxGid = text('gid');
  const paxMtime = text('mtime');
  const paxRecords: Record<string, string> = Object.create(null);
  let binary: Record<string, Buffer> | undefined;
  for (const [k, v] of pax) {
    if (FOLDED_PAX.has(k)) continue;
    if (isUtf8(v)) {
      paxRecords[k] = v.toString('utf8');
    } else {
      binary ??= Object.create(null) as Record<string, Buffer>;
      binary[k] = Buffer.from(v);
    }
  }
  const hasDevice = isUstar || magic === 'ustar ';
  const entry: TarEntryInfo = {
    name,
    type,
    mode: parseNumericField(b, 100, 8, 'mode', at) & 0o7777,
    uid:
      paxUid === undefined
        ? parseUnsignedField(b, 108, 8, 'uid', at)
        : parsePaxUnsigned(paxUid, 'uid', where),
    gid:
      paxGid === undefined
        ? parseUnsignedField(b, 116, 8, 'gid', at)
        : parsePaxUnsigned(paxGid, 'gid', where),
    uname: text('uname') ?? cString(b, 265, 32).toString('utf8'),
    gname: text('gname') ?? cString(b, 297, 32).toString('utf8'),
    mtime:
      paxMtime === undefined ? parseNumericField(b, 136, 12, 'mtime', at) : parsePaxTime(paxMtime, where),
    ...(paxMtime !== undefined ? { paxMtime } : {}),
    size: type === 'file' ? entrySize : 0,
    linkname,
    devmajor: hasDevice ? parseUnsignedField(b, 329, 8, 'devmajor', at) : 0,
    devminor: hasDevice ? parseUnsignedField(b, 337, 8, 'devminor', at) : 0,
    paxRecords,
    ...(binary ? { binaryPaxRecords: binary } : {}),
    dataOffset: at + BLOCK_SIZE,
  };
  return entry;
}

/** A name or link target as text: UTF-8 only, at most maxPathLength bytes. */
function pathText(bytes: Buffer, what: string, at: number, limits: ResolvedTarLimits): string {
  if (bytes.length > limits.maxPathLength) {
    throw limitExceeded(
      `tar entry at offset ${at}`,
      `${what} of ${bytes.length} bytes is longer than ${limits.maxPathLength}`,
      'maxPathLength',
    );
  }
  if (!isUtf8(bytes)) {
    throw new LayerError(
      'IMG_LAYER_INVALID_PATH',
      `tar entry at offset ${at}: ${what} "${escapeBytes(bytes)}" is not valid UTF-8 (refused rather than changed: names are kept byte-exact)`,
    );
  }
  return bytes.toString('utf8');
}

function checkDepth(name: string, at: number, limits: ResolvedTarLimits): void {
  let depth = 0;
  let prev = -1;
  for (let i = name.indexOf('/'); ; i = name.indexOf('/', i + 1)) {
    const end = i < 0 ? name.length : i;
    if (end - prev > 1) depth++;
    if (i < 0) break;
    prev = i;
  }
  if (depth > limits.maxPathDepth) {
    throw limitExceeded(
      `tar entry at offset ${at}`,
      `name has ${depth} components, more than ${limits.maxPathDepth}`,
      'maxPathDepth',
    );
  }
}
