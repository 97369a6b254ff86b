import { LayerError } from './errors.js';

export const BLOCK_SIZE = 512;
/** Two zero blocks close every archive we write (no padding to a 10 KiB record). */
export const END_OF_ARCHIVE_SIZE = 2 * BLOCK_SIZE;

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'directory' | 'char' | 'block' | 'fifo';

/** One tar entry as we write it. Numbers are plain integers; strings are written as UTF-8. */
export interface TarHeader {
  /** Stored name, relative, no leading './' or '/'. A directory's name gets a trailing '/' if missing. */
  readonly name: string;
  readonly type: TarEntryType;
  /** Permission bits incl. setuid/setgid/sticky (0..0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname?: string;
  readonly gname?: string;
  /** Unix seconds. */
  readonly mtime: number;
  /** Data size; regular files only (0 for every other type). */
  readonly size?: number;
  /** Symlink target (verbatim) or hardlink target (stored name of an earlier entry). */
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  /**
   * Extra PAX records (xattrs as `SCHILY.xattr.<name>`); any record forces a PAX header. A string is
   * written as UTF-8, bytes verbatim (binary xattr values).
   */
  readonly paxRecords?: Readonly<Record<string, string | Uint8Array>>;
}

const TYPEFLAG: Record<TarEntryType, number> = {
  file: 0x30, // '0'
  hardlink: 0x31,
  symlink: 0x32,
  char: 0x33,
  block: 0x34,
  directory: 0x35,
  fifo: 0x36,
};
const PAX_TYPEFLAG = 0x78; // 'x'

const NAME_SIZE = 100;
const PREFIX_SIZE = 155;
const NAME_FIELD_SIZE = 32;
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

const NON_ASCII = /[^\x00-\x7f]/;
const NON_ASCII_G = /[^\x00-\x7f]/g;

function isAscii(s: string): boolean {
  return !NON_ASCII.test(s);
}

/** Split a long ASCII name into USTAR prefix + name at a '/', longest prefix first (as Go does). */
function splitUstarName(name: string): [prefix: string, rest: string] | undefined {
  if (name.length <= NAME_SIZE || !isAscii(name)) return undefined;
  let length = name.length;
  if (length > PREFIX_SIZE + 1) length = PREFIX_SIZE + 1;
  else if (name[length - 1] === '/') length--;
  const i = name.lastIndexOf('/', length - 1);
  const nlen = name.length - i - 1;
  if (i <= 0 || nlen > NAME_SIZE || nlen === 0 || i > PREFIX_SIZE) return undefined;
  return [name.slice(0, i), name.slice(i + 1)];
}

function writeString(block: Buffer, offset: number, size: number, value: string): void {
  if (value === '') return;
  // Fields that need PAX get an ASCII-only, truncated fallback so that old readers see something sane.
  const ascii = isAscii(value) ? value : value.replace(NON_ASCII_G, '');
  block.write(ascii, offset, Math.min(size, ascii.length), 'latin1');
}

function writeOctal(block: Buffer, offset: number, size: number, value: number): void {
  const digits = value.toString(8).padStart(size - 1, '0');
  block.write(digits, offset, size - 1, 'latin1');
  block[offset + size - 1] = 0;
}

/** PAX records `"%d %s=%s\n"` (length includes itself), keys in UTF-8 byte order. */
export function encodePaxRecords(records: Readonly<Record<string, string | Uint8Array>>): Buffer {
  const keys = Object.keys(records).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const parts: Buffer[] = [];
  for (const key of keys) {
    const value = records[key]!;
    const body =
      typeof value === 'string'
        ? Buffer.from(` ${key}=${value}\n`, 'utf8')
        : Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
    let len = body.length + 1;
    while (String(len).length + body.length > len) len++;
    len = String(len).length + body.length;
    parts.push(Buffer.from(String(len), 'latin1'), body);
  }
  return Buffer.concat(parts);
}

function paxHeaderName(name: string): string {
  const trimmed = name.endsWith('/') ? name.slice(0, -1) : name;
  const slash = trimmed.lastIndexOf('/');
  const dir = slash < 0 ? '' : trimmed.slice(0, slash + 1);
  return `${dir}PaxHeaders.0/${trimmed.slice(slash + 1)}`;
}

function checkInteger(value: number, field: string, name: string, min = 0): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new LayerError('IMG_LAYER_INVALID_METADATA', `${name}: invalid ${field} ${value}`);
  }
}

function encodeBlock(
  fields: {
    name: string;
    prefix: string;
    mode: number;
    uid: number;
    gid: number;
    size: number;
    mtime: number;
    typeflag: number;
    linkname: string;
    uname: string;
    gname: string;
    devmajor: number;
    devminor: number;
  },
  target: Buffer,
  at: number,
): void {
  const b = target.subarray(at, at + BLOCK_SIZE);
  b.fill(0);
  writeString(b, 0, NAME_SIZE, fields.name);
  writeOctal(b, 100, 8, fields.mode);
  writeOctal(b, 108, 8, fields.uid);
  writeOctal(b, 116, 8, fields.gid);
  writeOctal(b, 124, 12, fields.size);
  writeOctal(b, 136, 12, fields.mtime);
  b.fill(0x20, 148, 156);
  b[156] = fields.typeflag;
  writeString(b, 157, NAME_SIZE, fields.linkname);
  b.write('ustar\x0000', 257, 8, 'latin1');
  writeString(b, 265, NAME_FIELD_SIZE, fields.uname);
  writeString(b, 297, NAME_FIELD_SIZE, fields.gname);
  writeOctal(b, 329, 8, fields.devmajor);
  writeOctal(b, 337, 8, fields.devminor);
  writeString(b, 345, PREFIX_SIZE, fields.prefix);
  let sum = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) sum += b[i]!;
  writeOctal(b, 148, 7, sum);
  b[155] = 0x20;
}

/**
 * Encode one entry's header: a USTAR block, preceded by a local PAX 'x' header (plus its padded records)
 * only when a field does not fit USTAR (name or linkname too long or non-ASCII, uname/gname longer than
 * 32 bytes or non-ASCII, uid/gid > 0o7777777, size > 0o77777777777, mtime negative or too large) or
 * when `paxRecords` is non-empty. Returns a multiple of 512 bytes; file data and its padding follow.
 */
export function encodeTarHeader(header: TarHeader): Buffer {
  const name = header.type === 'directory' && !header.name.endsWith('/') ? `${header.name}/` : header.name;
  const size = header.type === 'file' ? (header.size ?? 0) : 0;
  const linkname = header.linkname ?? '';
  const uname = header.uname ?? '';
  const gname = header.gname ?? '';
  checkInteger(header.mode, 'mode', name);
  if (header.mode > 0o7777) throw new LayerError('IMG_LAYER_INVALID_METADATA', `${name}: invalid mode`);
  checkInteger(header.uid, 'uid', name);
  checkInteger(header.gid, 'gid', name);
  checkInteger(size, 'size', name);
  checkInteger(header.mtime, 'mtime', name, Number.MIN_SAFE_INTEGER);
  if (name === '' || name.includes('\0') || linkname.includes('\0')) {
    throw new LayerError('IMG_LAYER_INVALID_PATH', `invalid tar entry name ${JSON.stringify(name)}`);
  }

  const pax: Record<string, string | Uint8Array> = header.paxRecords ? { ...header.paxRecords } : {};
  let ustarName = name;
  let prefix = '';
  if (!isAscii(name) || Buffer.byteLength(name) > NAME_SIZE) {
    const split = splitUstarName(name);
    if (split) [prefix, ustarName] = split;
    else pax.path = name;
  }
  if (!isAscii(linkname) || linkname.length > NAME_SIZE) pax.linkpath = linkname;
  if (!isAscii(uname) || uname.length > NAME_FIELD_SIZE) pax.uname = uname;
  if (!isAscii(gname) || gname.length > NAME_FIELD_SIZE) pax.gname = gname;
  let { uid, gid, mtime } = header;
  let ustarSize = size;
  if (uid > MAX_OCTAL_7) {
    pax.uid = String(uid);
    uid = 0;
  }
  if (gid > MAX_OCTAL_7) {
    pax.gid = String(gid);
    gid = 0;
  }
  if (size > MAX_OCTAL_11) {
    pax.size = String(size);
    ustarSize = 0;
  }
  if (mtime < 0 || mtime > MAX_OCTAL_11) {
    pax.mtime = String(mtime);
    mtime = 0;
  }
  const devmajor = header.devmajor ?? 0;
  const devminor = header.devminor ?? 0;
  if (devmajor > MAX_OCTAL_7 || devminor > MAX_OCTAL_7) {
    throw new LayerError('IMG_LAYER_INVALID_METADATA', `${name}: device number too large`);
  }

  let paxData: Buffer | undefined;
  for (const _ in pax) {
    paxData = encodePaxRecords(pax);
    break;
  }
  const paxBlocks = paxData ? BLOCK_SIZE + Math.ceil(paxData.length / BLOCK_SIZE) * BLOCK_SIZE : 0;
  const out = Buffer.alloc(paxBlocks + BLOCK_SIZE);
  if (paxData) {
    encodeBlock(
      {
        name: paxHeaderName(name),
        prefix: '',
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: paxData.length,
        mtime: 0,
        typeflag: PAX_TYPEFLAG,
        linkname: '',
        uname: '',
        gname: '',
        devmajor: 0,
        devminor: 0,
      },
      out,
      0,
    );
    paxData.copy(out, BLOCK_SIZE);
  }
  encodeBlock(
    {
      name: ustarName,
      prefix,
      mode: header.mode,
      uid,
      gid,
      size: ustarSize,
      mtime,
      typeflag: TYPEFLAG[header.type],
      linkname,
      uname,
      gname,
      devmajor,
      devminor,
    },
    out,
    paxBlocks,
  );
  return out;
}

/** Zero bytes needed after `size` bytes of data to reach the next 512-byte boundary. */
export function paddingFor(size: number): number {
  const rem = size % BLOCK_SIZE;
  return rem === 0 ? 0 : BLOCK_SIZE - rem;
}
