// CRC-32 (gzip's, reflected polynomial 0xedb88320) of a concatenation from the CRCs of its parts:
// zlib's crc32_combine (1.2.12+), i.e. multiplying by x^(8*len) modulo the polynomial in GF(2).

const POLY = 0xedb88320;

/** a * b modulo the CRC polynomial (both reflected; a must be non-zero). */
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** X2N[k] = x^(2^k) modulo the polynomial. */
const X2N: number[] = [];
{
  let p = 0x40000000; // x^1
  X2N.push(p);
  for (let k = 1; k < 32; k++) {
    p = multModP(p, p);
    X2N.push(p);
  }
}

/** x^(n * 2^k) modulo the polynomial. */
function x2nModP(n: number, k: number): number {
  let p = 0x80000000; // x^0
  while (n > 0) {
    if (n % 2 === 1) p = multModP(X2N[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

let cachedLength = -1;
let cachedOp = 0;

/** CRC-32 of A followed by B, given crc(A), crc(B) and B's length in bytes. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (lengthB !== cachedLength) {
    cachedOp = x2nModP(lengthB, 3);
    cachedLength = lengthB;
  }
  return (multModP(cachedOp, crcA >>> 0) ^ crcB) >>> 0;
}
