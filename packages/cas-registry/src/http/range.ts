import { HttpError } from './http-error.js';

/** A satisfiable byte range: `length` bytes from `offset`. */
export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

const RANGE_RE = /^bytes=(\d*)-(\d*)$/;

function unsatisfiable(size: number): HttpError {
  return new HttpError(416, 'BLOB_UNKNOWN', `requested range not satisfiable (blob has ${size} bytes)`, {
    headers: { 'Content-Range': `bytes */${size}` },
  });
}

/**
 * The range a `Range` header asks of a blob of `size` bytes (RFC 9110 section 14): undefined for the
 * whole blob (no header, or one we do not serve ranges for: several ranges or another unit), a 416
 * HttpError when it cannot be satisfied (start past the end, or last before first).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = RANGE_RE.exec(header.replace(/\s+/g, ''));
  if (!m) return undefined;
  const [, first, last] = m as unknown as [string, string, string];
  if (first === '' && last === '') return undefined;
  if (first === '') {
    // Suffix: the final N bytes.
    const n = Number(last);
    if (n === 0 || size === 0) throw unsatisfiable(size);
    const length = Math.min(n, size);
    return { offset: size - length, length };
  }
  const start = Number(first);
  if (start >= size) throw unsatisfiable(size);
  const end = last === '' ? size - 1 : Number(last);
  if (end < start) throw unsatisfiable(size);
  return { offset: start, length: Math.min(end, size - 1) - start + 1 };
}
