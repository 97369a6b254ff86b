import { LayerError } from './errors.js';
import { BLOCK_SIZE, paddingFor, type TarEntryType } from './tar-header.js';

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
  /** PAX records other than the ones folded into the fields above (e.g. SCHILY.xattr.*, atime). */
  readonly paxRecords: Readonly<Record<string, string>>;
  /** Offset of the entry's data in the uncompressed archive. */
  readonly dataOffset: number;
}

export interface TarParserHandlers {
  /** A header was read; the entry's data (if any) follows through onData. */
  onEntry(entry: TarEntryInfo): void;
  /** Data of the current regular-file entry. The buffer is only valid during the call. */
  onData?(bytes: Buffer): void;
}

const TYPES: Record<string, TarEntryType> = {
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

function cString(b: Buffer, start: number, len: number): Buffer {
  const field = b.subarray(start, start + len);
  const nul = field.indexOf(0);
  return nul < 0 ? field : field.subarray(0, nul);
}

function parseNumeric(b: Buffer, start: number, len: number, what: string, at: number): number {
  const field = b.subarray(start, start + len);
  if (field[0]! & 0x80) {
    // GNU base-256: big-endian two's complement with the top bit of the first byte as the marker.
    let value = BigInt(field[0]! & 0x7f);
    for (let i = 1; i < field.length; i++) value = (value << 8n) | BigInt(field[i]!);
    if (field[0]! & 0x40) value -= 1n << BigInt(8 * len - 1);
    return Number(value);
  }
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^[ \0]+/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) {
    throw new LayerError(
      'IMG_LAYER_INVALID_TAR',
      `invalid ${what} field ${JSON.stringify(text)} in the header at offset ${at}`,
    );
  }
  return Number.parseInt(text, 8);
}

function checksumOk(b: Buffer, at: number): boolean {
  const stored = parseNumeric(b, 148, 8, 'checksum', at);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  return stored === unsigned || stored === signed;
}

/** Parse PAX records `"%d key=value\n"`. */
export function parsePaxRecords(data: Buffer, at: number): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < data.length) {
    const space = data.indexOf(0x20, off);
    const len = space < 0 ? Number.NaN : Number.parseInt(data.subarray(off, space).toString('latin1'), 10);
    if (!Number.isInteger(len) || len <= 0 || off + len > data.length || data[off + len - 1] !== 0x0a) {
      if (data.subarray(off).every((c) => c === 0)) break;
      throw new LayerError('IMG_LAYER_INVALID_TAR', `invalid PAX record in the header at offset ${at}`);
    }
    const record = data.subarray(space + 1, off + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq <= 0)
      throw new LayerError('IMG_LAYER_INVALID_TAR', `invalid PAX record in the header at offset ${at}`);
    out[record.slice(0, eq)] = record.slice(eq + 1);
    off += len;
  }
  return out;
}

type State = 'header' | 'data' | 'padding' | 'meta' | 'done';

/**
 * A push parser for tar streams: USTAR, POSIX PAX ('x' local and 'g' global headers: path, linkpath,
 * size, uid, gid, uname, gname, mtime), GNU 'L'/'K' long names and base-256 numbers, old-GNU/v7
 * headers. Sparse files, multi-volume and other GNU extensions are rejected (IMG_LAYER_INVALID_TAR).
 */
export class TarParser {
  readonly #h: TarParserHandlers;
  #state: State = 'header';
  #offset = 0;
  #header = Buffer.alloc(BLOCK_SIZE);
  #headerFill = 0;
  #remaining = 0;
  #meta: Buffer[] = [];
  #metaKind = '';
  #global: Record<string, string> = {};
  #local: Record<string, string> = {};
  #longName: string | undefined;
  #longLink: string | undefined;
  #zeroBlocks = 0;

  constructor(handlers: TarParserHandlers) {
    this.#h = handlers;
  }

  /** Whether the end-of-archive marker was seen. */
  get ended(): boolean {
    return this.#state === 'done';
  }

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && this.#state !== 'done') {
      if (this.#state === 'header') {
        const n = Math.min(BLOCK_SIZE - this.#headerFill, chunk.length - off);
        chunk.copy(this.#header, this.#headerFill, off, off + n);
        this.#headerFill += n;
        off += n;
        this.#offset += n;
        if (this.#headerFill === BLOCK_SIZE) {
          this.#headerFill = 0;
          this.#onHeader(this.#offset - BLOCK_SIZE);
        }
        continue;
      }
      const n = Math.min(this.#remaining, chunk.length - off);
      const part = chunk.subarray(off, off + n);
      if (this.#state === 'data' && this.#deliver) this.#h.onData?.(part);
      else if (this.#state === 'meta') this.#meta.push(Buffer.from(part));
      off += n;
      this.#offset += n;
      this.#remaining -= n;
      if (this.#remaining === 0) this.#afterSection();
    }
  }

  /** Call at end of input; throws if the archive is truncated. */
  end(): void {
    if (this.#state === 'done') return;
    if (this.#state === 'header' && this.#headerFill === 0 && this.#zeroBlocks > 0) return;
    if (this.#state === 'header' && this.#headerFill === 0 && this.#offset > 0) {
      // No end-of-archive blocks (rules_img writes none); accept a clean entry boundary.
      return;
    }
    throw new LayerError('IMG_LAYER_INVALID_TAR', `tar archive is truncated at offset ${this.#offset}`);
  }

  #afterSection(): void {
    if (this.#state === 'data') {
      this.#remaining = this.#padding;
      this.#state = this.#remaining > 0 ? 'padding' : 'header';
      return;
    }
    if (this.#state === 'meta') {
      const data = Buffer.concat(this.#meta);
      this.#meta = [];
      const at = this.#offset - data.length - BLOCK_SIZE;
      if (this.#metaKind === 'x') Object.assign(this.#local, parsePaxRecords(data, at));
      else if (this.#metaKind === 'g') Object.assign(this.#global, parsePaxRecords(data, at));
      else if (this.#metaKind === 'L') this.#longName = cString(data, 0, data.length).toString('utf8');
      else if (this.#metaKind === 'K') this.#longLink = cString(data, 0, data.length).toString('utf8');
      this.#remaining = this.#padding;
      this.#state = this.#remaining > 0 ? 'padding' : 'header';
      return;
    }
    this.#state = 'header';
  }

  #padding = 0;
  #deliver = false;

  #startSection(state: 'data' | 'meta', size: number): void {
    this.#padding = paddingFor(size);
    if (size === 0) {
      this.#remaining = 0;
      this.#state = state;
      this.#afterSection();
      return;
    }
    this.#state = state;
    this.#remaining = size;
  }

  #onHeader(at: number): void {
    const b = this.#header;
    if (b.every((c) => c === 0)) {
      this.#zeroBlocks++;
      if (this.#zeroBlocks >= 2) this.#state = 'done';
      return;
    }
    if (this.#zeroBlocks > 0) {
      throw new LayerError(
        'IMG_LAYER_INVALID_TAR',
        `unexpected zero block before the header at offset ${at}`,
      );
    }
    if (!checksumOk(b, at)) {
      throw new LayerError(
        'IMG_LAYER_INVALID_TAR',
        `bad header checksum at offset ${at} (not a tar archive?)`,
      );
    }
    const flag = String.fromCharCode(b[156]!);
    const size = parseNumeric(b, 124, 12, 'size', at);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      this.#metaKind = flag;
      this.#startSection('meta', size);
      return;
    }
    let type = TYPES[flag];
    if (type === undefined) {
      throw new LayerError(
        'IMG_LAYER_INVALID_TAR',
        `unsupported tar entry type ${JSON.stringify(flag)} at offset ${at}`,
      );
    }
    const magic = b.subarray(257, 263).toString('latin1');
    const isUstar = magic === 'ustar\0';
    let name = cString(b, 0, 100).toString('utf8');
    if (isUstar) {
      const prefix = cString(b, 345, 155).toString('utf8');
      if (prefix !== '') name = `${prefix}/${name}`;
    }
    const pax = { ...this.#global, ...this.#local };
    this.#local = {};
    if (this.#longName !== undefined) name = this.#longName;
    if (pax.path !== undefined) name = pax.path;
    let linkname = cString(b, 157, 100).toString('utf8');
    if (this.#longLink !== undefined) linkname = this.#longLink;
    if (pax.linkpath !== undefined) linkname = pax.linkpath;
    this.#longName = undefined;
    this.#longLink = undefined;
    if (Object.keys(pax).some((k) => k.startsWith('GNU.sparse.'))) {
      throw new LayerError('IMG_LAYER_INVALID_TAR', `${name}: sparse files are not supported`);
    }
    if (type === 'file' && flag !== '7' && name.endsWith('/')) type = 'directory';
    const num = (key: string, start: number, len: number, what: string): number => {
      const v = pax[key];
      if (v === undefined) return parseNumeric(b, start, len, what, at);
      const n = Number.parseFloat(v);
      if (!Number.isFinite(n))
        throw new LayerError('IMG_LAYER_INVALID_TAR', `${name}: invalid PAX ${key} ${JSON.stringify(v)}`);
      return Math.floor(n);
    };
    const entrySize = num('size', 124, 12, 'size');
    const extra: Record<string, string> = {};
    for (const [k, v] of Object.entries(pax)) if (!FOLDED_PAX.has(k)) extra[k] = v;
    const entry: TarEntryInfo = {
      name,
      type,
      mode: parseNumeric(b, 100, 8, 'mode', at) & 0o7777,
      uid: num('uid', 108, 8, 'uid'),
      gid: num('gid', 116, 8, 'gid'),
      uname: pax.uname ?? cString(b, 265, 32).toString('utf8'),
      gname: pax.gname ?? cString(b, 297, 32).toString('utf8'),
      mtime: num('mtime', 136, 12, 'mtime'),
      ...(pax.mtime !== undefined ? { paxMtime: pax.mtime } : {}),
      size: type === 'file' ? entrySize : 0,
      linkname,
      devmajor: isUstar || magic === 'ustar ' ? parseNumeric(b, 329, 8, 'devmajor', at) : 0,
      devminor: isUstar || magic === 'ustar ' ? parseNumeric(b, 337, 8, 'devminor', at) : 0,
      paxRecords: extra,
      dataOffset: at + BLOCK_SIZE,
    };
    this.#h.onEntry(entry);
    // As Go's archive/tar: links, directories, devices and FIFOs are header-only whatever their size field.
    this.#deliver = type === 'file';
    this.#startSection('data', type === 'file' ? entrySize : 0);
  }
}
