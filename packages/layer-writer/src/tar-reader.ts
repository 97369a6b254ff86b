import { LayerError } from './errors.js';
import { limitExceeded, type ResolvedTarLimits, resolveTarLimits, type TarLimits } from './limits.js';
import { parsePaxRecordBytes } from './pax-records.js';
import { cString, decodeEntry, type TarEntryInfo, TYPES } from './tar-entry.js';
import { BLOCK_SIZE, paddingFor } from './tar-header.js';
import { parseNumericField, parseUnsignedField } from './tar-numbers.js';

export type { TarEntryInfo } from './tar-entry.js';

export interface TarParserHandlers {
  /** A header was read; the entry's data (if any) follows through onData. */
  onEntry(entry: TarEntryInfo): void;
  /** Data of the current regular-file entry. The buffer is only valid during the call. */
  onData?(bytes: Buffer): void;
}

/** Caps of a TarParser (see TarLimits; each defaults to its DEFAULT_* constant). */
export interface TarParserOptions extends TarLimits {}

function checksumOk(b: Buffer): boolean {
  let stored: number;
  try {
    stored = parseNumericField(b, 148, 8, 'checksum', 0);
  } catch {
    return false;
  }
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  return stored === unsigned || stored === signed;
}

type State = 'header' | 'data' | 'padding' | 'meta' | 'done';
type Records = Map<string, Buffer>;

function recordsSize(records: Records): number {
  let n = 0;
  for (const [k, v] of records) n += k.length + v.length;
  return n;
}

/**
 * A push parser for tar streams: USTAR, POSIX PAX ('x' local and 'g' global headers: path, linkpath,
 * size, uid, gid, uname, gname, mtime), GNU 'L'/'K' long names and base-256 numbers, old-GNU/v7
 * headers. Sparse files, multi-volume and other GNU extensions are rejected (IMG_LAYER_INVALID_TAR).
 *
 * Hostile input is expected: every numeric field is checked (negative or unrepresentable sizes are
 * refused), every loop consumes at least one byte per step, and header data, entry count, name
 * length and depth and the bytes after the end-of-archive marker are capped (TarLimits;
 * IMG_LAYER_LIMIT_EXCEEDED). Names and link targets must be UTF-8 (IMG_LAYER_INVALID_PATH): a name
 * we could only decode lossily would silently become another name.
 */
export class TarParser {
  readonly #h: TarParserHandlers;
  readonly #limits: ResolvedTarLimits;
  #state: State = 'header';
  #offset = 0;
  #header = Buffer.alloc(BLOCK_SIZE);
  #headerFill = 0;
  #remaining = 0;
  #padding = 0;
  #deliver = false;
  #meta: Buffer[] = [];
  #metaKind = '';
  #metaAt = 0;
  /** Bytes of PAX and long-name data read for the entry whose header comes next. */
  #pendingMeta = 0;
  #global: Records = new Map();
  #local: Records = new Map();
  #longName: Buffer | undefined;
  #longLink: Buffer | undefined;
  #zeroBlocks = 0;
  #entries = 0;
  #namesSize = 0;
  #trailing = 0;

  constructor(handlers: TarParserHandlers, options: TarParserOptions = {}) {
    this.#h = handlers;
    this.#limits = resolveTarLimits(options);
  }

  /** Whether the end-of-archive marker was seen. */
  get ended(): boolean {
    return this.#state === 'done';
  }

  /** Bytes consumed so far (including any after the end-of-archive marker). */
  get position(): number {
    return this.#offset + this.#trailing;
  }

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.#state === 'done') {
        this.#trailing += chunk.length - off;
        if (this.#trailing > this.#limits.maxTrailingBytes) {
          throw limitExceeded(
            `tar archive ending at offset ${this.#offset}`,
            `more than ${this.#limits.maxTrailingBytes} bytes after the end-of-archive marker`,
            'maxTrailingBytes',
          );
        }
        return;
      }
      let n: number;
      if (this.#state === 'header') {
        n = Math.min(BLOCK_SIZE - this.#headerFill, chunk.length - off);
        chunk.copy(this.#header, this.#headerFill, off, off + n);
        this.#headerFill += n;
      } else {
        n = Math.min(this.#remaining, chunk.length - off);
        if (this.#state === 'data' && this.#deliver) this.#h.onData?.(chunk.subarray(off, off + n));
        else if (this.#state === 'meta') this.#meta.push(Buffer.from(chunk.subarray(off, off + n)));
        this.#remaining -= n;
      }
      // Every state consumes at least one byte per step; anything else is a bug, never a hang.
      if (!(n > 0))
        throw new Error(`TarParser: no progress in state ${this.#state} at offset ${this.#offset}`);
      off += n;
      this.#offset += n;
      if (this.#state === 'header') {
        if (this.#headerFill === BLOCK_SIZE) {
          this.#headerFill = 0;
          this.#onHeader(this.#offset - BLOCK_SIZE);
        }
      } else if (this.#remaining === 0) {
        this.#afterSection();
      }
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
    if (this.#state === 'meta') this.#onMeta();
    if (this.#state === 'padding') {
      this.#state = 'header';
      return;
    }
    this.#remaining = this.#padding;
    this.#state = this.#remaining > 0 ? 'padding' : 'header';
  }

  #onMeta(): void {
    const data = this.#meta.length === 1 ? this.#meta[0]! : Buffer.concat(this.#meta);
    this.#meta = [];
    const at = this.#metaAt;
    if (this.#metaKind === 'x' || this.#metaKind === 'g') {
      const target = this.#metaKind === 'x' ? this.#local : this.#global;
      for (const [k, v] of parsePaxRecordBytes(data, at)) target.set(k, v);
      if (this.#metaKind === 'g' && recordsSize(this.#global) > this.#limits.maxHeaderSize) {
        throw limitExceeded(
          `tar header at offset ${at}`,
          `global PAX records exceed ${this.#limits.maxHeaderSize} bytes`,
          'maxHeaderSize',
        );
      }
    } else if (this.#metaKind === 'L') this.#longName = Buffer.from(cString(data, 0, data.length));
    else if (this.#metaKind === 'K') this.#longLink = Buffer.from(cString(data, 0, data.length));
  }

  #startSection(state: 'data' | 'meta', size: number): void {
    this.#padding = paddingFor(size);
    this.#state = state;
    this.#remaining = size;
    if (size === 0) this.#afterSection();
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
    if (!checksumOk(b)) {
      throw new LayerError(
        'IMG_LAYER_INVALID_TAR',
        `bad header checksum at offset ${at} (not a tar archive?)`,
      );
    }
    const flag = String.fromCharCode(b[156]!);
    const headerSize = parseUnsignedField(b, 124, 12, 'size', at);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      this.#pendingMeta += headerSize;
      const max = this.#limits.maxHeaderSize;
      if (headerSize > max || this.#pendingMeta > max) {
        throw limitExceeded(
          `tar header at offset ${at}`,
          `${flag === 'L' || flag === 'K' ? 'GNU long name' : 'PAX header'} data of ${this.#pendingMeta} bytes exceeds ${max}`,
          'maxHeaderSize',
        );
      }
      this.#metaKind = flag;
      this.#metaAt = at;
      this.#startSection('meta', headerSize);
      return;
    }
    const type = TYPES[flag];
    if (type === undefined) {
      throw new LayerError(
        'IMG_LAYER_INVALID_TAR',
        `unsupported tar entry type ${JSON.stringify(flag)} at offset ${at}`,
      );
    }
    if (++this.#entries > this.#limits.maxEntries) {
      throw limitExceeded(
        `tar entry at offset ${at}`,
        `more than ${this.#limits.maxEntries} entries`,
        'maxEntries',
      );
    }
    const pax = this.#global.size === 0 ? this.#local : new Map([...this.#global, ...this.#local]);
    if (this.#local.size > 0) this.#local = new Map();
    this.#pendingMeta = 0;
    const entry = decodeEntry(
      b,
      at,
      { type, headerSize, pax, longName: this.#longName, longLink: this.#longLink },
      this.#limits,
    );
    this.#longName = undefined;
    this.#longLink = undefined;
    this.#namesSize += Buffer.byteLength(entry.name) + Buffer.byteLength(entry.linkname);
    if (this.#namesSize > this.#limits.maxNamesSize) {
      throw limitExceeded(
        `tar entry at offset ${at}`,
        `entry names and link targets exceed ${this.#limits.maxNamesSize} bytes in total`,
        'maxNamesSize',
      );
    }
    this.#h.onEntry(entry);
    // As Go's archive/tar: links, directories, devices and FIFOs are header-only whatever their size field.
    this.#deliver = entry.type === 'file';
    this.#startSection('data', entry.size);
  }
}

export { parsePaxRecords } from './pax-records.js';
