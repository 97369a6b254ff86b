import { isUtf8 } from 'node:buffer';
import { LayerError } from './errors.js';

/** Digits of a record's length field we look at before giving up (no real record is that long). */
const MAX_LENGTH_DIGITS = 16;
/** Keys whose values must not contain NUL (as Go's archive/tar). */
const TEXT_KEYS = new Set(['path', 'linkpath', 'uname', 'gname']);

function invalid(at: number, why: string): LayerError {
  return new LayerError('IMG_LAYER_INVALID_TAR', `invalid PAX record in the header at offset ${at}: ${why}`);
}

/**
 * The records `"%d key=value\n"` of a PAX extended header, in order, values as raw bytes (they need
 * not be UTF-8: GNU tar stores xattr values verbatim). Trailing NUL padding is ignored. Every record
 * advances by its declared length (at least 5 bytes), so the loop ends.
 */
export function parsePaxRecordBytes(data: Buffer, at: number): Array<[key: string, value: Buffer]> {
  const out: Array<[string, Buffer]> = [];
  let off = 0;
  while (off < data.length) {
    if (data[off] === 0) {
      for (let i = off; i < data.length; i++) if (data[i] !== 0) throw invalid(at, 'data after NUL padding');
      break;
    }
    const space = data.subarray(off, off + MAX_LENGTH_DIGITS + 1).indexOf(0x20);
    const digits = space <= 0 ? '' : data.subarray(off, off + space).toString('latin1');
    if (!/^[0-9]+$/.test(digits)) throw invalid(at, `bad length at byte ${off}`);
    const len = Number(digits);
    if (len < digits.length + 4 || len > data.length - off) {
      throw invalid(at, `length ${len} at byte ${off} does not fit`);
    }
    const end = off + len;
    if (data[end - 1] !== 0x0a) throw invalid(at, `record at byte ${off} does not end in a newline`);
    const record = data.subarray(off + space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw invalid(at, `record at byte ${off} has no key`);
    const keyBytes = record.subarray(0, eq);
    if (!isUtf8(keyBytes) || keyBytes.includes(0)) throw invalid(at, `record at byte ${off} has a bad key`);
    const key = keyBytes.toString('utf8');
    const value = record.subarray(eq + 1);
    if (TEXT_KEYS.has(key) && value.includes(0)) throw invalid(at, `${key} contains a NUL byte`);
    out.push([key, value]);
    off = end;
  }
  return out;
}

/** Parse PAX records `"%d key=value\n"` (values decoded as UTF-8; later records win). */
export function parsePaxRecords(data: Buffer, at: number): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [key, value] of parsePaxRecordBytes(data, at)) out[key] = value.toString('utf8');
  return out;
}
