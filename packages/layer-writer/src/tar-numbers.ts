import { LayerError } from './errors.js';

function invalid(message: string): LayerError {
  return new LayerError('IMG_LAYER_INVALID_TAR', message);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A numeric header field: octal text (leading/trailing spaces and NULs ignored, empty = 0) or GNU
 * base-256 (top bit of the first byte set; two's complement, so it may be negative). Values outside
 * the safe integer range are refused: a number we cannot represent exactly could move the parser to
 * the wrong offset.
 */
export function parseNumericField(b: Buffer, start: number, len: number, what: string, at: number): number {
  const first = b[start]!;
  if (first & 0x80) {
    let value = BigInt(first & 0x7f);
    for (let i = start + 1; i < start + len; i++) value = (value << 8n) | BigInt(b[i]!);
    if (first & 0x40) value -= 1n << BigInt(8 * len - 1);
    if (value > MAX_SAFE || value < -MAX_SAFE) {
      throw invalid(`${what} field of the header at offset ${at} is out of range`);
    }
    return Number(value);
  }
  let lo = start;
  let hi = start + len;
  while (lo < hi && (b[lo] === 0x20 || b[lo] === 0)) lo++;
  while (hi > lo && (b[hi - 1] === 0x20 || b[hi - 1] === 0)) hi--;
  let value = 0;
  for (let i = lo; i < hi; i++) {
    const digit = b[i]! - 0x30;
    if (digit < 0 || digit > 7) {
      const text = b.subarray(start, start + len).toString('latin1');
      throw invalid(`invalid ${what} field ${JSON.stringify(text)} in the header at offset ${at}`);
    }
    value = value * 8 + digit;
  }
  // At most 12 octal digits (36 bits): always exact.
  return value;
}

/** As parseNumericField, for fields that must not be negative (size, uid, gid, device numbers). */
export function parseUnsignedField(b: Buffer, start: number, len: number, what: string, at: number): number {
  const value = parseNumericField(b, start, len, what, at);
  if (value < 0) throw invalid(`negative ${what} ${value} in the header at offset ${at}`);
  return value;
}

const UNSIGNED = /^[0-9]{1,16}$/;
const TIME = /^-?[0-9]{1,16}(\.[0-9]*)?$/;

/** A PAX `size`, `uid` or `gid` record: decimal digits only, a safe integer. */
export function parsePaxUnsigned(value: string, key: string, where: string): number {
  const n = UNSIGNED.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw invalid(`${where}: invalid PAX ${key} ${JSON.stringify(value)}`);
  return n;
}

/** A PAX `mtime` record (`[-]seconds[.fraction]`), rounded down to whole seconds. */
export function parsePaxTime(value: string, where: string): number {
  const n = TIME.test(value) ? Math.floor(Number(value)) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw invalid(`${where}: invalid PAX mtime ${JSON.stringify(value)}`);
  return n;
}
